#pragma once
// Plain values that cross the thread boundary between the GUI and the inference worker.
// Everything is copied through queued signals: no pointers into either thread's objects.

#include <QList>
#include <QMetaType>
#include <QString>

#include "inference/backends/backend.h"
#include "inference/session/generation.h"

namespace fm::app {

enum class BackendChoiceKind { Auto, Cpu, Cuda };

struct ModelLoadRequest {
    QString checkpointDir;
    BackendChoiceKind backend = BackendChoiceKind::Auto;
    bool quantize4bit = false;
    int cpuThreads = 0;  // 0: all cores
};

struct LoadedModelInfo {
    QString checkpointDir;
    QString displayName;     // folder name, or the Hugging Face repo name for a hub snapshot
    QString backendName;     // "cpu (8 threads)", "cuda (NVIDIA H200)"
    QString fallbackReason;  // why CUDA was not used although it was wanted
    bool quantized4bit = false;
    bool chatTemplate = false;  // the checkpoint's own mode is chat (else plain completion)
    qint64 weightBytes = 0;
    qint64 stateBytes = 0;
    qint64 parameterCount = 0;
    QString fingerprint;
};

struct ChatTurn {
    QString role;  // "system", "user", "assistant"
    QString content;
};

struct GenerationRequest {
    quint64 requestId = 0;
    qint64 conversationId = 0;
    QList<ChatTurn> messages;  // the visible branch, ending with the user's message
    // Instant resume: the stored message behind each of `messages` (0 for the system prompt),
    // and the assistant message this reply goes into. Snapshots are keyed to them.
    QList<qint64> messageIds;
    qint64 replyMessageId = 0;
    bool completionMode = false;  // plain text continuation instead of the chat template
    fm::GenerationParams params;
    // Generate exactly max_new_tokens: the format's stop ids are ignored (memory tests, demos).
    bool ignoreStopTokens = false;
};

struct GenerationSummary {
    QString text;
    QString stopReason;  // "stop_token", "stop_string", "length", "cancelled"
    qint64 promptTokens = 0;
    qint64 prefilledTokens = 0;
    qint64 generatedTokens = 0;
    double prefillSeconds = 0;
    double decodeSeconds = 0;
    double tokensPerSecond = 0;
    bool restarted = false;
    QString restartReason;
    // Instant resume: where the state started ("memory", "turn", "before_reply",
    // "checkpoint", or empty: from the start) and how many tokens it had already read.
    QString resumedFrom;
    qint64 reusedTokens = 0;
};

struct MemoryFigures {
    fm::MemoryReport backend;    // weights, state, workspace and device memory, as the backend reports them
    qint64 tokensProcessed = 0;  // tokens the active session's state has consumed
};

}  // namespace fm::app

Q_DECLARE_METATYPE(fm::app::ModelLoadRequest)
Q_DECLARE_METATYPE(fm::app::LoadedModelInfo)
Q_DECLARE_METATYPE(fm::app::GenerationRequest)
Q_DECLARE_METATYPE(fm::app::GenerationSummary)
Q_DECLARE_METATYPE(fm::app::MemoryFigures)
