#pragma once
// The inference worker: loads a checkpoint, prefills and streams tokens on its own thread.
//
// Lives in a QThread (see InferenceThread). The GUI calls its slots only through queued
// connections (or QMetaObject::invokeMethod with Qt::QueuedConnection) and hears back through
// queued signals; it never waits for this object. Because a slot that is generating keeps the
// worker's event loop busy, stopping cannot be a queued call: requestStop() and
// requestCancelLoad() are thread-safe and flip std::atomic flags that the engine checks
// between tokens and prefill chunks.

#include <QElapsedTimer>
#include <QObject>

#include <atomic>
#include <memory>
#include <mutex>

#include "app/storage/storage_types.h"
#include "app/worker/inference_types.h"
#include "inference/backends/backend.h"
#include "inference/chat/chat_format.h"
#include "inference/checkpoint/weights.h"
#include "inference/model/model.h"
#include "inference/session/generation.h"
#include "inference/text/tokenizer.h"

namespace fm::app {

class SessionResumer;

class InferenceWorker : public QObject {
    Q_OBJECT
public:
    explicit InferenceWorker(QObject* parent = nullptr);
    ~InferenceWorker() override;

    // Thread-safe. Stops generation `requestId` at once if it is running, or as soon as it
    // starts if it is still queued.
    void requestStop(quint64 requestId);
    // Thread-safe. Stops whatever is generating now and everything queued so far (the app is
    // closing: the reply being written ends as interrupted).
    void requestStopAll();
    // Thread-safe. Abandons the load in progress (between tensors).
    void requestCancelLoad();

    // The shortest interval between two tokensGenerated signals: batching keeps the GUI
    // thread from repainting for every token of a fast model.
    static constexpr int kTokenBatchMs = 30;
    // The shortest interval between two replyTextSoFar signals.
    static constexpr int kSaveIntervalMs = 1000;

    // Called on the worker thread after each generated token, with the cancel flag it should
    // honour. The app installs none; a caller that wants replies to stream at a given pace (a
    // demonstration, or a test that acts mid-stream) installs one. Thread-safe; null removes it.
    class TokenPacer {
    public:
        virtual ~TokenPacer() = default;
        virtual void afterToken(const std::atomic<bool>& cancel) = 0;
    };
    void setTokenPacer(std::shared_ptr<TokenPacer> pacer);

public slots:
    void loadModel(const fm::app::ModelLoadRequest& request);
    void unloadModel();
    void generate(const fm::app::GenerationRequest& request);
    // Forgets what the session's state has seen (next generation prefills from scratch).
    void resetSession();
    void reportMemory();

    // Instant resume: keep each conversation's recurrent state in `directory` (rows in the
    // database at `databasePath`, through this thread's own connection) for the
    // `retentionConversations` most recent conversations. Without this, every conversation
    // switch reads the history again.
    void openSnapshots(const QString& databasePath, const QString& directory, int retentionConversations);
    void setSnapshotRetention(int conversations);
    void reportSnapshotUsage();

signals:
    void loadProgress(double fraction);
    void modelLoaded(const fm::app::LoadedModelInfo& info);
    void loadFailed(const QString& error, bool cancelled);
    void modelUnloaded();

    void generationStarted(quint64 requestId);
    void prefillProgress(quint64 requestId, qint64 done, qint64 total);
    // New text since the previous signal (complete UTF-8 characters only) and how many tokens
    // it came from; the concatenation of every chunk is the final text.
    void tokensGenerated(quint64 requestId, const QString& text, int tokenCount);
    void generationFinished(quint64 requestId, const fm::app::GenerationSummary& summary);
    void generationFailed(quint64 requestId, const QString& error);
    // For the store (StreamingSaver), for requests with a reply message: the whole text so far
    // about once a second, then how the reply ended (token counts -1 when unknown). The
    // concatenation of tokensGenerated's chunks is the same text.
    void replyTextSoFar(qint64 messageId, const QString& text);
    void replyEnded(qint64 messageId, fm::MessageStatus status, int promptTokens, int completionTokens,
                    const QString& finalText);

    void memoryReported(const fm::app::MemoryFigures& figures);

    // Before the prompt is read: where the state starts (see GenerationSummary::resumedFrom)
    // and, when history is read again, why (empty otherwise).
    void resumePrepared(quint64 requestId, const QString& source, qint64 reusedTokens, const QString& reason);
    // A saved state was damaged (set aside and rebuilt) or could not be saved.
    void snapshotWarning(const QString& message);
    void snapshotUsage(qint64 bytes, int files);

private:
    struct LoadedModel;

    struct ReplyRun;

    MemoryFigures currentMemory() const;
    void releaseModel();
    // The steps of generate(), in order.
    void useSessionFor(const GenerationRequest& request);
    fm::GenerationCallbacks streamingCallbacks(const GenerationRequest& request, ReplyRun& run);
    void readAndReply(const GenerationRequest& request, ReplyRun& run);
    void reportReply(const GenerationRequest& request, const ReplyRun& run);
    void keepStates(const GenerationRequest& request, const ReplyRun& run);
    void failReply(const GenerationRequest& request, const QString& error, const QString& textSoFar = {});

    std::unique_ptr<LoadedModel> model_;
    std::unique_ptr<SessionResumer> resumer_;  // null until openSnapshots()
    qint64 sessionConversationId_ = 0;

    std::atomic<bool> cancelGeneration_{false};
    std::atomic<quint64> activeRequestId_{0};
    std::atomic<quint64> stopRequestedUpTo_{0};
    std::atomic<bool> cancelLoad_{false};
    std::atomic<bool> stopAllRequested_{false};

    std::shared_ptr<TokenPacer> pacer() const;

    mutable std::mutex pacerMutex_;
    std::shared_ptr<TokenPacer> pacer_;
};

}  // namespace fm::app
