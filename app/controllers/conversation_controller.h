#pragma once
// The chat: the conversation list (with search), the messages of the conversation on screen,
// and the actions on them: new, select, rename, delete with undo, send, stop, regenerate,
// edit and continue, copy, switch branch. Replies stream in from the inference worker; the
// text so far is saved about once a second by the StreamingSaver (off this thread), so a
// killed process loses at most about a second of a reply.

#include <QtQml/qqmlregistration.h>
#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QVariantList>

#include "app/controllers/chat_settings.h"
#include "app/worker/inference_types.h"
#include "ui/models/conversation_list_model.h"
#include "ui/models/message_list_model.h"

namespace fm {
class ConversationStore;
}

namespace fm::app {

class InferenceWorker;
class MemoryMonitor;
class ModelController;
class StreamingSaver;

class ConversationController : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("ConversationController is provided by AppController")
    Q_PROPERTY(fm::ConversationListModel* conversations READ conversations CONSTANT)
    Q_PROPERTY(fm::MessageListModel* messages READ messages CONSTANT)
    Q_PROPERTY(fm::app::ChatSettings* settings READ settings CONSTANT)
    Q_PROPERTY(qint64 currentConversationId READ currentConversationId NOTIFY currentConversationChanged)
    Q_PROPERTY(QString currentTitle READ currentTitle NOTIFY currentConversationChanged)
    Q_PROPERTY(bool generating READ isGenerating NOTIFY generatingChanged)
    Q_PROPERTY(qint64 streamingMessageId READ streamingMessageId NOTIFY generatingChanged)
    // 0..1 while a long prompt is read; -1 otherwise.
    Q_PROPERTY(double prefillProgress READ prefillProgress NOTIFY prefillProgressChanged)
    // Why the reply being prepared reads the conversation again instead of resuming its saved
    // state ("Reading the conversation again: ..."); empty when it resumes.
    Q_PROPERTY(QString resumeNotice READ resumeNotice NOTIFY resumeNoticeChanged)
    Q_PROPERTY(bool canSend READ canSend NOTIFY canSendChanged)
    // Why the composer is disabled ("Load a model to start chatting"), empty when it is not.
    Q_PROPERTY(QString composerDisabledReason READ composerDisabledReason NOTIFY canSendChanged)
    Q_PROPERTY(bool undoAvailable READ undoAvailable NOTIFY undoChanged)
    Q_PROPERTY(QString undoTitle READ undoTitle NOTIFY undoChanged)
    Q_PROPERTY(QString errorMessage READ errorMessage NOTIFY errorMessageChanged)

public:
    ConversationController(fm::ConversationStore* store, InferenceWorker* worker, StreamingSaver* saver,
                           ModelController* models, MemoryMonitor* memory, QObject* parent = nullptr);
    ~ConversationController() override;

    fm::ConversationListModel* conversations() { return &conversations_; }
    fm::MessageListModel* messages() { return &messages_; }
    ChatSettings* settings() { return &settings_; }
    qint64 currentConversationId() const { return currentId_; }
    QString currentTitle() const;
    bool isGenerating() const { return activeRequest_ != 0; }
    qint64 streamingMessageId() const { return streamingMessageId_; }
    double prefillProgress() const { return prefillProgress_; }
    QString resumeNotice() const { return resumeNotice_; }
    bool canSend() const;
    QString composerDisabledReason() const;
    bool undoAvailable() const { return undoConversationId_ != 0; }
    QString undoTitle() const { return undoTitle_; }
    QString errorMessage() const { return errorMessage_; }

    // Creates a conversation and shows it (reuses the one on screen if it is still empty).
    Q_INVOKABLE qint64 newConversation();
    Q_INVOKABLE bool selectConversation(qint64 conversationId);
    Q_INVOKABLE bool renameConversation(qint64 conversationId, const QString& title);
    Q_INVOKABLE bool deleteConversation(qint64 conversationId);
    Q_INVOKABLE bool undoDelete();
    Q_INVOKABLE void dismissUndo();

    // Appends the user's message and starts the reply. False when nothing can be sent now.
    Q_INVOKABLE bool send(const QString& text);
    Q_INVOKABLE void stop();
    // A new reply to the last user message, as a sibling of the reply on screen.
    Q_INVOKABLE bool regenerate();
    // The edited text becomes a sibling of `messageId` (the original stays reachable); a
    // user message then gets a new reply.
    Q_INVOKABLE bool editMessage(qint64 messageId, const QString& text);
    Q_INVOKABLE bool showSibling(int row, int delta);
    Q_INVOKABLE bool copyMessage(qint64 messageId);
    Q_INVOKABLE bool copyLastReply();
    Q_INVOKABLE void dismissError();
    Q_INVOKABLE void copyText(const QString& text);
    // [{kind: "prose"|"code"|"quote"|"table", code: bool, text, language, closed, rows, alignments}]:
    // prose and quotes to render as Markdown (raw HTML already escaped), code to show boxed,
    // tables as a grid (see markdown_blocks.h).
    Q_INVOKABLE static QVariantList messageBlocks(const QString& markdown);

    // The folder the conversations live in, for the messages about storage problems.
    void setDataDir(const QString& dataDir) { dataDir_ = dataDir; }
    // A storage error (read-only folder, full disk, locked database) that disables the
    // composer until dismissed; also how AppController reports a database it could not open.
    void reportStorageError(const QString& error);
    QString storageProblem() const { return storageProblem_; }

    // Saves the reply in progress as interrupted (the app is closing). Called by AppController
    // after the worker has stopped and before the saver's thread ends.
    void shutdown();

    // "Hello, how are you?" -> a sidebar title (first line, at most kTitleLength characters).
    static QString titleFrom(const QString& text);
    static constexpr int kTitleLength = 48;
    static constexpr int kSaveIntervalMs = 1000;
    static const QString kNewChatTitle;

signals:
    void currentConversationChanged();
    void generatingChanged();
    void prefillProgressChanged();
    void resumeNoticeChanged();
    void canSendChanged();
    void undoChanged();
    void errorMessageChanged();
    // A reply ended (finished, stopped or failed) and its final state is saved.
    void replySaved(qint64 messageId);
    void replyFinished(qint64 messageId, const QString& stopReason);
    void replyFailed(qint64 messageId, const QString& error);

private:
    bool startReply(qint64 parentMessageId);
    void finishReply(fm::MessageStatus status, int promptTokens, int completionTokens, const QString& finalText);
    void showConversation(qint64 conversationId);
    void setError(const QString& message);
    void setGenerating(quint64 requestId, qint64 messageId);
    // The prompt for a reply under `parentMessageId`; `ids` gets each turn's message id.
    QList<ChatTurn> promptFor(qint64 parentMessageId, QString* error, QList<qint64>* ids = nullptr) const;
    void setResumeNotice(const QString& notice);
    void onResumePrepared(quint64 requestId, const QString& source, qint64 reusedTokens, const QString& reason);

    void onGenerationStarted(quint64 requestId);
    void onPrefillProgress(quint64 requestId, qint64 done, qint64 total);
    void onTokens(quint64 requestId, const QString& text, int tokenCount);
    void onFinished(quint64 requestId, const fm::app::GenerationSummary& summary);
    void onFailed(quint64 requestId, const QString& error);
    void onSaved(qint64 messageId, bool ok, const QString& error);

    fm::ConversationStore* store_;
    QPointer<InferenceWorker> worker_;
    QPointer<StreamingSaver> saver_;
    ModelController* models_;
    MemoryMonitor* memory_;
    fm::ConversationListModel conversations_;
    fm::MessageListModel messages_;
    ChatSettings settings_;

    qint64 currentId_ = 0;
    quint64 nextRequestId_ = 0;
    quint64 activeRequest_ = 0;
    qint64 streamingMessageId_ = 0;
    qint64 streamingConversationId_ = 0;
    QString streamedText_;
    QElapsedTimer sinceSave_;
    double prefillProgress_ = -1;
    QString resumeNotice_;
    qint64 undoConversationId_ = 0;
    QString undoTitle_;
    QString errorMessage_;
    QString dataDir_;
    QString storageProblem_;
};

}  // namespace fm::app
