#include "app/export/conversation_archive.h"

#include "app/storage/conversation_store.h"

#include <QHash>
#include <QSqlQuery>
#include <QVariant>

#include <functional>

namespace fm {
namespace {

std::optional<int> optionalInt(const QVariant& value) {
    return value.isNull() ? std::nullopt : std::optional<int>(value.toInt());
}

// The store reads messages one branch at a time; an export needs the whole tree, so this is
// our own query on the same columns.
Result<QList<Message>> loadMessages(Database& db, qint64 conversationId) {
    Result<QSqlQuery> q =
        db.exec(QStringLiteral("SELECT id, conversation_id, parent_id, role, content, created_at, "
                               "updated_at, status, prompt_tokens, completion_tokens, model, settings "
                               "FROM messages WHERE conversation_id = ? ORDER BY id"),
                {conversationId});
    if (!q) {
        return Error{q.error()};
    }
    QList<Message> messages;
    while (q->next()) {
        Message m;
        m.id = q->value(0).toLongLong();
        m.conversationId = q->value(1).toLongLong();
        m.parentId = q->value(2).toLongLong();
        m.role = messageRoleFromText(q->value(3).toString()).value_or(MessageRole::User);
        m.content = q->value(4).toString();
        m.createdAtMs = q->value(5).toLongLong();
        m.updatedAtMs = q->value(6).toLongLong();
        m.status = messageStatusFromText(q->value(7).toString()).value_or(MessageStatus::Complete);
        m.tokens.prompt = optionalInt(q->value(8));
        m.tokens.completion = optionalInt(q->value(9));
        m.model = q->value(10).toString();
        m.settings = GenerationSettings::fromJsonText(q->value(11).toString());
        messages.append(m);
    }
    return messages;
}

// A deferred (read) transaction: consistent reads without taking the write lock, so the
// GUI's streaming saver is never blocked by an export running on a worker thread.
template <typename T>
Result<T> inReadTransaction(Database& db, const std::function<Result<T>()>& body) {
    if (Result<QSqlQuery> begin = db.exec(QStringLiteral("BEGIN DEFERRED")); !begin) {
        return Error{begin.error()};
    }
    Result<T> result = body();
    // Nothing was written: COMMIT and ROLLBACK are the same; ROLLBACK cannot fail on a
    // busy database.
    QSqlQuery end(db.connection());
    end.exec(QStringLiteral("ROLLBACK"));
    return result;
}

Result<ConversationArchive> loadOne(ConversationStore& store, qint64 conversationId) {
    Result<Conversation> conversation = store.conversation(conversationId);
    if (!conversation) {
        return Error{conversation.error()};
    }
    Result<QList<Message>> messages = loadMessages(store.database(), conversationId);
    if (!messages) {
        return Error{messages.error()};
    }
    return ConversationArchive{*conversation, *messages};
}

}  // namespace

QList<Message> ConversationArchive::visibleBranch() const {
    QHash<qint64, qsizetype> index;
    for (qsizetype i = 0; i < messages.size(); ++i) {
        index.insert(messages[i].id, i);
    }
    QList<Message> branch;
    qint64 id = conversation.currentLeafMessageId;
    while (id != 0 && index.contains(id) && branch.size() < messages.size()) {
        const Message& m = messages[index.value(id)];
        branch.prepend(m);
        id = m.parentId;
    }
    return branch;
}

Result<ConversationArchive> loadConversationArchive(Database& db, qint64 conversationId) {
    ConversationStore store(db);
    return inReadTransaction<ConversationArchive>(db, [&]() { return loadOne(store, conversationId); });
}

Result<QList<ConversationArchive>> loadAllConversationArchives(Database& db) {
    ConversationStore store(db);
    return inReadTransaction<QList<ConversationArchive>>(db, [&]() -> Result<QList<ConversationArchive>> {
        Result<QList<Conversation>> list = store.listConversations();
        if (!list) {
            return Error{list.error()};
        }
        QList<ConversationArchive> archives;
        for (const Conversation& c : *list) {
            Result<QList<Message>> messages = loadMessages(db, c.id);
            if (!messages) {
                return Error{messages.error()};
            }
            archives.append(ConversationArchive{c, *messages});
        }
        return archives;
    });
}

}  // namespace fm
