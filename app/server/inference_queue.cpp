#include "app/server/inference_queue.h"

#include <utility>

namespace fm::server {

std::string Job::take_text(std::chrono::milliseconds timeout, bool& finished) {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, timeout, [&] { return done || !pending_text.empty(); });
    finished = done && pending_text.empty();
    return std::exchange(pending_text, {});
}

InferenceQueue::InferenceQueue(Model& model, size_t max_waiting, int64_t cache_bytes)
    : model_(model), session_(model.new_session()), max_waiting_(max_waiting), cache_(cache_bytes) {
    thread_ = std::thread([this] { run(); });
}

InferenceQueue::~InferenceQueue() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        for (auto& job : waiting_) job->cancel = true;
    }
    wake_.notify_all();
    thread_.join();
}

int64_t InferenceQueue::bytes_per_cached_state(const Model& model) {
    const ModelConfig& c = model.config();
    const int64_t state = c.state_bytes();
    const int64_t logits = c.vocab_size * static_cast<int64_t>(sizeof(float));
    return state + logits + 64 * 1024;  // room for the token ids and text of a long conversation
}

bool InferenceQueue::submit(std::shared_ptr<Job> job) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || waiting_.size() >= max_waiting_) return false;
        waiting_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
}

QueueStats InferenceQueue::stats() const {
    std::lock_guard lock(mutex_);
    QueueStats s = stats_;
    s.waiting = static_cast<int64_t>(waiting_.size());
    return s;
}

void InferenceQueue::run() {
    while (true) {
        std::shared_ptr<Job> job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
            if (waiting_.empty()) return;  // stopping with nothing left
            job = std::move(waiting_.front());
            waiting_.pop_front();
        }
        if (!job->cancel) serve(*job);
        {
            // Counted before the job is marked done, so whoever waited on it sees the counts.
            std::lock_guard lock(mutex_);
            ++stats_.served;
            if (job->cancel) ++stats_.cancelled;
            if (job->cached_tokens > 0) ++stats_.cache_hits;
            stats_.cache_entries = static_cast<int64_t>(cache_.size());
            stats_.cache_bytes = cache_.bytes();
        }
        {
            std::lock_guard lock(job->mutex);
            job->done = true;
        }
        job->changed.notify_all();
        cache_resent_reply();
    }
}

void InferenceQueue::cache_resent_reply() {
    if (!reread_) return;
    Reread reread = std::move(*reread_);
    reread_.reset();
    GenerationSession& session = *session_;
    if (!session.restore(reread.prompt_end)) return;
    std::vector<int32_t> tokens = reread.prompt_end.tokens;
    tokens.insert(tokens.end(), reread.reply_tokens.begin(), reread.reply_tokens.end());
    GenerationParams prefill_only;
    prefill_only.max_new_tokens = 0;
    if (auto read = session.complete(tokens, prefill_only); read && read->stop_reason != StopReason::Cancelled)
        cache_.insert(session.snapshot());
}

void InferenceQueue::serve(Job& job) {
    GenerationSession& session = *session_;
    // Start from the longest cached prefix, or from nothing: never from whatever the last
    // request left, so every reply is the one a fresh start would give.
    if (auto cached = cache_.longest_prefix(job.prompt)) {
        if (auto st = session.restore(*cached); !st) {
            job.error = st.error();
            return;
        }
        job.cached_tokens = static_cast<int64_t>(cached->tokens.size());
    } else {
        session.reset();
    }
    GenerationCallbacks callbacks;
    callbacks.cancel = &job.cancel;
    // Read the prompt alone first, so its end state can be cached before the reply changes it.
    GenerationParams prefill_only = job.params;
    prefill_only.max_new_tokens = 0;
    auto prefilled = session.complete(job.prompt, prefill_only, callbacks);
    if (!prefilled) {
        job.error = prefilled.error();
        return;
    }
    if (prefilled->stop_reason == StopReason::Cancelled || job.cancel) return;
    const bool caching = cache_.capacity_bytes() > 0;
    SessionSnapshot prompt_end;
    if (caching) {  // a state copy, not worth making for nothing
        prompt_end = session.snapshot();
        cache_.insert(prompt_end);
    }

    callbacks.on_token = [&job](int32_t, const std::string& text) {
        if (job.client_gone && job.client_gone()) job.cancel = true;
        if (text.empty()) return;
        {
            std::lock_guard lock(job.mutex);
            job.pending_text += text;
        }
        job.changed.notify_all();
    };
    auto reply = session.complete(job.prompt, job.params, callbacks);
    if (!reply) {
        job.error = reply.error();
        return;
    }
    reply->prompt_tokens = static_cast<int64_t>(job.prompt.size());
    reply->prefilled_tokens = prefilled->prefilled_tokens;
    reply->prefill_seconds = prefilled->prefill_seconds;
    if (reply->stop_reason != StopReason::Cancelled && caching) {
        cache_.insert(session.snapshot());
        std::vector<int32_t> generated = reply->tokens;
        if (reply->stop_reason == StopReason::StopToken && !generated.empty()) generated.pop_back();  // never fed
        if (job.resent_reply_tokens)
            if (auto resent = job.resent_reply_tokens(reply->text); resent && *resent != generated)
                reread_ = Reread{std::move(prompt_end), std::move(*resent)};
    }
    std::lock_guard lock(job.mutex);
    job.result = std::move(*reply);
}

}  // namespace fm::server
