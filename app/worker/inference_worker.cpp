#include "app/worker/inference_worker.h"

#include <QDir>
#include <QThread>

#include <algorithm>
#include <chrono>
#include <optional>

#include "app/checkpoint_inspection.h"
#include "app/worker/chat_format_adapter.h"
#include "app/worker/session_resumer.h"

namespace fm::app {

struct InferenceWorker::LoadedModel {
    std::unique_ptr<fm::Model> model;
    std::unique_ptr<fm::GenerationSession> session;
    int sessionFormatKey = -1;  // formatKey() of what the session was built with
    LoadedModelInfo info;
};

namespace {

fm::BackendKind toEngineKind(BackendChoiceKind kind) {
    switch (kind) {
    case BackendChoiceKind::Cpu: return fm::BackendKind::Cpu;
    case BackendChoiceKind::Cuda: return fm::BackendKind::Cuda;
    case BackendChoiceKind::Auto: break;
    }
    return fm::BackendKind::Auto;
}

QString stopReasonText(fm::StopReason reason) {
    switch (reason) {
    case fm::StopReason::StopToken: return QStringLiteral("stop_token");
    case fm::StopReason::StopString: return QStringLiteral("stop_string");
    case fm::StopReason::Length: return QStringLiteral("length");
    case fm::StopReason::Cancelled: return QStringLiteral("cancelled");
    }
    return {};
}

}  // namespace

InferenceWorker::InferenceWorker(QObject* parent) : QObject(parent) {}

InferenceWorker::~InferenceWorker() = default;

void InferenceWorker::requestStop(quint64 requestId) {
    // Order matters (see generate()): publish the stop first, then cancel if it is running.
    quint64 seen = stopRequestedUpTo_.load();
    while (seen < requestId && !stopRequestedUpTo_.compare_exchange_weak(seen, requestId)) {}
    if (activeRequestId_.load() == requestId) cancelGeneration_.store(true);
}

void InferenceWorker::requestStopAll() {
    stopAllRequested_.store(true);
    const quint64 active = activeRequestId_.load();
    if (active != 0) requestStop(active);
    cancelGeneration_.store(true);
}

void InferenceWorker::requestCancelLoad() {
    cancelLoad_.store(true);
}

void InferenceWorker::setTokenPacer(std::shared_ptr<TokenPacer> pacer) {
    std::lock_guard lock(pacerMutex_);
    pacer_ = std::move(pacer);
}

std::shared_ptr<InferenceWorker::TokenPacer> InferenceWorker::pacer() const {
    std::lock_guard lock(pacerMutex_);
    return pacer_;
}

void InferenceWorker::releaseModel() {
    model_.reset();
    sessionConversationId_ = 0;
}

void InferenceWorker::loadModel(const ModelLoadRequest& request) {
    cancelLoad_.store(false);
    releaseModel();  // one model at a time: a 7B checkpoint does not fit twice
    emit loadProgress(0.0);

    const CheckpointCheck check = checkCheckpointFiles(request.checkpointDir);
    if (!check.ok) {
        emit loadFailed(check.message, false);
        return;
    }
    const std::filesystem::path dir = QDir(request.checkpointDir).absolutePath().toStdString();
    fm::ModelOptions options;
    options.quantize_4bit = request.quantize4bit;
    options.tokenizer = fm::TokenizerPolicy::Required;  // the window chats in text
    options.backend.kind = toEngineKind(request.backend);
    options.backend.cpu_threads = request.cpuThreads;
    options.cancel = &cancelLoad_;
    // Progress is reported per tensor; rate-limit so a big checkpoint doesn't flood the GUI.
    QElapsedTimer progressTimer;
    progressTimer.start();
    options.progress = [this, &progressTimer](int64_t done, int64_t total) {
        if (total <= 0) return;
        if (done < total && progressTimer.elapsed() < 50) return;
        progressTimer.restart();
        emit loadProgress(0.95 * static_cast<double>(done) / static_cast<double>(total));
    };
    auto loaded = fm::Model::load(dir, options);
    if (cancelLoad_.load()) {
        emit loadFailed(QStringLiteral("Loading was cancelled."), true);
        return;
    }
    if (!loaded) {
        emit loadFailed(QString::fromStdString(loaded.error()), false);
        return;
    }

    auto model = std::make_unique<LoadedModel>();
    model->model = std::move(*loaded);
    const fm::Model& m = *model->model;

    LoadedModelInfo& info = model->info;
    info.checkpointDir = QDir::cleanPath(QString::fromStdString(dir.string()));
    info.displayName = check.displayName;
    info.backendName = QString::fromStdString(m.backend().name());
    info.fallbackReason = QString::fromStdString(m.backend_fallback_reason());
    info.quantized4bit = request.quantize4bit;
    info.chatTemplate = formatIsChat(*m.chat_format());
    info.weightBytes = m.weights().weight_bytes();
    info.stateBytes = m.config().state_bytes();
    info.parameterCount = m.config().parameter_count();
    info.fingerprint = QString::fromStdString(m.weights().fingerprint());
    model_ = std::move(model);

    emit loadProgress(1.0);
    emit modelLoaded(model_->info);
    emit memoryReported(currentMemory());
}

void InferenceWorker::unloadModel() {
    releaseModel();
    emit modelUnloaded();
}

void InferenceWorker::resetSession() {
    if (model_ && model_->session) model_->session->reset();
    emit memoryReported(currentMemory());
}

MemoryFigures InferenceWorker::currentMemory() const {
    MemoryFigures figures;
    if (!model_) return figures;
    figures.backend = model_->model->backend().memory();
    figures.tokensProcessed = model_->session ? static_cast<qint64>(model_->session->context_tokens().size()) : 0;
    return figures;
}

void InferenceWorker::reportMemory() {
    emit memoryReported(currentMemory());
}

void InferenceWorker::openSnapshots(const QString& databasePath, const QString& directory, int retentionConversations) {
    auto resumer = std::make_unique<SessionResumer>();
    resumer->setRetention(retentionConversations);
    if (const QString error = resumer->open(databasePath, directory); !error.isEmpty()) {
        resumer_.reset();
        emit snapshotWarning(QStringLiteral("Conversation states cannot be kept: %1").arg(error));
        return;
    }
    resumer_ = std::move(resumer);
    for (const QString& problem : resumer_->applyRetention()) emit snapshotWarning(problem);
    reportSnapshotUsage();
}

void InferenceWorker::setSnapshotRetention(int conversations) {
    if (!resumer_) return;
    resumer_->setRetention(conversations);
    for (const QString& problem : resumer_->applyRetention()) emit snapshotWarning(problem);
    reportSnapshotUsage();
}

void InferenceWorker::reportSnapshotUsage() {
    emit snapshotUsage(resumer_ ? resumer_->diskUsageBytes() : 0, resumer_ ? resumer_->fileCount() : 0);
}

// What one reply carries from step to step.
struct InferenceWorker::ReplyRun {
    std::vector<fm::ChatMessage> messages;
    std::vector<fm::PromptSegment> prompt;  // rendered once, used by every step
    std::string fingerprint;                // of the model setup, for saved states
    ResumeOutcome resume;
    std::optional<fm::SessionSnapshot> beforeReply;
    fm::Result<fm::GenerationResult> result = fm::Error{"not run"};

    // Streamed text: all of it, and what waits for the next batch.
    QString text;
    QString pending;
    int pendingTokens = 0;
    qint64 totalTokens = 0;
    QElapsedTimer batchTimer, memoryTimer, saveTimer;
};

void InferenceWorker::generate(const GenerationRequest& request) {
    // Publish which request runs before clearing the flag, then look for a stop that came
    // while it was queued: with requestStop() doing the reverse, no stop is ever lost.
    activeRequestId_.store(request.requestId);
    cancelGeneration_.store(false);
    if (stopRequestedUpTo_.load() >= request.requestId) cancelGeneration_.store(true);
    struct ClearActive {
        std::atomic<quint64>& id;
        ~ClearActive() { id.store(0); }
    } clearActive{activeRequestId_};

    if (!model_) return failReply(request, QStringLiteral("No model is loaded."));
    if (request.messages.isEmpty()) return failReply(request, QStringLiteral("Nothing to reply to."));
    emit generationStarted(request.requestId);
    useSessionFor(request);

    ReplyRun run;
    run.messages.reserve(static_cast<size_t>(request.messages.size()));
    for (const ChatTurn& turn : request.messages) run.messages.push_back(makeChatMessage(turn.role, turn.content));
    readAndReply(request, run);
    if (!run.result) {
        // The state may be half-updated: start clean next time.
        model_->session->reset();
        failReply(request, QString::fromStdString(run.result.error()), run.text);
        emit memoryReported(currentMemory());
        return;
    }
    reportReply(request, run);
    keepStates(request, run);
}

void InferenceWorker::failReply(const GenerationRequest& request, const QString& error, const QString& textSoFar) {
    // The GUI hears first, so that the store's "saved" comes after (see ChatController::onSaved).
    emit generationFailed(request.requestId, error);
    if (request.replyMessageId != 0)
        emit replyEnded(request.replyMessageId, fm::MessageStatus::Error, -1, -1, textSoFar);
}

// One active session: another conversation, or another mode, starts from a fresh state.
void InferenceWorker::useSessionFor(const GenerationRequest& request) {
    const int wantedKey = request.completionMode ? 1 : 0;
    if (model_->session && sessionConversationId_ == request.conversationId && model_->sessionFormatKey == wantedKey)
        return;
    model_->model->backend().reset_state();
    model_->session = model_->model->new_session(formatFor(*model_->model->chat_format(), request.completionMode));
    model_->sessionFormatKey = wantedKey;
    sessionConversationId_ = request.conversationId;
}

// Tokens go out in batches (at most one signal per kTokenBatchMs), memory figures twice a second.
fm::GenerationCallbacks InferenceWorker::streamingCallbacks(const GenerationRequest& request, ReplyRun& run) {
    fm::GenerationCallbacks callbacks;
    callbacks.cancel = &cancelGeneration_;
    callbacks.on_prefill_progress = [this, id = request.requestId](int64_t done, int64_t total) {
        emit prefillProgress(id, done, total);
    };
    callbacks.on_token = [this, &run, id = request.requestId, messageId = request.replyMessageId, pacer = pacer()](
                             int32_t, const std::string& text) {
        const QString piece = QString::fromStdString(text);
        run.text += piece;
        run.pending += piece;
        ++run.pendingTokens;
        ++run.totalTokens;
        if (run.batchTimer.elapsed() >= kTokenBatchMs) {
            emit tokensGenerated(id, run.pending, run.pendingTokens);
            run.pending.clear();
            run.pendingTokens = 0;
            run.batchTimer.restart();
        }
        if (messageId != 0 && run.saveTimer.elapsed() >= kSaveIntervalMs) {
            emit replyTextSoFar(messageId, run.text);
            run.saveTimer.restart();
        }
        if (run.memoryTimer.elapsed() >= 500) {
            run.memoryTimer.restart();
            MemoryFigures figures = currentMemory();
            figures.tokensProcessed += run.totalTokens;  // the session adds them at the end
            emit memoryReported(figures);
        }
        if (pacer) pacer->afterToken(cancelGeneration_);
    };
    return callbacks;
}

// Instant resume: start from the deepest saved state of this branch this model can use,
// read the prompt (a reply of zero tokens), keep the state before sampling for
// regeneration, then generate from it: the same tokens as one reply() call.
void InferenceWorker::readAndReply(const GenerationRequest& request, ReplyRun& run) {
    fm::GenerationSession& session = *model_->session;
    auto rendered = fm::render_prompt(session.format(), run.messages, true);
    if (!rendered) {
        run.result = fm::Error{rendered.error()};
        return;
    }
    run.prompt = std::move(*rendered);
    if (resumer_) {
        run.fingerprint = SessionResumer::fingerprint(model_->model->backend(), model_->model->checkpoint_dir(),
                                                      request.completionMode);
        run.resume = resumer_->prepare(session, request, run.prompt, run.fingerprint);
        for (const QString& warning : run.resume.warnings) emit snapshotWarning(warning);
    }
    emit resumePrepared(request.requestId, run.resume.source, run.resume.reusedTokens, run.resume.reason);

    fm::GenerationParams params = request.params;
    if (request.ignoreStopTokens) params.ignore_stop_ids = true;
    run.batchTimer.start();
    run.memoryTimer.start();
    run.saveTimer.start();
    const fm::GenerationCallbacks callbacks = streamingCallbacks(request, run);
    const auto flush = [&] {
        if (run.pendingTokens == 0 && run.pending.isEmpty()) return;
        emit tokensGenerated(request.requestId, run.pending, run.pendingTokens);
        run.pending.clear();
        run.pendingTokens = 0;
    };
    if (!resumer_ || !resumer_->saving()) {
        run.result = session.reply_to_prompt(run.prompt, params, callbacks);
        flush();
        return;
    }
    fm::GenerationParams readOnly = params;
    readOnly.max_new_tokens = 0;
    auto read = session.reply_to_prompt(run.prompt, readOnly, callbacks);
    if (!read || read->stop_reason == fm::StopReason::Cancelled) {
        run.result = std::move(read);
        flush();
        return;
    }
    run.beforeReply = session.snapshot();
    run.result = session.reply_to_prompt(run.prompt, params, callbacks);
    flush();
    if (!run.result) return;
    run.result->prefilled_tokens += read->prefilled_tokens;
    run.result->prefill_seconds += read->prefill_seconds;
    run.result->prompt_tokens = read->prompt_tokens;
    run.result->restarted = read->restarted;
    run.result->restart_reason = read->restart_reason;
}

void InferenceWorker::reportReply(const GenerationRequest& request, const ReplyRun& run) {
    const fm::GenerationResult& result = *run.result;
    GenerationSummary summary;
    summary.text = QString::fromStdString(result.text);
    summary.stopReason = stopReasonText(result.stop_reason);
    summary.promptTokens = result.prompt_tokens;
    summary.prefilledTokens = result.prefilled_tokens;
    summary.generatedTokens = static_cast<qint64>(result.tokens.size());
    summary.prefillSeconds = result.prefill_seconds;
    summary.decodeSeconds = result.decode_seconds;
    summary.tokensPerSecond = result.decode_tokens_per_second();
    summary.restarted = result.restarted;
    summary.restartReason = QString::fromStdString(result.restart_reason);
    if (!run.resume.reason.isEmpty()) {
        summary.restarted = run.resume.source.isEmpty();
        summary.restartReason = run.resume.reason;
    }
    summary.resumedFrom = run.resume.source;
    summary.reusedTokens = run.resume.reusedTokens;
    // The GUI hears first, so that the store's "saved" comes after (see ChatController::onSaved).
    emit generationFinished(request.requestId, summary);
    if (request.replyMessageId != 0) {
        // Stopped because the app is closing: kept, marked as cut off.
        if (stopAllRequested_.load() && result.stop_reason == fm::StopReason::Cancelled)
            emit replyEnded(request.replyMessageId, fm::MessageStatus::Interrupted, -1, -1, summary.text);
        else
            emit replyEnded(request.replyMessageId, fm::MessageStatus::Complete, static_cast<int>(summary.promptTokens),
                            static_cast<int>(summary.generatedTokens), summary.text);
    }
    emit memoryReported(currentMemory());
}

// After the reply is out: snapshots cost a state copy and tens of megabytes of writing.
// A reply cut off while the prompt was read leaves a partial state: nothing to keep.
void InferenceWorker::keepStates(const GenerationRequest& request, const ReplyRun& run) {
    if (!resumer_ || !resumer_->saving() || !run.beforeReply) return;
    for (const QString& problem : resumer_->saveAfterReply(*model_->session, request, run.messages, run.result->text,
                                                           run.beforeReply, run.fingerprint))
        emit snapshotWarning(problem);
    reportSnapshotUsage();
}

}  // namespace fm::app
