#include "app/export/importer.h"

#include "app/export/json_format.h"

#include <QFile>
#include <QHash>
#include <QSqlQuery>
#include <QVariant>

#include <functional>
#include <queue>
#include <vector>

namespace fm {
namespace {

// A larger file is almost certainly not an export (and would be read into memory whole).
constexpr qint64 kMaxImportBytes = qint64(1) << 30;

QVariant textOrEmpty(const QString& value) {
    return value.isNull() ? QVariant(QLatin1String("")) : QVariant(value);
}

QVariant textOrNull(const QString& value) {
    return value.isEmpty() ? QVariant() : QVariant(value);
}

QVariant optionalInt(const std::optional<int>& value) {
    return value ? QVariant(*value) : QVariant();
}

// Insertion order: parents before children and, among messages whose parent is in, the
// smallest local id first. Siblings are ordered by database id, so this keeps their order
// (and which branch is the most recent) exactly as in the file.
std::vector<qsizetype> insertionOrder(const QList<Message>& messages) {
    QHash<qint64, std::vector<qsizetype>> children;
    using Entry = std::pair<qint64, qsizetype>;  // (local id, index)
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> ready;
    for (qsizetype i = 0; i < messages.size(); ++i) {
        if (messages[i].parentId == 0) {
            ready.push({messages[i].id, i});
        } else {
            children[messages[i].parentId].push_back(i);
        }
    }
    std::vector<qsizetype> order;
    order.reserve(size_t(messages.size()));
    while (!ready.empty()) {
        const qsizetype i = ready.top().second;
        ready.pop();
        order.push_back(i);
        for (qsizetype child : children.value(messages[i].id)) {
            ready.push({messages[child].id, child});
        }
    }
    return order;
}

Status insertConversation(Database& db, const ConversationArchive& archive, qint64& newId, int& messageCount) {
    const Conversation& c = archive.conversation;
    Result<QSqlQuery> insert =
        db.exec(QStringLiteral("INSERT INTO conversations (title, created_at, updated_at, system_prompt, "
                               "settings, model, mode) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                {textOrEmpty(c.title), c.createdAtMs, c.updatedAtMs, textOrEmpty(c.options.systemPrompt),
                 textOrNull(c.options.settings.toJsonText()), textOrEmpty(c.options.model), toText(c.options.mode)});
    if (!insert) {
        return insert.status();
    }
    newId = insert->lastInsertId().toLongLong();

    QHash<qint64, qint64> rowOf;  // local id -> new row id
    const std::vector<qsizetype> order = insertionOrder(archive.messages);
    if (qsizetype(order.size()) != archive.messages.size()) {
        // conversationsFromJson rejects such files; a caller building archives by hand may not.
        return db.fail(QStringLiteral("conversation \"%1\": some messages do not descend from a "
                                      "first-level message")
                           .arg(c.title));
    }
    for (qsizetype i : order) {
        const Message& m = archive.messages[i];
        Result<QSqlQuery> row = db.exec(
            QStringLiteral("INSERT INTO messages (conversation_id, parent_id, role, content, "
                           "created_at, updated_at, status, prompt_tokens, completion_tokens, "
                           "model, settings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            {newId, m.parentId != 0 ? QVariant(rowOf.value(m.parentId)) : QVariant(), toText(m.role),
             textOrEmpty(m.content), m.createdAtMs, m.updatedAtMs, toText(m.status), optionalInt(m.tokens.prompt),
             optionalInt(m.tokens.completion), textOrNull(m.model), textOrNull(m.settings.toJsonText())});
        if (!row) {
            return row.status();
        }
        rowOf.insert(m.id, row->lastInsertId().toLongLong());
        ++messageCount;
    }
    if (c.currentLeafMessageId != 0) {
        if (!rowOf.contains(c.currentLeafMessageId)) {
            return db.fail(QStringLiteral("conversation \"%1\": the current leaf %2 is not one "
                                          "of its messages")
                               .arg(c.title, QString::number(c.currentLeafMessageId)));
        }
        Result<QSqlQuery> leaf =
            db.exec(QStringLiteral("UPDATE conversations SET current_leaf_message_id = ? WHERE id = ?"),
                    {rowOf.value(c.currentLeafMessageId), newId});
        if (!leaf) {
            return leaf.status();
        }
    }
    return {};
}

}  // namespace

Result<ImportSummary> writeImportedConversations(Database& db, const QList<ConversationArchive>& archives) {
    ImportSummary summary;
    const Status status = db.transaction([&]() -> Status {
        summary = {};
        for (const ConversationArchive& archive : archives) {
            qint64 id = 0;
            if (Status s = insertConversation(db, archive, id, summary.messageCount); !s) {
                return s;
            }
            summary.conversationIds.append(id);
        }
        return {};
    });
    if (!status) {
        return toError(
            QStringLiteral("writing to the database failed, nothing was changed: %1").arg(errorText(status)));
    }
    return summary;
}

Result<ImportSummary> importConversationsFile(Database& db, const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return toError(QStringLiteral("%1: cannot open: %2").arg(path, file.errorString()));
    }
    if (file.size() > kMaxImportBytes) {
        return toError(QStringLiteral("%1: %2 bytes is too large for a conversation export")
                           .arg(path, QString::number(file.size())));
    }
    const QByteArray bytes = file.readAll();
    if (file.error() != QFileDevice::NoError) {
        return toError(QStringLiteral("%1: cannot read: %2").arg(path, file.errorString()));
    }
    Result<QList<ConversationArchive>> archives = conversationsFromJson(bytes);
    if (!archives) {
        return toError(QStringLiteral("%1: %2").arg(path, errorText(archives)));
    }
    Result<ImportSummary> summary = writeImportedConversations(db, *archives);
    if (!summary) {
        return toError(QStringLiteral("%1: %2").arg(path, errorText(summary)));
    }
    return summary;
}

}  // namespace fm
