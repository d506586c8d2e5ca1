#pragma once
// Writes conversations read from an export file into the database: all of them or none.

#include "app/export/conversation_archive.h"

#include <QList>
#include <QString>

namespace fm {

struct ImportSummary {
    QList<qint64> conversationIds;  // the new rows, in file order
    int messageCount = 0;
};

// `archives` as returned by conversationsFromJson (local ids). Everything is inserted in one
// transaction with new ids and the file's timestamps, titles, options, statuses and token
// counts; siblings keep their order. Nothing is written when any insert fails.
Result<ImportSummary> writeImportedConversations(Database& db, const QList<ConversationArchive>& archives);

// Reads, validates and writes a JSON export file. The database is untouched unless the whole
// file is valid; errors start with the file's path.
Result<ImportSummary> importConversationsFile(Database& db, const QString& path);

}  // namespace fm
