#pragma once
// Conversations, their message trees, search and app settings, on top of a Database.
//
// Same threading rule as Database: a store is used from the thread that owns its
// Database. Methods are synchronous; every one that writes more than one row does so in a
// single transaction, so a failure (constraint, disk full, killed process) never leaves a
// half-written conversation behind.
//
// Messages form a tree per conversation: a message's siblings share its parent (first-level
// messages have none), ordered by id. Editing a message or regenerating a reply adds a
// sibling; the conversation's current leaf says which branch is on screen, and the visible
// branch is the path from the first-level message down to that leaf.

#include "app/storage/database.h"
#include "app/storage/storage_types.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace fm {

class ConversationStore {
public:
    // `database` must be open at the latest schema version and outlive the store.
    explicit ConversationStore(Database& database);

    Database& database() { return db_; }

    // Where timestamps come from (milliseconds since the epoch). Tests install a fake
    // clock. Timestamps handed out are strictly increasing so that "last activity"
    // ordering is exact even for several writes within one millisecond.
    void setClock(std::function<qint64()> nowMs);

    // ---- Conversations -------------------------------------------------------------------
    Result<Conversation> createConversation(const QString& title, const ConversationOptions& options = {});
    // Creates a conversation with a linear chain of messages (each NewMessage::parentId is
    // ignored: every message follows the previous one), all or nothing.
    Result<Conversation> importConversation(const QString& title, const ConversationOptions& options,
                                            const QList<NewMessage>& messages);
    // Soft-deleted conversations are returned too (see Conversation::isDeleted()).
    Result<Conversation> conversation(qint64 id);
    // Live conversations, most recent activity first; limit < 0 means all.
    Result<QList<Conversation>> listConversations(int limit = -1);
    // Soft-deleted conversations, most recently deleted first (for a "trash" view).
    Result<QList<Conversation>> deletedConversations();
    // Renaming is not "activity": it does not move the conversation in the list.
    Status renameConversation(qint64 id, const QString& title);
    Status setConversationOptions(qint64 id, const ConversationOptions& options);
    // Soft delete: hidden from the list and search until undone or purged.
    Status deleteConversation(qint64 id);
    Status undoDeleteConversation(qint64 id);
    // Permanently removes the conversation with its messages and snapshot rows. Returns the
    // snapshot files that were referenced, for the caller to delete from disk (the store
    // never touches files; a failed file removal must not resurrect rows).
    Result<QStringList> purgeConversation(qint64 id);
    // Purges every conversation soft-deleted before `cutoffMs` (housekeeping at startup).
    Result<QStringList> purgeDeletedBefore(qint64 cutoffMs);

    // ---- Messages ------------------------------------------------------------------------
    // Adds a message under NewMessage::parentId (0: under the current leaf), makes it the
    // current leaf and bumps the conversation's last activity.
    Result<Message> appendMessage(qint64 conversationId, const NewMessage& message);
    Result<Message> message(qint64 id);
    // The visible branch: first-level message to current leaf, with sibling positions.
    Result<QList<BranchMessage>> pathToLeaf(qint64 conversationId);
    // First-level message down to `messageId` (what a prompt for that point is built from).
    Result<QList<BranchMessage>> pathTo(qint64 messageId);
    // All messages sharing `messageId`'s parent, itself included, oldest first.
    Result<QList<Message>> siblings(qint64 messageId);
    // Shows the branch through `messageId`: the current leaf becomes its most recent
    // descendant (or itself). Returns the new leaf id. Used for "< 2/3 >" navigation.
    Result<qint64> switchToBranch(qint64 messageId);
    // Editing keeps the original: the edited text becomes a new sibling (same parent and
    // role) that is the new current leaf; the old branch stays reachable.
    Result<Message> editMessage(qint64 messageId, const QString& newContent);

    // ---- Streamed replies ----------------------------------------------------------------
    // An empty assistant message with status 'streaming' under `parentId` (0: the current
    // leaf). Regenerating = beginning another one under the same user message.
    Result<Message> beginAssistantMessage(qint64 conversationId, qint64 parentId = 0, const QString& model = {},
                                          const GenerationSettings& settings = {});
    // Replaces the text of a streaming message. One single-row UPDATE, no re-indexing
    // (streaming messages are not in the search index): cheap enough for once a second.
    Status updateStreamingContent(qint64 messageId, const QString& text);
    // Settles a message: status (not Streaming), token counts, and optionally the final
    // text; bumps the conversation's activity. The message enters the search index here.
    Status finishMessage(qint64 messageId, MessageStatus status, const TokenCounts& tokens,
                         const std::optional<QString>& finalContent = std::nullopt);
    // Call once at startup, before any generation: replies cut off by a crash or a killed
    // process are kept with the text saved so far and marked 'interrupted'. Returns how
    // many were marked.
    Result<int> markInterruptedOnStartup();

    // ---- Search --------------------------------------------------------------------------
    // Live conversations whose title or settled messages match `query` (free text, any
    // characters; see ftsMatchExpression). Title matches first (most recently active
    // first), then conversations by their most recent matching message. Snippets come from
    // that message, or are the highlighted title. limit < 0 means no limit.
    Result<QList<SearchHit>> search(const QString& query, int limit = 50);

    // ---- App-wide settings (key -> text; callers encode structured values as JSON) -------
    Result<std::optional<QString>> setting(const QString& key);
    Status setSetting(const QString& key, const QString& value);
    Status removeSetting(const QString& key);

    // ---- Recurrent-state snapshots (rows only; the files are the caller's) ---------------
    Result<StateSnapshot> addStateSnapshot(const StateSnapshot& snapshot);
    Result<QList<StateSnapshot>> stateSnapshots(qint64 conversationId);

private:
    qint64 now();
    Result<Message> insertMessage(qint64 conversationId, const NewMessage& message, qint64 parentId);
    Result<QStringList> purgeWhere(const QString& condition, const QVariantList& bindings);
    Status expectOneRow(const Result<QSqlQuery>& query, const QString& what, qint64 id);

    Database& db_;
    std::function<qint64()> clock_;
    qint64 lastTimestamp_ = 0;
};

}  // namespace fm
