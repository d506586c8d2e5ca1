#include "app/controllers/chat/chat_controller.h"

#include <QClipboard>
#include <QGuiApplication>

#include "app/controllers/chat/chat_errors.h"
#include "app/controllers/chat/chat_settings.h"
#include "app/controllers/chat/conversations_controller.h"
#include "app/controllers/memory_monitor.h"
#include "app/controllers/model_controller.h"
#include "app/markdown/markdown_blocks.h"
#include "app/storage/conversation_store.h"
#include "app/worker/inference_worker.h"
#include "app/worker/queued_call.h"
#include "app/worker/streaming_saver.h"

namespace fm::app {

ChatController::ChatController(fm::ConversationStore* store, const Features& features, InferenceWorker* worker,
                               StreamingSaver* saver, ModelController* models, MemoryMonitor* memory, QObject* parent)
    : QObject(parent),
      store_(store),
      features_(features),
      worker_(worker),
      saver_(saver),
      models_(models),
      memory_(memory) {
    messages_.setStore(store_);
    ChatErrors* errors = features_.errors;
    connect(&messages_, &fm::MessageListModel::errorOccurred, errors, &ChatErrors::report);
    connect(errors, &ChatErrors::storageProblemChanged, this, &ChatController::canSendChanged);
    connect(features_.conversations, &ConversationsController::currentConversationChanged, this,
            &ChatController::showCurrentConversation);
    connect(features_.conversations, &ConversationsController::aboutToDelete, this, [this](qint64 conversationId) {
        if (conversationId == streamingConversationId_ && isGenerating()) stop();
    });

    if (worker_) {
        // Queued: the worker's signals come from its own thread.
        connect(worker_, &InferenceWorker::generationStarted, this, &ChatController::onGenerationStarted,
                Qt::QueuedConnection);
        connect(worker_, &InferenceWorker::prefillProgress, this, &ChatController::onPrefillProgress,
                Qt::QueuedConnection);
        connect(worker_, &InferenceWorker::tokensGenerated, this, &ChatController::onTokens, Qt::QueuedConnection);
        connect(worker_, &InferenceWorker::generationFinished, this, &ChatController::onFinished, Qt::QueuedConnection);
        connect(worker_, &InferenceWorker::generationFailed, this, &ChatController::onFailed, Qt::QueuedConnection);
        connect(worker_, &InferenceWorker::resumePrepared, this, &ChatController::onResumePrepared,
                Qt::QueuedConnection);
        // A damaged saved state was set aside and is being rebuilt: worth telling, not fatal.
        connect(worker_, &InferenceWorker::snapshotWarning, errors, &ChatErrors::report, Qt::QueuedConnection);
    }
    if (saver_) {
        connect(saver_, &StreamingSaver::finished, this, &ChatController::onSaved, Qt::QueuedConnection);
        connect(saver_, &StreamingSaver::failed, errors, &ChatErrors::report, Qt::QueuedConnection);
    }
    if (models_) {
        connect(models_, &ModelController::statusChanged, this, &ChatController::canSendChanged);
        connect(models_, &ModelController::progressChanged, this, &ChatController::canSendChanged);
    }
    showCurrentConversation();
}

ChatController::~ChatController() = default;

qint64 ChatController::currentId() const {
    return features_.conversations->currentConversationId();
}

bool ChatController::canSend() const {
    return store_ && features_.errors->storageProblem().isEmpty() && models_ && models_->isLoaded() && !isGenerating();
}

QString ChatController::composerDisabledReason() const {
    if (const QString problem = features_.errors->storageProblem(); !problem.isEmpty()) return problem;
    if (!store_) return QStringLiteral("The conversation database could not be opened.");
    if (!models_) return QStringLiteral("No model is loaded.");
    switch (models_->status()) {
    case ModelController::Status::Loading:
        return QStringLiteral("Loading the model… %1%").arg(qRound(models_->progress() * 100));
    case ModelController::Status::NoModel:
    case ModelController::Status::Failed: return QStringLiteral("Load a model to start chatting.");
    case ModelController::Status::Ready: break;
    }
    return {};
}

// What the conversation on screen shows. Coming back to the conversation being answered: the
// database is up to a second behind the stream, the model must show everything streamed so far.
void ChatController::showCurrentConversation() {
    const qint64 conversationId = currentId();
    if (activeRequest_ == 0) setResumeNotice({});
    if (conversationId == 0) {
        messages_.clear();
        return;
    }
    messages_.loadConversation(conversationId);
    if (streamingConversationId_ == conversationId && streamingMessageId_ != 0 &&
        messages_.rowOf(streamingMessageId_) >= 0) {
        if (auto message = store_->message(streamingMessageId_)) {
            message->content = streamedText_;
            message->status = fm::MessageStatus::Streaming;
            messages_.updateMessage(*message);
        }
    }
}

bool ChatController::send(const QString& text) {
    const QString content = text.trimmed();
    if (content.isEmpty() || !canSend()) return false;
    ConversationsController* conversations = features_.conversations;
    if (currentId() == 0 && conversations->newConversation() == 0) return false;
    // The first message names the conversation (until the user renames it).
    if (messages_.count() == 0 && conversations->currentTitle() == ConversationsController::kNewChatTitle)
        conversations->renameConversation(currentId(), ConversationsController::titleFrom(content));

    fm::NewMessage message;
    message.role = fm::MessageRole::User;
    message.content = content;
    auto appended = store_->appendMessage(currentId(), message);
    if (!appended) {
        features_.errors->report(errorText(appended));
        return false;
    }
    messages_.reload();
    features_.conversations->list()->refreshConversation(currentId());
    return startReply(appended->id);
}

QList<ChatTurn> ChatController::promptFor(qint64 parentMessageId, QString* error, QList<qint64>* ids) const {
    QList<ChatTurn> turns;
    auto path = store_->pathTo(parentMessageId);
    if (!path) {
        *error = errorText(path);
        return turns;
    }
    const QString system = features_.settings->systemPrompt();
    if (!features_.settings->completionMode() && !system.isEmpty()) {
        turns.append({QStringLiteral("system"), system});
        if (ids) ids->append(0);
    }
    for (const fm::BranchMessage& branch : *path) {
        const fm::Message& m = branch.message;
        // A reply that failed before any text says nothing the model should read.
        if (m.role == fm::MessageRole::Assistant && m.content.isEmpty()) continue;
        turns.append({fm::toText(m.role), m.content});
        if (ids) ids->append(m.id);
    }
    return turns;
}

bool ChatController::startReply(qint64 parentMessageId) {
    if (!canSend() || !worker_) return false;
    QString error;
    QList<qint64> ids;
    const QList<ChatTurn> turns = promptFor(parentMessageId, &error, &ids);
    if (!error.isEmpty()) {
        features_.errors->report(error);
        return false;
    }
    GenerationRequest request;
    request.requestId = ++nextRequestId_;
    request.conversationId = currentId();
    request.messages = turns;
    request.messageIds = ids;
    request.completionMode = features_.settings->completionMode();
    request.params = features_.settings->engineParams();

    auto reply = store_->beginAssistantMessage(currentId(), parentMessageId, models_->modelPath(),
                                               ChatSettings::settingsUsed(request.params));
    if (!reply) {
        features_.errors->report(errorText(reply));
        return false;
    }
    request.replyMessageId = reply->id;  // the worker keys this reply's saved states to it
    setResumeNotice({});
    streamedText_.clear();
    streamingConversationId_ = currentId();
    setGenerating(request.requestId, reply->id);
    messages_.reload();
    features_.conversations->list()->refreshConversation(currentId());

    callOnItsThread(worker_, [request](InferenceWorker* worker) { worker->generate(request); });
    return true;
}

void ChatController::setGenerating(quint64 requestId, qint64 messageId) {
    activeRequest_ = requestId;
    streamingMessageId_ = messageId;
    if (prefillProgress_ != -1) {
        prefillProgress_ = -1;
        emit prefillProgressChanged();
    }
    emit generatingChanged();
    emit canSendChanged();
}

void ChatController::stop() {
    if (activeRequest_ != 0 && worker_) worker_->requestStop(activeRequest_);  // thread-safe, immediate
}

bool ChatController::regenerate() {
    if (!canSend() || messages_.count() == 0) return false;
    const int last = messages_.count() - 1;
    const QModelIndex index = messages_.index(last);
    const QString role = messages_.data(index, fm::MessageListModel::RoleRole).toString();
    if (role == QStringLiteral("assistant")) {
        const qint64 parent = messages_.data(index, fm::MessageListModel::ParentIdRole).toLongLong();
        return parent != 0 && startReply(parent);
    }
    if (role == QStringLiteral("user")) return startReply(messages_.idAt(last));  // the reply never came
    return false;
}

bool ChatController::editMessage(qint64 messageId, const QString& text) {
    const QString content = text.trimmed();
    if (!store_ || content.isEmpty() || isGenerating()) return false;
    auto edited = store_->editMessage(messageId, content);
    if (!edited) {
        features_.errors->report(errorText(edited));
        return false;
    }
    messages_.reload();
    features_.conversations->list()->refreshConversation(currentId());
    // Editing a question asks it again; an edited answer simply stands.
    if (edited->role == fm::MessageRole::User && canSend()) return startReply(edited->id);
    return true;
}

bool ChatController::showSibling(int row, int delta) {
    if (isGenerating()) return false;  // the branch on screen is the one being written
    return messages_.showSibling(row, delta);
}

bool ChatController::copyMessage(qint64 messageId) {
    if (messages_.rowOf(messageId) < 0) return false;
    QGuiApplication::clipboard()->setText(messages_.contentOf(messageId));
    return true;
}

bool ChatController::copyLastReply() {
    for (int row = messages_.count() - 1; row >= 0; --row) {
        const QModelIndex index = messages_.index(row);
        if (messages_.data(index, fm::MessageListModel::RoleRole).toString() == QStringLiteral("assistant"))
            return copyMessage(messages_.idAt(row));
    }
    return false;
}

void ChatController::copyText(const QString& text) {
    QGuiApplication::clipboard()->setText(text);
}

QVariantList ChatController::messageBlocks(const QString& markdown) {
    QVariantList result;
    for (const MarkdownBlock& block : splitMarkdownBlocks(markdown)) {
        QVariantList rows;
        for (const QStringList& row : block.rows) rows.append(QVariant(row));
        result.append(QVariantMap{{QStringLiteral("kind"), kindName(block.kind)},
                                  {QStringLiteral("code"), block.code()},
                                  {QStringLiteral("text"), block.text},
                                  {QStringLiteral("language"), block.language},
                                  {QStringLiteral("closed"), block.closed},
                                  {QStringLiteral("rows"), rows},
                                  {QStringLiteral("alignments"), block.alignments}});
    }
    return result;
}

void ChatController::onGenerationStarted(quint64 requestId) {
    if (requestId != activeRequest_) return;
    if (memory_) memory_->noteTokens(0);
}

void ChatController::onPrefillProgress(quint64 requestId, qint64 done, qint64 total) {
    if (requestId != activeRequest_ || total <= 0) return;
    prefillProgress_ = done >= total ? -1 : static_cast<double>(done) / static_cast<double>(total);
    emit prefillProgressChanged();
}

void ChatController::setResumeNotice(const QString& notice) {
    if (notice == resumeNotice_) return;
    resumeNotice_ = notice;
    emit resumeNoticeChanged();
}

void ChatController::onResumePrepared(quint64 requestId, const QString& source, qint64 reusedTokens,
                                      const QString& reason) {
    Q_UNUSED(source);
    Q_UNUSED(reusedTokens);
    if (requestId != activeRequest_) return;
    setResumeNotice(reason.isEmpty() ? QString() : QStringLiteral("Reading the conversation again: %1.").arg(reason));
}

void ChatController::onTokens(quint64 requestId, const QString& text, int tokenCount) {
    if (requestId != activeRequest_) return;
    if (prefillProgress_ != -1) {
        prefillProgress_ = -1;
        emit prefillProgressChanged();
    }
    streamedText_ += text;
    if (!text.isEmpty() && currentId() == streamingConversationId_)
        messages_.appendStreamingText(streamingMessageId_, text);
    if (memory_) memory_->noteTokens(tokenCount);
}

// The worker tells the store itself (InferenceWorker::replyEnded); this is the window's side.
void ChatController::endReply() {
    streamingConversationId_ = 0;
    setGenerating(0, 0);
}

void ChatController::onFinished(quint64 requestId, const GenerationSummary& summary) {
    if (requestId != activeRequest_) return;
    const qint64 messageId = streamingMessageId_;
    if (memory_) memory_->noteGenerationFinished(summary.tokensPerSecond);
    endReply();
    emit replyFinished(messageId, summary.stopReason);
}

void ChatController::onFailed(quint64 requestId, const QString& error) {
    if (requestId != activeRequest_) return;
    const qint64 messageId = streamingMessageId_;
    features_.errors->report(QStringLiteral("The reply failed: %1").arg(error));
    endReply();
    emit replyFailed(messageId, error);
}

void ChatController::onSaved(qint64 messageId, bool ok, const QString& error) {
    if (!ok) features_.errors->report(QStringLiteral("Saving the reply failed: %1").arg(error));
    if (auto message = store_->message(messageId)) {
        messages_.updateMessage(*message);
        features_.conversations->list()->refreshConversation(message->conversationId);
    }
    emit replySaved(messageId);
}

void ChatController::shutdown() {
    if (activeRequest_ == 0) return;
    const qint64 messageId = streamingMessageId_;
    endReply();
    if (!saver_) return;
    // The worker has stopped and marked the reply interrupted, unless it never started it:
    // then what streamed is kept, marked as cut off. Behind the worker's saves in the queue.
    callOnItsThread(saver_,
                    [messageId, text = streamedText_](StreamingSaver* saver) { saver->interrupt(messageId, text); });
}

}  // namespace fm::app
