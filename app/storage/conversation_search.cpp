// ConversationStore::search, kept apart from the CRUD code: the query strategy here is
// what bench_storage measures, and the reasons for it are worth their own page.

#include "app/storage/conversation_store.h"

#include "app/storage/search_query.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlQuery>
#include <QVariant>

#include <limits>

namespace fm {

// Live conversations matching free text; see the header for the ordering contract.

Result<QList<SearchHit>> ConversationStore::search(const QString& query, int limit) {
    const QString match = ftsMatchExpression(query);
    if (match.isEmpty() || limit == 0) {
        return QList<SearchHit>{};
    }
    const qsizetype wanted = limit < 0 ? std::numeric_limits<qsizetype>::max() : limit;
    const auto readHit = [](const QSqlQuery& q, int first) {
        SearchHit hit;
        hit.conversationId = q.value(first + 0).toLongLong();
        hit.title = q.value(first + 1).toString();
        hit.updatedAtMs = q.value(first + 2).toLongLong();
        hit.model = q.value(first + 3).toString();
        hit.mode = conversationModeFromText(q.value(first + 4).toString()).value_or(ConversationMode::Chat);
        return hit;
    };

    // 1. Title matches, most recently active first. Few rows: titles are short.
    QList<SearchHit> hits;
    QHash<qint64, qsizetype> rowOfConversation;
    {
        Result<QSqlQuery> titles =
            db_.exec(QStringLiteral("SELECT c.id, c.title, c.updated_at, c.model, c.mode "
                                    "FROM conversations_fts AS t JOIN conversations AS c ON c.id = t.rowid "
                                    "WHERE conversations_fts MATCH ? AND c.deleted_at IS NULL "
                                    "ORDER BY c.updated_at DESC, c.id DESC LIMIT ?"),
                     {match, limit < 0 ? -1 : limit});
        if (!titles) {
            return Error{titles.error()};
        }
        while (titles->next()) {
            SearchHit hit = readHit(*titles, 0);
            hit.titleMatched = true;
            rowOfConversation.insert(hit.conversationId, hits.size());
            hits.append(hit);
        }
    }

    // 2. Message matches, newest message first (FTS5 walks its doclists backwards natively),
    // each conversation ranked by its most recent mention. Stepping stops as soon as enough
    // conversations are found, so a word that occurs in every message costs no more than a
    // rare one; the messages_owner index maps a message to its conversation without reading
    // message text. No bm25 ranking, for the same reason: it would score every match.
    {
        Result<QSqlQuery> messages =
            db_.exec(QStringLiteral("SELECT f.rowid, c.id, c.title, c.updated_at, c.model, c.mode "
                                    "FROM messages_fts AS f "
                                    "JOIN messages AS m INDEXED BY messages_owner ON m.id = f.rowid "
                                    "JOIN conversations AS c ON c.id = m.conversation_id "
                                    "WHERE messages_fts MATCH ? AND c.deleted_at IS NULL "
                                    "ORDER BY f.rowid DESC"),
                     {match});
        if (!messages) {
            return Error{messages.error()};
        }
        while (hits.size() < wanted && messages->next()) {
            const qint64 conversationId = messages->value(1).toLongLong();
            const auto known = rowOfConversation.constFind(conversationId);
            if (known != rowOfConversation.constEnd()) {
                // A title match whose text mentions it too (seen before the list filled
                // up): the snippet shows the latest mention rather than the title.
                SearchHit& hit = hits[*known];
                if (hit.titleMatched && hit.messageId == 0) {
                    hit.messageId = messages->value(0).toLongLong();
                }
                continue;
            }
            SearchHit hit = readHit(*messages, 1);
            hit.messageId = messages->value(0).toLongLong();
            rowOfConversation.insert(conversationId, hits.size());
            hits.append(hit);
        }
        messages->finish();
    }

    // All snippets of one kind in one query, so the MATCH is evaluated once: a prefix term
    // longer than the prefix indexes merges the doclists of every word it matches, about
    // half a millisecond for a common stem. The unary + on `+rowid` keeps the id list from
    // being pushed into the FTS5 plan, which would re-run the MATCH once per id; as a plain
    // filter, snippet() runs only for the listed rows.
    QHash<qint64, QString> messageSnippets;
    QHash<qint64, QString> titleSnippets;
    QJsonArray messageIds;
    QJsonArray titleIds;
    for (const SearchHit& hit : hits) {
        if (hit.messageId != 0) {
            messageIds.append(hit.messageId);
        } else {
            titleIds.append(hit.conversationId);
        }
    }
    const auto collect = [&](const QString& snippetSql, const QJsonArray& ids, QHash<qint64, QString>& into) -> Status {
        if (ids.isEmpty()) {
            return {};
        }
        Result<QSqlQuery> q =
            db_.exec(snippetSql, {match, QString::fromUtf8(QJsonDocument(ids).toJson(QJsonDocument::Compact))});
        if (!q) {
            return q.status();
        }
        while (q->next()) {
            into.insert(q->value(0).toLongLong(), snippetToHtml(q->value(1).toString()));
        }
        return {};
    };
    Status status = collect(QStringLiteral("SELECT rowid, snippet(messages_fts, 0, char(2), char(3), '…', 16) "
                                           "FROM messages_fts WHERE messages_fts MATCH ? "
                                           "AND +rowid IN (SELECT value FROM json_each(?))"),
                            messageIds, messageSnippets);
    if (status) {
        status = collect(QStringLiteral("SELECT rowid, highlight(conversations_fts, 0, char(2), char(3)) "
                                        "FROM conversations_fts WHERE conversations_fts MATCH ? "
                                        "AND +rowid IN (SELECT value FROM json_each(?))"),
                         titleIds, titleSnippets);
    }
    if (!status) {
        return Error{status.error()};
    }
    for (SearchHit& hit : hits) {
        hit.snippet =
            hit.messageId != 0 ? messageSnippets.value(hit.messageId) : titleSnippets.value(hit.conversationId);
    }
    return hits;
}

}  // namespace fm
