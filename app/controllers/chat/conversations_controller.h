#pragma once
// The conversations: the list in the sidebar (with search), which one is on screen, and the
// actions on them: new, select, rename, delete with undo. What the one on screen shows (its
// messages, its reply in progress) is ChatController's; its settings are ChatSettings'.

#include <QtQml/qqmlregistration.h>
#include <QObject>
#include <QString>

#include "ui/models/conversation_list_model.h"

namespace fm {
class ConversationStore;
}

namespace fm::app {

class ChatErrors;
class ChatSettings;
class ModelController;

class ConversationsController : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("ConversationsController is provided by AppController")
    Q_PROPERTY(fm::ConversationListModel* list READ list CONSTANT)
    Q_PROPERTY(qint64 currentConversationId READ currentConversationId NOTIFY currentConversationChanged)
    Q_PROPERTY(QString currentTitle READ currentTitle NOTIFY currentTitleChanged)
    Q_PROPERTY(bool undoAvailable READ undoAvailable NOTIFY undoChanged)
    Q_PROPERTY(QString undoTitle READ undoTitle NOTIFY undoChanged)

public:
    // Shows the most recent conversation, where the user left off. `models` may be null.
    ConversationsController(fm::ConversationStore* store, ChatSettings* settings, ChatErrors* errors,
                            ModelController* models, QObject* parent = nullptr);

    fm::ConversationListModel* list() { return &list_; }
    qint64 currentConversationId() const { return currentId_; }
    QString currentTitle() const;
    bool undoAvailable() const { return undoConversationId_ != 0; }
    QString undoTitle() const { return undoTitle_; }

    // Creates a conversation and shows it (reuses the one on screen if it is still empty).
    Q_INVOKABLE qint64 newConversation();
    Q_INVOKABLE bool selectConversation(qint64 conversationId);
    Q_INVOKABLE bool renameConversation(qint64 conversationId, const QString& title);
    Q_INVOKABLE bool deleteConversation(qint64 conversationId);
    Q_INVOKABLE bool undoDelete();
    Q_INVOKABLE void dismissUndo();

    // "Hello, how are you?" -> a sidebar title (first line, at most kTitleLength characters).
    static QString titleFrom(const QString& text);
    static constexpr int kTitleLength = 48;
    static const QString kNewChatTitle;

signals:
    // Another conversation is on screen (or none: id 0).
    void currentConversationChanged();
    void currentTitleChanged();
    void undoChanged();
    // Emitted before the conversation goes (so that a reply being written to it stops).
    void aboutToDelete(qint64 conversationId);

private:
    void showConversation(qint64 conversationId);

    fm::ConversationStore* store_;
    ChatSettings* settings_;
    ChatErrors* errors_;
    ModelController* models_;
    fm::ConversationListModel list_;
    qint64 currentId_ = 0;
    qint64 undoConversationId_ = 0;
    QString undoTitle_;
};

}  // namespace fm::app
