#include "app/controllers/conversation_controller.h"

#include <QClipboard>
#include <QGuiApplication>

#include "app/controllers/memory_monitor.h"
#include "app/controllers/model_controller.h"
#include "app/controllers/storage_problem.h"
#include "app/markdown_blocks.h"
#include "app/storage/conversation_store.h"
#include "app/worker/inference_worker.h"
#include "app/worker/streaming_saver.h"

namespace fm::app {

const QString ConversationController::kNewChatTitle = QStringLiteral("New chat");

ConversationController::ConversationController(fm::ConversationStore* store, InferenceWorker* worker,
                                               StreamingSaver* saver, ModelController* models, MemoryMonitor* memory,
                                               QObject* parent)
    : QObject(parent),
      store_(store),
      worker_(worker),
      saver_(saver),
      models_(models),
      memory_(memory),
      settings_(store) {
    conversations_.setStore(store_);
    messages_.setStore(store_);
    connect(&conversations_, &fm::ConversationListModel::errorOccurred, this, &ConversationController::setError);
    connect(&messages_, &fm::MessageListModel::errorOccurred, this, &ConversationController::setError);
    connect(&settings_, &ChatSettings::errorOccurred, this, &ConversationController::setError);

    if (worker_) {
        // Queued: the worker's signals come from its own thread.
        connect(worker_, &InferenceWorker::generationStarted, this, &ConversationController::onGenerationStarted,
                Qt::QueuedConnection);
        connect(worker_, &InferenceWorker::prefillProgress, this, &ConversationController::onPrefillProgress,
                Qt::QueuedConnection);
        connect(worker_, &InferenceWorker::tokensGenerated, this, &ConversationController::onTokens,
                Qt::QueuedConnection);
        connect(worker_, &InferenceWorker::generationFinished, this, &ConversationController::onFinished,
                Qt::QueuedConnection);
        connect(worker_, &InferenceWorker::generationFailed, this, &ConversationController::onFailed,
                Qt::QueuedConnection);
        connect(worker_, &InferenceWorker::resumePrepared, this, &ConversationController::onResumePrepared,
                Qt::QueuedConnection);
        // A damaged saved state was set aside and is being rebuilt: worth telling, not fatal.
        connect(worker_, &InferenceWorker::snapshotWarning, this, &ConversationController::setError,
                Qt::QueuedConnection);
    }
    if (saver_) {
        connect(saver_, &StreamingSaver::finished, this, &ConversationController::onSaved, Qt::QueuedConnection);
        connect(saver_, &StreamingSaver::failed, this, &ConversationController::setError, Qt::QueuedConnection);
    }
    if (models_) {
        connect(models_, &ModelController::statusChanged, this, &ConversationController::canSendChanged);
        connect(models_, &ModelController::progressChanged, this, &ConversationController::canSendChanged);
        connect(models_, &ModelController::modelChanged, this, [this] {
            if (models_->isLoaded()) settings_.setCheckpointMode(!models_->checkpointIsChat());
        });
    }
    settings_.setConversation(0, {});
    // Start where the user left off: the most recent conversation.
    if (conversations_.count() > 0) selectConversation(conversations_.idAt(0));
}

ConversationController::~ConversationController() = default;

QString ConversationController::titleFrom(const QString& text) {
    QString line = text.trimmed().section(QLatin1Char('\n'), 0, 0).simplified();
    if (line.size() > kTitleLength) {
        line.truncate(kTitleLength - 1);
        const int space = line.lastIndexOf(QLatin1Char(' '));
        if (space > kTitleLength / 2) line.truncate(space);
        line += QChar(0x2026);  // …
    }
    return line.isEmpty() ? kNewChatTitle : line;
}

QString ConversationController::currentTitle() const {
    if (currentId_ == 0 || !store_) return {};
    const int row = conversations_.rowOf(currentId_);
    if (row >= 0)
        return conversations_.data(conversations_.index(row), fm::ConversationListModel::TitleRole).toString();
    auto conversation = store_->conversation(currentId_);
    return conversation ? conversation->title : QString();
}

bool ConversationController::canSend() const {
    return store_ && storageProblem_.isEmpty() && models_ && models_->isLoaded() && !isGenerating();
}

QString ConversationController::composerDisabledReason() const {
    if (!storageProblem_.isEmpty()) return storageProblem_;
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

void ConversationController::setError(const QString& message) {
    // A store error that is really the folder's (read-only, full, locked) says so and stops
    // the composer, so that nothing more is typed into a chat that cannot be saved.
    const StorageProblem problem =
        message.isEmpty() ? StorageProblem{} : classifyStorageError(message, dataDir_, storageFactsFor(dataDir_));
    const QString shown = problem.kind == StorageProblem::Kind::None ? message : problem.message;
    if (problem.kind != StorageProblem::Kind::None && storageProblem_ != problem.message) {
        storageProblem_ = problem.message;
        emit canSendChanged();
    }
    if (shown == errorMessage_) return;
    errorMessage_ = shown;
    emit errorMessageChanged();
}

void ConversationController::reportStorageError(const QString& error) {
    setError(error);
    if (storageProblem_.isEmpty()) {
        // Not one of the known causes: still nothing can be saved.
        storageProblem_ = error;
        emit canSendChanged();
    }
}

void ConversationController::dismissError() {
    // Dismissing is also "I fixed it, try again": the next write finds out.
    if (!storageProblem_.isEmpty() && store_) {
        storageProblem_.clear();
        emit canSendChanged();
    }
    setError({});
}

void ConversationController::showConversation(qint64 conversationId) {
    currentId_ = conversationId;
    if (activeRequest_ == 0) setResumeNotice({});
    if (conversationId == 0) {
        messages_.clear();
        settings_.setConversation(0, {});
    } else {
        messages_.loadConversation(conversationId);
        if (auto conversation = store_->conversation(conversationId))
            settings_.setConversation(conversationId, conversation->options);
        // Coming back to the conversation being answered: the database is up to a second
        // behind the stream, the model must show everything streamed so far.
        if (streamingConversationId_ == conversationId && streamingMessageId_ != 0 &&
            messages_.rowOf(streamingMessageId_) >= 0) {
            if (auto message = store_->message(streamingMessageId_)) {
                message->content = streamedText_;
                message->status = fm::MessageStatus::Streaming;
                messages_.updateMessage(*message);
            }
        }
    }
    emit currentConversationChanged();
}

qint64 ConversationController::newConversation() {
    if (!store_) return 0;
    // Ctrl+N on a conversation that is still empty stays there instead of piling up empties.
    if (currentId_ != 0 && messages_.count() == 0) return currentId_;
    const qint64 id = conversations_.createConversation(kNewChatTitle);
    if (id == 0) return 0;
    // The values shown for "no conversation" (the defaults, the checkpoint's mode) are its own.
    fm::ConversationOptions options = settings_.options();
    if (models_) options.model = models_->modelPath();
    if (auto status = store_->setConversationOptions(id, options); !status) setError(errorText(status));
    showConversation(id);
    return id;
}

bool ConversationController::selectConversation(qint64 conversationId) {
    if (!store_) return false;
    if (conversationId == currentId_) return true;
    auto conversation = store_->conversation(conversationId);
    if (!conversation || conversation->isDeleted()) {
        setError(conversation ? QStringLiteral("That conversation was deleted.") : errorText(conversation));
        return false;
    }
    showConversation(conversationId);
    return true;
}

bool ConversationController::renameConversation(qint64 conversationId, const QString& title) {
    const QString clean = title.simplified();
    if (clean.isEmpty()) return false;
    const bool ok = conversations_.renameConversation(conversationId, clean);
    if (ok && conversationId == currentId_) emit currentConversationChanged();
    return ok;
}

bool ConversationController::deleteConversation(qint64 conversationId) {
    if (conversationId == streamingConversationId_ && isGenerating()) stop();
    const int row = conversations_.rowOf(conversationId);
    const QString title =
        row >= 0 ? conversations_.data(conversations_.index(row), fm::ConversationListModel::TitleRole).toString()
                 : QString();
    if (!conversations_.deleteConversation(conversationId)) return false;
    undoConversationId_ = conversationId;
    undoTitle_ = title;
    emit undoChanged();
    if (conversationId == currentId_) {
        // Show the neighbour that took its place, as mail clients do.
        const int next = qMin(row, conversations_.count() - 1);
        showConversation(next >= 0 ? conversations_.idAt(next) : 0);
    }
    return true;
}

bool ConversationController::undoDelete() {
    if (undoConversationId_ == 0) return false;
    const qint64 id = undoConversationId_;
    if (!conversations_.undoDelete(id)) return false;
    dismissUndo();
    showConversation(id);
    return true;
}

void ConversationController::dismissUndo() {
    if (undoConversationId_ == 0) return;
    undoConversationId_ = 0;
    undoTitle_.clear();
    emit undoChanged();
}

bool ConversationController::send(const QString& text) {
    const QString content = text.trimmed();
    if (content.isEmpty() || !canSend()) return false;
    if (currentId_ == 0 && newConversation() == 0) return false;
    // The first message names the conversation (until the user renames it).
    if (messages_.count() == 0 && currentTitle() == kNewChatTitle) renameConversation(currentId_, titleFrom(content));

    fm::NewMessage message;
    message.role = fm::MessageRole::User;
    message.content = content;
    auto appended = store_->appendMessage(currentId_, message);
    if (!appended) {
        setError(errorText(appended));
        return false;
    }
    messages_.reload();
    conversations_.refreshConversation(currentId_);
    return startReply(appended->id);
}

QList<ChatTurn> ConversationController::promptFor(qint64 parentMessageId, QString* error, QList<qint64>* ids) const {
    QList<ChatTurn> turns;
    auto path = store_->pathTo(parentMessageId);
    if (!path) {
        *error = errorText(path);
        return turns;
    }
    const QString system = settings_.systemPrompt();
    if (!settings_.completionMode() && !system.isEmpty()) {
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

bool ConversationController::startReply(qint64 parentMessageId) {
    if (!canSend() || !worker_) return false;
    QString error;
    QList<qint64> ids;
    const QList<ChatTurn> turns = promptFor(parentMessageId, &error, &ids);
    if (!error.isEmpty()) {
        setError(error);
        return false;
    }
    GenerationRequest request;
    request.requestId = ++nextRequestId_;
    request.conversationId = currentId_;
    request.messages = turns;
    request.messageIds = ids;
    request.completionMode = settings_.completionMode();
    request.params = settings_.engineParams();

    fm::GenerationSettings used;
    used.temperature = request.params.sampling.temperature;
    used.topP = request.params.sampling.top_p;
    used.topK = request.params.sampling.top_k;
    used.minP = request.params.sampling.min_p;
    used.repeatPenalty = request.params.sampling.repeat_penalty;
    used.maxNewTokens = request.params.max_new_tokens;
    used.seed = static_cast<qint64>(request.params.sampling.seed);
    auto reply = store_->beginAssistantMessage(currentId_, parentMessageId, models_->modelPath(), used);
    if (!reply) {
        setError(errorText(reply));
        return false;
    }
    request.replyMessageId = reply->id;  // the worker keys this reply's saved states to it
    setResumeNotice({});
    streamedText_.clear();
    streamingConversationId_ = currentId_;
    sinceSave_.start();
    setGenerating(request.requestId, reply->id);
    messages_.reload();
    conversations_.refreshConversation(currentId_);

    QMetaObject::invokeMethod(
        worker_,
        [worker = worker_, request] {
            if (worker) worker->generate(request);
        },
        Qt::QueuedConnection);
    return true;
}

void ConversationController::setGenerating(quint64 requestId, qint64 messageId) {
    activeRequest_ = requestId;
    streamingMessageId_ = messageId;
    if (prefillProgress_ != -1) {
        prefillProgress_ = -1;
        emit prefillProgressChanged();
    }
    emit generatingChanged();
    emit canSendChanged();
}

void ConversationController::stop() {
    if (activeRequest_ != 0 && worker_) worker_->requestStop(activeRequest_);  // thread-safe, immediate
}

bool ConversationController::regenerate() {
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

bool ConversationController::editMessage(qint64 messageId, const QString& text) {
    const QString content = text.trimmed();
    if (!store_ || content.isEmpty() || isGenerating()) return false;
    auto edited = store_->editMessage(messageId, content);
    if (!edited) {
        setError(errorText(edited));
        return false;
    }
    messages_.reload();
    conversations_.refreshConversation(currentId_);
    // Editing a question asks it again; an edited answer simply stands.
    if (edited->role == fm::MessageRole::User && canSend()) return startReply(edited->id);
    return true;
}

bool ConversationController::showSibling(int row, int delta) {
    if (isGenerating()) return false;  // the branch on screen is the one being written
    return messages_.showSibling(row, delta);
}

bool ConversationController::copyMessage(qint64 messageId) {
    if (messages_.rowOf(messageId) < 0) return false;
    QGuiApplication::clipboard()->setText(messages_.contentOf(messageId));
    return true;
}

bool ConversationController::copyLastReply() {
    for (int row = messages_.count() - 1; row >= 0; --row) {
        const QModelIndex index = messages_.index(row);
        if (messages_.data(index, fm::MessageListModel::RoleRole).toString() == QStringLiteral("assistant"))
            return copyMessage(messages_.idAt(row));
    }
    return false;
}

void ConversationController::copyText(const QString& text) {
    QGuiApplication::clipboard()->setText(text);
}

QVariantList ConversationController::messageBlocks(const QString& markdown) {
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

void ConversationController::onGenerationStarted(quint64 requestId) {
    if (requestId != activeRequest_) return;
    if (memory_) memory_->noteTokens(0);
}

void ConversationController::onPrefillProgress(quint64 requestId, qint64 done, qint64 total) {
    if (requestId != activeRequest_ || total <= 0) return;
    prefillProgress_ = done >= total ? -1 : static_cast<double>(done) / static_cast<double>(total);
    emit prefillProgressChanged();
}

void ConversationController::setResumeNotice(const QString& notice) {
    if (notice == resumeNotice_) return;
    resumeNotice_ = notice;
    emit resumeNoticeChanged();
}

void ConversationController::onResumePrepared(quint64 requestId, const QString& source, qint64 reusedTokens,
                                              const QString& reason) {
    Q_UNUSED(source);
    Q_UNUSED(reusedTokens);
    if (requestId != activeRequest_) return;
    setResumeNotice(reason.isEmpty() ? QString() : QStringLiteral("Reading the conversation again: %1.").arg(reason));
}

void ConversationController::onTokens(quint64 requestId, const QString& text, int tokenCount) {
    if (requestId != activeRequest_) return;
    if (prefillProgress_ != -1) {
        prefillProgress_ = -1;
        emit prefillProgressChanged();
    }
    streamedText_ += text;
    if (!text.isEmpty() && currentId_ == streamingConversationId_)
        messages_.appendStreamingText(streamingMessageId_, text);
    if (memory_) memory_->noteTokens(tokenCount);
    if (saver_ && sinceSave_.elapsed() >= kSaveIntervalMs) {
        sinceSave_.restart();
        QMetaObject::invokeMethod(
            saver_,
            [saver = saver_, id = streamingMessageId_, content = streamedText_] {
                if (saver) saver->saveStreaming(id, content);
            },
            Qt::QueuedConnection);
    }
}

void ConversationController::finishReply(fm::MessageStatus status, int promptTokens, int completionTokens,
                                         const QString& finalText) {
    const qint64 messageId = streamingMessageId_;
    streamingConversationId_ = 0;
    setGenerating(0, 0);
    if (!saver_) return;
    // Through the saver: behind any partial save still queued there, so nothing overwrites it.
    QMetaObject::invokeMethod(
        saver_,
        [saver = saver_, messageId, status, promptTokens, completionTokens, finalText] {
            if (saver) saver->finish(messageId, status, promptTokens, completionTokens, finalText);
        },
        Qt::QueuedConnection);
}

void ConversationController::onFinished(quint64 requestId, const GenerationSummary& summary) {
    if (requestId != activeRequest_) return;
    const qint64 messageId = streamingMessageId_;
    if (memory_) memory_->noteGenerationFinished(summary.tokensPerSecond);
    // The streamed chunks and the final text agree; the final one drops a held-back stop
    // string prefix, so it is the one kept.
    finishReply(fm::MessageStatus::Complete, static_cast<int>(summary.promptTokens),
                static_cast<int>(summary.generatedTokens), summary.text);
    emit replyFinished(messageId, summary.stopReason);
}

void ConversationController::onFailed(quint64 requestId, const QString& error) {
    if (requestId != activeRequest_) return;
    const qint64 messageId = streamingMessageId_;
    setError(QStringLiteral("The reply failed: %1").arg(error));
    finishReply(fm::MessageStatus::Error, -1, -1, streamedText_);
    emit replyFailed(messageId, error);
}

void ConversationController::onSaved(qint64 messageId, bool ok, const QString& error) {
    if (!ok) setError(QStringLiteral("Saving the reply failed: %1").arg(error));
    if (auto message = store_->message(messageId)) {
        messages_.updateMessage(*message);
        conversations_.refreshConversation(message->conversationId);
    }
    emit replySaved(messageId);
}

void ConversationController::shutdown() {
    if (activeRequest_ == 0) return;
    // The worker has stopped; whatever streamed is kept, marked as cut off.
    finishReply(fm::MessageStatus::Interrupted, -1, -1, streamedText_);
}

}  // namespace fm::app
