#include "app/worker/inference_worker.h"

#include <QDir>
#include <QThread>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

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

InferenceWorker::InferenceWorker(QObject* parent) : QObject(parent) {
    testTokenDelayMs_.store(std::max(0, qEnvironmentVariableIntValue("FM_TEST_TOKEN_DELAY_MS")));
}

InferenceWorker::~InferenceWorker() = default;

void InferenceWorker::requestStop(quint64 requestId) {
    // Order matters (see generate()): publish the stop first, then cancel if it is running.
    quint64 seen = stopRequestedUpTo_.load();
    while (seen < requestId && !stopRequestedUpTo_.compare_exchange_weak(seen, requestId)) {}
    if (activeRequestId_.load() == requestId) cancelGeneration_.store(true);
}

void InferenceWorker::requestStopAll() {
    const quint64 active = activeRequestId_.load();
    if (active != 0) requestStop(active);
    cancelGeneration_.store(true);
}

void InferenceWorker::requestCancelLoad() {
    cancelLoad_.store(true);
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
    const fm::MemoryReport report = model_->model->backend().memory();
    figures.weightBytes = report.weight_bytes;
    figures.stateBytes = report.state_bytes;
    figures.workspaceBytes = report.workspace_bytes;
    figures.deviceFreeBytes = report.device_free_bytes;
    figures.deviceTotalBytes = report.device_total_bytes;
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

    if (!model_) {
        emit generationFailed(request.requestId, QStringLiteral("No model is loaded."));
        return;
    }
    if (request.messages.isEmpty()) {
        emit generationFailed(request.requestId, QStringLiteral("Nothing to reply to."));
        return;
    }
    emit generationStarted(request.requestId);

    // One active session: another conversation, or another mode, starts from a fresh state.
    const int wantedKey = request.completionMode ? 1 : 0;
    if (!model_->session || sessionConversationId_ != request.conversationId || model_->sessionFormatKey != wantedKey) {
        model_->model->backend().reset_state();
        model_->session = model_->model->new_session(formatFor(*model_->model->chat_format(), request.completionMode));
        model_->sessionFormatKey = wantedKey;
        sessionConversationId_ = request.conversationId;
    }

    std::vector<fm::ChatMessage> messages;
    messages.reserve(static_cast<size_t>(request.messages.size()));
    for (const ChatTurn& turn : request.messages) messages.push_back(makeChatMessage(turn.role, turn.content));

    QString pending;
    int pendingTokens = 0;
    qint64 totalTokens = 0;
    QElapsedTimer batchTimer;
    batchTimer.start();
    QElapsedTimer memoryTimer;
    memoryTimer.start();
    const auto flush = [&] {
        if (pendingTokens == 0 && pending.isEmpty()) return;
        emit tokensGenerated(request.requestId, pending, pendingTokens);
        pending.clear();
        pendingTokens = 0;
        batchTimer.restart();
    };

    fm::GenerationCallbacks callbacks;
    callbacks.cancel = &cancelGeneration_;
    callbacks.on_prefill_progress = [&](int64_t done, int64_t total) {
        emit prefillProgress(request.requestId, done, total);
    };
    callbacks.on_token = [&](int32_t, const std::string& text) {
        pending += QString::fromStdString(text);
        ++pendingTokens;
        ++totalTokens;
        if (batchTimer.elapsed() >= kTokenBatchMs) flush();
        if (memoryTimer.elapsed() >= 500) {
            memoryTimer.restart();
            MemoryFigures figures = currentMemory();
            figures.tokensProcessed += totalTokens;  // the session adds them at the end
            emit memoryReported(figures);
        }
        if (const int delay = testTokenDelayMs_.load(); delay > 0) {
            // Sleep in slices so that a stop still lands at once.
            for (int slept = 0; slept < delay && !cancelGeneration_.load(); slept += 5)
                std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5, delay - slept)));
        }
    };

    fm::GenerationParams params = request.params;
    if (request.ignoreStopTokens) params.ignore_stop_ids = true;

    // Instant resume: start from the deepest saved state of this branch this model can use,
    // read the prompt (a reply of zero tokens), keep the state before sampling for
    // regeneration, then generate from it: the same tokens as one reply() call.
    ResumeOutcome resume;
    std::string fingerprint;
    if (resumer_) {
        fingerprint = SessionResumer::fingerprint(model_->model->backend(), model_->model->checkpoint_dir(),
                                                  request.completionMode);
        resume = resumer_->prepare(*model_->session, request, messages, fingerprint);
        for (const QString& warning : resume.warnings) emit snapshotWarning(warning);
    }
    emit resumePrepared(request.requestId, resume.source, resume.reusedTokens, resume.reason);
    std::optional<fm::SessionSnapshot> beforeReply;
    auto result = [&]() -> fm::Result<fm::GenerationResult> {
        if (!resumer_ || !resumer_->saving()) return model_->session->reply(messages, params, callbacks);
        fm::GenerationParams readOnly = params;
        readOnly.max_new_tokens = 0;
        auto read = model_->session->reply(messages, readOnly, callbacks);
        if (!read || read->stop_reason == fm::StopReason::Cancelled) return read;
        beforeReply = model_->session->snapshot();
        auto reply = model_->session->reply(messages, params, callbacks);
        if (!reply) return reply;
        reply->prefilled_tokens += read->prefilled_tokens;
        reply->prefill_seconds += read->prefill_seconds;
        reply->prompt_tokens = read->prompt_tokens;
        reply->restarted = read->restarted;
        reply->restart_reason = read->restart_reason;
        return reply;
    }();
    flush();
    if (!result) {
        // The state may be half-updated: start clean next time.
        model_->session->reset();
        emit generationFailed(request.requestId, QString::fromStdString(result.error()));
        emit memoryReported(currentMemory());
        return;
    }
    GenerationSummary summary;
    summary.text = QString::fromStdString(result->text);
    summary.stopReason = stopReasonText(result->stop_reason);
    summary.promptTokens = result->prompt_tokens;
    summary.prefilledTokens = result->prefilled_tokens;
    summary.generatedTokens = static_cast<qint64>(result->tokens.size());
    summary.prefillSeconds = result->prefill_seconds;
    summary.decodeSeconds = result->decode_seconds;
    summary.tokensPerSecond = result->decode_tokens_per_second();
    summary.restarted = result->restarted;
    summary.restartReason = QString::fromStdString(result->restart_reason);
    if (!resume.reason.isEmpty()) {
        summary.restarted = resume.source.isEmpty();
        summary.restartReason = resume.reason;
    }
    summary.resumedFrom = resume.source;
    summary.reusedTokens = resume.reusedTokens;
    emit generationFinished(request.requestId, summary);
    emit memoryReported(currentMemory());

    // After the reply is out: snapshots cost a state copy and tens of megabytes of writing.
    // A reply cut off while the prompt was read leaves a partial state: nothing to keep.
    if (resumer_ && resumer_->saving() && beforeReply) {
        for (const QString& problem :
             resumer_->saveAfterReply(*model_->session, request, messages, result->text, beforeReply, fingerprint))
            emit snapshotWarning(problem);
        reportSnapshotUsage();
    }
}

}  // namespace fm::app
