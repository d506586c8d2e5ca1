#pragma once
// One inference thread serving requests in order, one generation at a time, from a bounded
// queue. Each request's prompt is restored from the longest cached prefix when there is one,
// so only its new tokens are read. Connection threads wait on their own Job for text; a job
// whose client has gone is cancelled and stops within one token.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/server/prefix_cache.h"
#include "inference/model/model.h"

namespace fm::server {

struct Job {
    // Set by the caller before submit().
    std::vector<int32_t> prompt;
    GenerationParams params;
    std::atomic<bool> cancel{false};
    // Asked on the inference thread after every token: true when the client has gone, which
    // cancels the job before the next token.
    std::function<bool()> client_gone;
    // Chat only: the tokens the reply's text becomes when the client sends it back inside the
    // next prompt. When they differ from the generated tokens (a stop string, text that does
    // not round-trip), the state for them is built after the reply so the next turn hits.
    std::function<Result<std::vector<int32_t>>(const std::string& reply)> resent_reply_tokens;

    // Filled by the inference thread, read under `mutex`.
    std::mutex mutex;
    std::condition_variable changed;
    std::string pending_text;  // reply text not yet taken by the connection thread
    bool done = false;
    std::string error;  // non-empty: the engine failed
    GenerationResult result;
    int64_t cached_tokens = 0;  // prompt tokens restored from the prefix cache

    // Waits until there is text or the job is done, at most `timeout`. Moves the text out.
    std::string take_text(std::chrono::milliseconds timeout, bool& finished);
};

struct QueueStats {
    int64_t served = 0, cancelled = 0, cache_hits = 0, cache_entries = 0, cache_bytes = 0, waiting = 0;
};

class InferenceQueue {
public:
    // `max_waiting` jobs may wait behind the running one; `cache_bytes` bounds the prefix cache.
    InferenceQueue(Model& model, size_t max_waiting, int64_t cache_bytes);
    ~InferenceQueue();
    InferenceQueue(const InferenceQueue&) = delete;
    InferenceQueue& operator=(const InferenceQueue&) = delete;

    // False when the queue is full (the caller answers 503).
    bool submit(std::shared_ptr<Job> job);
    QueueStats stats() const;
    // Bytes the cache budget allows per state (state, logits and room for a long token list).
    static int64_t bytes_per_cached_state(const Model& model);

private:
    void run();
    void serve(Job& job);
    void cache_resent_reply();

    // Left by serve() for after the job is answered: the prompt's end state and the reply's
    // tokens as the next prompt will hold them.
    struct Reread {
        SessionSnapshot prompt_end;
        std::vector<int32_t> reply_tokens;
    };
    std::optional<Reread> reread_;

    Model& model_;
    std::unique_ptr<GenerationSession> session_;
    const size_t max_waiting_;
    PrefixCache cache_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::shared_ptr<Job>> waiting_;
    bool stopping_ = false;
    QueueStats stats_;
    std::thread thread_;
};

}  // namespace fm::server
