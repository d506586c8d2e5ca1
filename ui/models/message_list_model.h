#pragma once
// The messages on screen: the visible branch of one conversation, first message to current
// leaf, each with its position among its siblings for "< 2/3 >" navigation.
//
// GUI thread only. The branch comes from a ConversationStore (loadConversation(),
// reload(), showSibling()) or as plain data (setBranch()). Branch changes are applied as a
// diff (rows after the point where the branches diverge are removed and the new ones
// inserted), so appending a message or switching a sibling does not rebuild the view.
//
// Streaming: the generation controller calls appendStreamingText() for each decoded piece;
// that only touches this model and signals one row, so it is cheap at token rate. Saving
// the partial text to disk is the controller's job, throttled (about once a second,
// ConversationStore::updateStreamingContent with contentOf(id)). Because the model is
// ahead of the database while streaming, reloads keep the model's text for a message that
// is still streaming on both sides.

#include "app/storage/conversation_store.h"

#include <QtQml/qqmlregistration.h>
#include <QAbstractListModel>

namespace fm {

class MessageListModel : public QAbstractListModel {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("MessageListModel is provided by the application")
    Q_PROPERTY(qint64 conversationId READ conversationId NOTIFY conversationIdChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    Q_PROPERTY(QString lastError READ lastError NOTIFY errorOccurred)

public:
    // "messageId" rather than "id": `id` is reserved inside QML delegates.
    enum Role {
        MessageIdRole = Qt::UserRole + 1,  // "messageId"
        RoleRole,                          // "role" ('system' | 'user' | 'assistant')
        ContentRole,                       // "content"
        StatusRole,                        // "status" ('complete' | 'streaming' | ...)
        CreatedAtRole,                     // "createdAt" (QDateTime)
        TokenCountsRole,                   // "tokenCounts" ({prompt, completion}; absent = unknown)
        PromptTokensRole,                  // "promptTokens" (int, -1 = unknown)
        CompletionTokensRole,              // "completionTokens" (int, -1 = unknown)
        SiblingIndexRole,                  // "siblingIndex" (0-based)
        SiblingCountRole,                  // "siblingCount"
        IsStreamingRole,                   // "isStreaming"
        ParentIdRole,                      // "parentId" (0 for the first message)
        ModelPathRole,                     // "modelPath" (model that wrote it)
    };
    Q_ENUM(Role)

    explicit MessageListModel(QObject* parent = nullptr);

    // Not owned; may be null. Does not load anything by itself.
    void setStore(ConversationStore* store);

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    qint64 conversationId() const { return conversationId_; }
    int count() const { return int(rows_.size()); }
    QString lastError() const { return lastError_; }

    // ---- Plain-data updates (no disk access) ----------------------------------------------
    // Shows `branch` for `conversationId`. Same conversation: applied as a diff; another
    // conversation: a reset.
    void setBranch(qint64 conversationId, const QList<BranchMessage>& branch);
    // Updates one shown message in place (e.g. after finishMessage: status, tokens, text).
    // Returns false when it is not on screen.
    bool updateMessage(const Message& message);
    Q_INVOKABLE void clear();

    // ---- Streaming ------------------------------------------------------------------------
    // Appends `text` to the message's content; emits dataChanged for that row and role only.
    Q_INVOKABLE bool appendStreamingText(qint64 messageId, const QString& text);
    Q_INVOKABLE QString contentOf(qint64 messageId) const;

    // ---- Through the store ----------------------------------------------------------------
    Q_INVOKABLE bool loadConversation(qint64 conversationId);
    // Re-reads the current conversation's branch (after an append, edit or regenerate).
    Q_INVOKABLE bool reload();
    // "<" / ">" on row `row`: shows the sibling `delta` steps away and the most recent
    // branch below it. Returns false at either end or on error.
    Q_INVOKABLE bool showSibling(int row, int delta);

    Q_INVOKABLE int rowOf(qint64 messageId) const;
    // The first row whose text has every word of `query` (case-insensitive), else the first
    // with any of them; -1 when none does. A search hit opens the chat at this message.
    Q_INVOKABLE int firstRowMatching(const QString& query) const;
    Q_INVOKABLE qint64 idAt(int row) const;

signals:
    void conversationIdChanged();
    void countChanged();
    void errorOccurred(const QString& message);

private:
    static bool sameDisplay(const BranchMessage& a, const BranchMessage& b);
    bool report(const QString& error);

    ConversationStore* store_ = nullptr;
    QList<BranchMessage> rows_;
    qint64 conversationId_ = 0;
    QString lastError_;
};

}  // namespace fm
