#include "app/storage/conversation_store.h"

#include <QDateTime>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>

namespace fm {
namespace {

const QString kConversationColumns = QStringLiteral(
    "c.id, c.title, c.created_at, c.updated_at, c.system_prompt, c.settings, c.model, c.mode, "
    "c.current_leaf_message_id, c.deleted_at");

const QString kMessageColumns = QStringLiteral(
    "m.id, m.conversation_id, m.parent_id, m.role, m.content, m.created_at, m.updated_at, "
    "m.status, m.prompt_tokens, m.completion_tokens, m.model, m.settings");
constexpr int kMessageColumnCount = 12;

// NULL for "none" (id 0, empty JSON) so that SQL sees a real absence, not a zero.
QVariant idOrNull(qint64 id) {
    return id > 0 ? QVariant(id) : QVariant();
}

QVariant textOrNull(const QString& text) {
    return text.isEmpty() ? QVariant() : QVariant(text);
}

// Qt binds a null QString as SQL NULL; NOT NULL text columns want '' for "nothing".
QVariant text(const QString& value) {
    return value.isNull() ? QVariant(QLatin1String("")) : QVariant(value);
}

QVariant optionalInt(const std::optional<int>& value) {
    return value ? QVariant(*value) : QVariant();
}

std::optional<int> readOptionalInt(const QVariant& value) {
    return value.isNull() ? std::nullopt : std::optional<int>(value.toInt());
}

Conversation readConversation(const QSqlQuery& q) {
    Conversation c;
    c.id = q.value(0).toLongLong();
    c.title = q.value(1).toString();
    c.createdAtMs = q.value(2).toLongLong();
    c.updatedAtMs = q.value(3).toLongLong();
    c.options.systemPrompt = q.value(4).toString();
    c.options.settings = GenerationSettings::fromJsonText(q.value(5).toString());
    c.options.model = q.value(6).toString();
    c.options.mode = conversationModeFromText(q.value(7).toString()).value_or(ConversationMode::Chat);
    c.currentLeafMessageId = q.value(8).toLongLong();
    if (!q.value(9).isNull()) {
        c.deletedAtMs = q.value(9).toLongLong();
    }
    return c;
}

Message readMessage(const QSqlQuery& q, int first = 0) {
    Message m;
    m.id = q.value(first + 0).toLongLong();
    m.conversationId = q.value(first + 1).toLongLong();
    m.parentId = q.value(first + 2).toLongLong();
    m.role = messageRoleFromText(q.value(first + 3).toString()).value_or(MessageRole::User);
    m.content = q.value(first + 4).toString();
    m.createdAtMs = q.value(first + 5).toLongLong();
    m.updatedAtMs = q.value(first + 6).toLongLong();
    m.status = messageStatusFromText(q.value(first + 7).toString()).value_or(MessageStatus::Complete);
    m.tokens.prompt = readOptionalInt(q.value(first + 8));
    m.tokens.completion = readOptionalInt(q.value(first + 9));
    m.model = q.value(first + 10).toString();
    m.settings = GenerationSettings::fromJsonText(q.value(first + 11).toString());
    return m;
}

// The one row that `id` names, or "no <what> with id <id>" when there is none.
template <typename T>
Result<T> onlyRow(Database& db, const Result<QList<T>>& rows, const char* what, qint64 id) {
    if (!rows) {
        return Error{rows.error()};
    }
    if (rows->isEmpty()) {
        return db.fail(QStringLiteral("no %1 with id %2").arg(QLatin1String(what), QString::number(id)));
    }
    return rows->first();
}

}  // namespace

ConversationStore::ConversationStore(Database& database)
    : db_(database), clock_([] { return QDateTime::currentMSecsSinceEpoch(); }) {}

void ConversationStore::setClock(std::function<qint64()> nowMs) {
    clock_ = std::move(nowMs);
    lastTimestamp_ = 0;
}

qint64 ConversationStore::now() {
    lastTimestamp_ = std::max(clock_(), lastTimestamp_ + 1);
    return lastTimestamp_;
}

Status ConversationStore::expectOneRow(const Result<QSqlQuery>& query, const QString& what, qint64 id) {
    if (!query) {
        return query.status();
    }
    if (query->numRowsAffected() < 1) {
        return db_.fail(QStringLiteral("no %1 with id %2").arg(what).arg(id));
    }
    return {};
}

// ---- Conversations ---------------------------------------------------------------------

Result<Conversation> ConversationStore::createConversation(const QString& title, const ConversationOptions& options) {
    return importConversation(title, options, {});
}

Result<Conversation> ConversationStore::importConversation(const QString& title, const ConversationOptions& options,
                                                           const QList<NewMessage>& messages) {
    qint64 id = 0;
    const Status status = db_.transaction([&]() -> Status {
        const qint64 t = now();
        Result<QSqlQuery> insert =
            db_.exec(QStringLiteral("INSERT INTO conversations (title, created_at, updated_at, "
                                    "system_prompt, settings, model, mode) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                     {text(title), t, t, text(options.systemPrompt), textOrNull(options.settings.toJsonText()),
                      text(options.model), toText(options.mode)});
        if (!insert) {
            return insert.status();
        }
        id = insert->lastInsertId().toLongLong();
        qint64 parent = 0;
        for (const NewMessage& message : messages) {
            Result<Message> added = insertMessage(id, message, parent);
            if (!added) {
                return added.status();
            }
            parent = added->id;
        }
        return {};
    });
    if (!status) {
        return Error{status.error()};
    }
    return conversation(id);
}

Result<Conversation> ConversationStore::conversation(qint64 id) {
    Result<QList<Conversation>> rows = readAll<Conversation>(
        db_.exec(QStringLiteral("SELECT %1 FROM conversations AS c WHERE c.id = ?").arg(kConversationColumns), {id}),
        readConversation);
    return onlyRow(db_, rows, "conversation", id);
}

Result<QList<Conversation>> ConversationStore::listConversations(int limit) {
    // Matches the partial index conversations_by_activity exactly: no sort step.
    return readAll<Conversation>(db_.exec(QStringLiteral("SELECT %1 FROM conversations AS c WHERE c.deleted_at IS NULL "
                                                         "ORDER BY c.updated_at DESC, c.id DESC LIMIT ?")
                                              .arg(kConversationColumns),
                                          {limit < 0 ? -1 : limit}),
                                 readConversation);
}

Result<QList<Conversation>> ConversationStore::deletedConversations() {
    return readAll<Conversation>(
        db_.exec(QStringLiteral("SELECT %1 FROM conversations AS c WHERE c.deleted_at IS NOT NULL "
                                "ORDER BY c.deleted_at DESC, c.id DESC")
                     .arg(kConversationColumns)),
        readConversation);
}

Status ConversationStore::renameConversation(qint64 id, const QString& title) {
    return expectOneRow(db_.exec(QStringLiteral("UPDATE conversations SET title = ? WHERE id = ?"), {text(title), id}),
                        QStringLiteral("conversation"), id);
}

Status ConversationStore::setConversationOptions(qint64 id, const ConversationOptions& options) {
    return expectOneRow(db_.exec(QStringLiteral("UPDATE conversations SET system_prompt = ?, settings = ?, "
                                                "model = ?, mode = ? WHERE id = ?"),
                                 {text(options.systemPrompt), textOrNull(options.settings.toJsonText()),
                                  text(options.model), toText(options.mode), id}),
                        QStringLiteral("conversation"), id);
}

Status ConversationStore::deleteConversation(qint64 id) {
    return expectOneRow(db_.exec(QStringLiteral("UPDATE conversations SET deleted_at = ? "
                                                "WHERE id = ? AND deleted_at IS NULL"),
                                 {now(), id}),
                        QStringLiteral("live conversation"), id);
}

Status ConversationStore::undoDeleteConversation(qint64 id) {
    return expectOneRow(db_.exec(QStringLiteral("UPDATE conversations SET deleted_at = NULL "
                                                "WHERE id = ? AND deleted_at IS NOT NULL"),
                                 {id}),
                        QStringLiteral("deleted conversation"), id);
}

Result<QStringList> ConversationStore::purgeWhere(const QString& condition, const QVariantList& bindings) {
    QStringList files;
    const Status status = db_.transaction([&]() -> Status {
        Result<QSqlQuery> paths =
            db_.exec(QStringLiteral("SELECT s.file_path FROM state_snapshots AS s "
                                    "JOIN conversations AS c ON c.id = s.conversation_id WHERE %1")
                         .arg(condition),
                     bindings);
        if (!paths) {
            return paths.status();
        }
        while (paths->next()) {
            files.append(paths->value(0).toString());
        }
        paths->finish();
        // Cascades to messages (and their search entries, through the triggers) and to
        // state_snapshots.
        Result<QSqlQuery> erase = db_.exec(QStringLiteral("DELETE FROM conversations WHERE id IN "
                                                          "(SELECT c.id FROM conversations AS c WHERE %1)")
                                               .arg(condition),
                                           bindings);
        return erase ? Status{} : erase.status();
    });
    if (!status) {
        return Error{status.error()};
    }
    return files;
}

Result<QStringList> ConversationStore::purgeConversation(qint64 id) {
    if (Result<Conversation> existing = conversation(id); !existing) {
        return Error{existing.error()};
    }
    return purgeWhere(QStringLiteral("c.id = ?"), {id});
}

Result<QStringList> ConversationStore::purgeDeletedBefore(qint64 cutoffMs) {
    return purgeWhere(QStringLiteral("c.deleted_at IS NOT NULL AND c.deleted_at < ?"), {cutoffMs});
}

// ---- Messages --------------------------------------------------------------------------

Result<Message> ConversationStore::insertMessage(qint64 conversationId, const NewMessage& message, qint64 parentId) {
    const qint64 t = now();
    Result<QSqlQuery> insert =
        db_.exec(QStringLiteral("INSERT INTO messages (conversation_id, parent_id, role, content, "
                                "created_at, updated_at, status, prompt_tokens, completion_tokens, model, "
                                "settings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                 {conversationId, idOrNull(parentId), toText(message.role), text(message.content), t, t,
                  toText(message.status), optionalInt(message.tokens.prompt), optionalInt(message.tokens.completion),
                  textOrNull(message.model), textOrNull(message.settings.toJsonText())});
    if (!insert) {
        return Error{insert.error()};
    }
    Message added;
    added.id = insert->lastInsertId().toLongLong();
    added.conversationId = conversationId;
    added.parentId = parentId;
    added.role = message.role;
    added.content = message.content;
    added.createdAtMs = t;
    added.updatedAtMs = t;
    added.status = message.status;
    added.tokens = message.tokens;
    added.model = message.model;
    added.settings = message.settings;

    Result<QSqlQuery> touch =
        db_.exec(QStringLiteral("UPDATE conversations SET updated_at = ?, current_leaf_message_id = ? "
                                "WHERE id = ?"),
                 {t, added.id, conversationId});
    if (!touch) {
        return Error{touch.error()};
    }
    return added;
}

Result<Message> ConversationStore::appendMessage(qint64 conversationId, const NewMessage& message) {
    return db_.transactionFor<Message>([&]() -> Result<Message> {
        qint64 parent = message.parentId;
        if (parent == 0) {
            Result<Conversation> owner = conversation(conversationId);
            if (!owner) {
                return owner.status();
            }
            parent = owner->currentLeafMessageId;
        }
        return insertMessage(conversationId, message, parent);
    });
}

Result<Message> ConversationStore::message(qint64 id) {
    Result<QList<Message>> rows = readAll<Message>(
        db_.exec(QStringLiteral("SELECT %1 FROM messages AS m WHERE m.id = ?").arg(kMessageColumns), {id}),
        [](const QSqlQuery& q) { return readMessage(q); });
    return onlyRow(db_, rows, "message", id);
}

Result<QList<BranchMessage>> ConversationStore::pathToLeaf(qint64 conversationId) {
    Result<Conversation> owner = conversation(conversationId);
    if (!owner) {
        return Error{owner.error()};
    }
    if (owner->currentLeafMessageId == 0) {
        return QList<BranchMessage>{};
    }
    return pathTo(owner->currentLeafMessageId);
}

Result<QList<BranchMessage>> ConversationStore::pathTo(qint64 messageId) {
    // Walk up from the message to the first level, then count each step's siblings through
    // the messages_tree index (conversation, parent, id). `IS` so that NULL parents (the
    // first-level messages) compare equal.
    const QString sql = QStringLiteral(R"sql(
WITH RECURSIVE path (id, depth) AS (
    SELECT ?, 0
    UNION ALL
    SELECT m.parent_id, path.depth + 1 FROM messages AS m JOIN path ON m.id = path.id
    WHERE m.parent_id IS NOT NULL
)
SELECT %1,
    (SELECT count(*) FROM messages AS s
      WHERE s.conversation_id = m.conversation_id AND s.parent_id IS m.parent_id AND s.id < m.id),
    (SELECT count(*) FROM messages AS s
      WHERE s.conversation_id = m.conversation_id AND s.parent_id IS m.parent_id)
FROM path JOIN messages AS m ON m.id = path.id
ORDER BY path.depth DESC)sql")
                            .arg(kMessageColumns);
    Result<QList<BranchMessage>> path = readAll<BranchMessage>(db_.exec(sql, {messageId}), [](const QSqlQuery& q) {
        BranchMessage entry;
        entry.message = readMessage(q);
        entry.siblingIndex = q.value(kMessageColumnCount).toInt();
        entry.siblingCount = q.value(kMessageColumnCount + 1).toInt();
        return entry;
    });
    if (path && path->isEmpty()) {
        return db_.fail(QStringLiteral("no message with id %1").arg(messageId));
    }
    return path;
}

Result<QList<Message>> ConversationStore::siblings(qint64 messageId) {
    Result<QList<Message>> rows =
        readAll<Message>(db_.exec(QStringLiteral("SELECT %1 FROM messages AS self JOIN messages AS m "
                                                 "ON m.conversation_id = self.conversation_id "
                                                 "AND m.parent_id IS self.parent_id "
                                                 "WHERE self.id = ? ORDER BY m.id")
                                      .arg(kMessageColumns),
                                  {messageId}),
                         [](const QSqlQuery& q) { return readMessage(q); });
    if (rows && rows->isEmpty()) {
        return db_.fail(QStringLiteral("no message with id %1").arg(messageId));
    }
    return rows;
}

Result<qint64> ConversationStore::switchToBranch(qint64 messageId) {
    return db_.transactionFor<qint64>([&]() -> Result<qint64> {
        // The newest message in the subtree is necessarily a leaf (children are created
        // after their parents), and it is where the user left that branch.
        Result<QVariant> latest = db_.scalar(QStringLiteral(R"sql(
WITH RECURSIVE subtree (id) AS (
    SELECT id FROM messages WHERE id = ?
    UNION ALL
    SELECT m.id FROM messages AS m JOIN subtree ON m.parent_id = subtree.id
)
SELECT max(id) FROM subtree)sql"),
                                             {messageId});
        if (!latest) {
            return latest.status();
        }
        if (latest->isNull()) {
            return db_.fail(QStringLiteral("no message with id %1").arg(messageId));
        }
        const qint64 leaf = latest->toLongLong();
        Result<QSqlQuery> update =
            db_.exec(QStringLiteral("UPDATE conversations SET current_leaf_message_id = ? "
                                    "WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)"),
                     {leaf, leaf});
        if (!update) {
            return update.status();
        }
        return leaf;
    });
}

Result<Message> ConversationStore::editMessage(qint64 messageId, const QString& newContent) {
    return db_.transactionFor<Message>([&]() -> Result<Message> {
        Result<Message> original = message(messageId);
        if (!original) {
            return original.status();
        }
        NewMessage edited;
        edited.role = original->role;
        edited.content = newContent;
        return insertMessage(original->conversationId, edited, original->parentId);
    });
}

// ---- Streamed replies ------------------------------------------------------------------

Result<Message> ConversationStore::beginAssistantMessage(qint64 conversationId, qint64 parentId, const QString& model,
                                                         const GenerationSettings& settings) {
    NewMessage reply;
    reply.role = MessageRole::Assistant;
    reply.parentId = parentId;
    reply.status = MessageStatus::Streaming;
    reply.model = model;
    reply.settings = settings;
    return appendMessage(conversationId, reply);
}

Status ConversationStore::updateStreamingContent(qint64 messageId, const QString& newText) {
    return expectOneRow(db_.exec(QStringLiteral("UPDATE messages SET content = ?, updated_at = ? "
                                                "WHERE id = ? AND status = 'streaming'"),
                                 {text(newText), now(), messageId}),
                        QStringLiteral("streaming message"), messageId);
}

Status ConversationStore::finishMessage(qint64 messageId, MessageStatus status, const TokenCounts& tokens,
                                        const std::optional<QString>& finalContent) {
    if (status == MessageStatus::Streaming) {
        return db_.fail(QStringLiteral("finishMessage needs a final status, not 'streaming'"));
    }
    return db_.transaction([&]() -> Status {
        const qint64 t = now();
        const Status updated =
            expectOneRow(db_.exec(QStringLiteral("UPDATE messages SET status = ?, prompt_tokens = ?, "
                                                 "completion_tokens = ?, content = coalesce(?, content), "
                                                 "updated_at = ? WHERE id = ?"),
                                  {toText(status), optionalInt(tokens.prompt), optionalInt(tokens.completion),
                                   finalContent ? text(*finalContent) : QVariant(), t, messageId}),
                         QStringLiteral("message"), messageId);
        if (!updated) {
            return updated;
        }
        Result<QSqlQuery> touch =
            db_.exec(QStringLiteral("UPDATE conversations SET updated_at = ? "
                                    "WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)"),
                     {t, messageId});
        return touch ? Status{} : touch.status();
    });
}

Result<int> ConversationStore::markInterruptedOnStartup() {
    Result<QSqlQuery> update = db_.exec(QStringLiteral("UPDATE messages SET status = 'interrupted', updated_at = ? "
                                                       "WHERE status = 'streaming'"),
                                        {now()});
    if (!update) {
        return Error{update.error()};
    }
    return update->numRowsAffected();
}

// ---- Settings --------------------------------------------------------------------------

Result<std::optional<QString>> ConversationStore::setting(const QString& key) {
    Result<QSqlQuery> q = db_.exec(QStringLiteral("SELECT value FROM settings WHERE key = ?"), {key});
    if (!q) {
        return Error{q.error()};
    }
    if (!q->next()) {
        return std::optional<QString>{};
    }
    return std::optional<QString>(q->value(0).toString());
}

Status ConversationStore::setSetting(const QString& key, const QString& value) {
    Result<QSqlQuery> q = db_.exec(QStringLiteral("INSERT INTO settings (key, value) VALUES (?, ?) "
                                                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
                                   {text(key), text(value)});
    return q ? Status{} : q.status();
}

Status ConversationStore::removeSetting(const QString& key) {
    Result<QSqlQuery> q = db_.exec(QStringLiteral("DELETE FROM settings WHERE key = ?"), {key});
    return q ? Status{} : q.status();
}

// ---- Snapshots -------------------------------------------------------------------------

Result<StateSnapshot> ConversationStore::addStateSnapshot(const StateSnapshot& snapshot) {
    StateSnapshot stored = snapshot;
    stored.createdAtMs = now();
    Result<QSqlQuery> insert = db_.exec(
        QStringLiteral("INSERT INTO state_snapshots (conversation_id, message_id, kind, "
                       "fingerprint, file_path, byte_size, checksum, token_count, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        {snapshot.conversationId, idOrNull(snapshot.messageId), text(snapshot.kind), text(snapshot.fingerprint),
         text(snapshot.filePath), snapshot.byteSize, text(snapshot.checksum), snapshot.tokenCount, stored.createdAtMs});
    if (!insert) {
        return Error{insert.error()};
    }
    stored.id = insert->lastInsertId().toLongLong();
    return stored;
}

Result<QList<StateSnapshot>> ConversationStore::stateSnapshots(qint64 conversationId) {
    return readAll<StateSnapshot>(
        db_.exec(QStringLiteral("SELECT %1 FROM state_snapshots AS s WHERE s.conversation_id = ? ORDER BY s.id")
                     .arg(kStateSnapshotColumns),
                 {conversationId}),
        stateSnapshotFromRow);
}

}  // namespace fm
