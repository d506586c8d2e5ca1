#pragma once
// The chat on screen: the messages of the current conversation and the reply being written.
// Actions: send, stop, regenerate, edit and continue, switch branch, copy. Replies stream in
// from the inference worker straight into the message list; the worker also sends the text
// so far to the StreamingSaver (its own thread) about once a second, so a killed process
// loses at most about a second of a reply, and this object hears from the saver when the
// reply is saved. Which conversation is on screen is ConversationsController's; errors go to
// ChatErrors.

#include <QtQml/qqmlregistration.h>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QVariantList>

#include "app/worker/inference_types.h"
#include "ui/models/message_list_model.h"

namespace fm {
class ConversationStore;
}

namespace fm::app {

class ChatErrors;
class ChatSettings;
class ConversationsController;
class InferenceWorker;
class MemoryMonitor;
class ModelController;
class StreamingSaver;

class ChatController : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("ChatController is provided by AppController")
    Q_PROPERTY(fm::MessageListModel* messages READ messages CONSTANT)
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

public:
    struct Features {
        ConversationsController* conversations;
        ChatSettings* settings;
        ChatErrors* errors;
    };
    // `worker`, `saver`, `models` and `memory` may be null (tests without them).
    ChatController(fm::ConversationStore* store, const Features& features, InferenceWorker* worker,
                   StreamingSaver* saver, ModelController* models, MemoryMonitor* memory, QObject* parent = nullptr);
    ~ChatController() override;

    fm::MessageListModel* messages() { return &messages_; }
    bool isGenerating() const { return activeRequest_ != 0; }
    qint64 streamingMessageId() const { return streamingMessageId_; }
    double prefillProgress() const { return prefillProgress_; }
    QString resumeNotice() const { return resumeNotice_; }
    bool canSend() const;
    QString composerDisabledReason() const;

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
    Q_INVOKABLE void copyText(const QString& text);
    // [{kind: "prose"|"code"|"quote"|"table", code: bool, text, language, closed, rows, alignments}]:
    // prose and quotes to render as Markdown (raw HTML already escaped), code to show boxed,
    // tables as a grid (see markdown_blocks.h).
    Q_INVOKABLE static QVariantList messageBlocks(const QString& markdown);

    // Saves the reply in progress as interrupted (the app is closing). Called by AppController
    // after the worker has stopped and before the saver's thread ends.
    void shutdown();

signals:
    void generatingChanged();
    void prefillProgressChanged();
    void resumeNoticeChanged();
    void canSendChanged();
    // A reply ended (finished, stopped or failed) and its final state is saved.
    void replySaved(qint64 messageId);
    void replyFinished(qint64 messageId, const QString& stopReason);
    void replyFailed(qint64 messageId, const QString& error);

private:
    qint64 currentId() const;
    void showCurrentConversation();
    bool startReply(qint64 parentMessageId);
    void endReply();
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
    Features features_;
    QPointer<InferenceWorker> worker_;
    QPointer<StreamingSaver> saver_;
    ModelController* models_;
    MemoryMonitor* memory_;
    fm::MessageListModel messages_;

    quint64 nextRequestId_ = 0;
    quint64 activeRequest_ = 0;
    qint64 streamingMessageId_ = 0;
    qint64 streamingConversationId_ = 0;
    QString streamedText_;
    double prefillProgress_ = -1;
    QString resumeNotice_;
};

}  // namespace fm::app
