#pragma once
// The sidebar: live conversations, most recent activity first, or (while `filter` is set)
// the conversations matching a full-text search, with highlighted snippets.
//
// GUI thread only. Rows come from a ConversationStore (reload(), the action methods) or
// from plain data loaded elsewhere (setConversations(), upsert()), e.g. by a worker thread
// with its own Database. Reading the whole list on the GUI thread is acceptable: the
// storage benchmark loads 1,000 conversations in a few milliseconds. Anything bigger
// (imports, exports, purges of many conversations) belongs on a worker.
//
// Changes are applied incrementally (rows inserted, moved, changed, removed) so views keep
// their scroll position and selection; only switching between list and search resets.

#include "app/storage/conversation_store.h"

#include <QtQml/qqmlregistration.h>
#include <QAbstractListModel>
#include <QDateTime>

#include <functional>

namespace fm {

class ConversationListModel : public QAbstractListModel {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("ConversationListModel is provided by the application")
    // Free text; empty shows the full list. Debouncing keystrokes is the view's job.
    Q_PROPERTY(QString filter READ filter WRITE setFilter NOTIFY filterChanged)
    Q_PROPERTY(bool searching READ isSearching NOTIFY filterChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    Q_PROPERTY(QString lastError READ lastError NOTIFY errorOccurred)

public:
    // Role names avoid `id` and `model`, which mean something else inside QML delegates.
    enum Role {
        ConversationIdRole = Qt::UserRole + 1,  // "conversationId"
        TitleRole,                              // "title"
        UpdatedAtRole,                          // "updatedAt" (QDateTime, last activity)
        CreatedAtRole,                          // "createdAt"
        SnippetRole,                            // "snippet" (HTML; empty unless searching)
        ModelPathRole,                          // "modelPath"
        ModeRole,                               // "mode" ('chat' | 'completion')
        DateGroupRole,                          // "dateGroup" ("Today", "Yesterday", ... "November 2026")
    };
    Q_ENUM(Role)

    explicit ConversationListModel(QObject* parent = nullptr);

    // The sidebar's section for a conversation last active at `updated`, seen at `now`:
    // "Today", "Yesterday", "Previous 7 days", "Previous 30 days", then "<Month> <year>".
    static QString dateGroupOf(const QDateTime& updated, const QDateTime& now);
    // Where "now" comes from for the date groups (tests fix it); the system clock by default.
    void setClock(std::function<QDateTime()> now) { now_ = std::move(now); }

    // The store to read from and write through (not owned; may be null). Reloads.
    void setStore(ConversationStore* store);

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    QString filter() const { return filter_; }
    void setFilter(const QString& filter);
    bool isSearching() const { return !filter_.trimmed().isEmpty(); }
    int count() const { return int(rows_.size()); }
    QString lastError() const { return lastError_; }

    // ---- Plain-data updates (no disk access) ----------------------------------------------
    // Replaces the list (list mode). Sorted here, so any order is accepted.
    void setConversations(const QList<Conversation>& conversations);
    // Inserts or updates one conversation and moves it to its place by activity. While
    // searching, only rows already shown are updated (in place: the search order stays).
    // A deleted conversation is removed instead.
    void upsert(const Conversation& conversation);
    void removeConversation(qint64 id);

    // ---- Actions through the store, then incremental updates -----------------------------
    Q_INVOKABLE void reload();
    // Returns the new id, or 0 on failure (see lastError / errorOccurred).
    Q_INVOKABLE qint64 createConversation(const QString& title);
    Q_INVOKABLE bool renameConversation(qint64 id, const QString& title);
    // Soft delete; the row disappears. undoDelete() brings it back at its old place.
    Q_INVOKABLE bool deleteConversation(qint64 id);
    Q_INVOKABLE bool undoDelete(qint64 id);
    // Re-reads one conversation after activity elsewhere (a message was appended, a reply
    // finished) and moves it to the top.
    Q_INVOKABLE bool refreshConversation(qint64 id);

    Q_INVOKABLE int rowOf(qint64 id) const;
    Q_INVOKABLE qint64 idAt(int row) const;

signals:
    void filterChanged();
    void countChanged();
    void errorOccurred(const QString& message);

private:
    struct Row {
        Conversation conversation;
        QString snippet;
    };

    static bool comesBefore(const Conversation& a, const Conversation& b);
    int sortedPosition(const Conversation& conversation, int ignoringRow) const;
    void resetRows(QList<Row> rows);
    bool report(const QString& error);

    ConversationStore* store_ = nullptr;
    std::function<QDateTime()> now_ = [] { return QDateTime::currentDateTime(); };
    QList<Row> rows_;
    QString filter_;
    QString lastError_;
};

}  // namespace fm
