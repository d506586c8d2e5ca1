#pragma once
// A conversation with every message of its tree: what an export holds and what an import
// rebuilds. Also the in-memory form of a parsed import file, where the ids are the file's
// local ids (Message::id, Message::parentId, Conversation::currentLeafMessageId) instead of
// database rows.

#include "app/storage/database.h"
#include "app/storage/error_text.h"
#include "app/storage/storage_types.h"

#include <QList>

namespace fm {

struct ConversationArchive {
    Conversation conversation;
    QList<Message> messages;  // the whole tree, oldest first (parents before children)

    // The branch on screen: first-level message down to the current leaf. Empty when the
    // conversation has no current leaf. Stops (instead of looping) on a broken parent chain.
    QList<Message> visibleBranch() const;
};

// Reads one conversation (soft-deleted ones too) with all its messages, in one read
// transaction so a reply being written meanwhile cannot tear the snapshot.
Result<ConversationArchive> loadConversationArchive(Database& db, qint64 conversationId);

// Every live (not soft-deleted) conversation, most recently active first.
Result<QList<ConversationArchive>> loadAllConversationArchives(Database& db);

}  // namespace fm
