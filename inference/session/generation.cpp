#include "inference/session/generation.h"

#include "inference/checkpoint/config.h"

#include <algorithm>
#include <optional>

namespace fm {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string concat(const std::vector<PromptSegment>& segments) {
    std::string s;
    for (const auto& seg : segments) s += seg.text;
    return s;
}

// The segments from byte `offset` on (a segment straddling it is cut).
std::vector<PromptSegment> segments_from(const std::vector<PromptSegment>& segments, size_t offset) {
    std::vector<PromptSegment> out;
    size_t pos = 0;
    for (const auto& seg : segments) {
        const size_t end = pos + seg.text.size();
        if (end > offset) {
            const size_t skip = offset > pos ? offset - pos : 0;
            out.push_back({seg.text.substr(skip), seg.parse_special});
        }
        pos = end;
    }
    return out;
}

// Length of the longest suffix of `text` that is a proper prefix of some stop string: text that
// might still turn into a stop string and must not be shown yet.
size_t pending_stop_prefix(const std::string& text, const std::vector<std::string>& stops) {
    size_t keep = 0;
    for (const auto& s : stops)
        for (size_t n = std::min(s.size() - 1, text.size()); n > keep; --n)
            if (text.compare(text.size() - n, n, s, 0, n) == 0) {
                keep = n;
                break;
            }
    return keep;
}

}  // namespace

const char* stop_reason_name(StopReason r) {
    switch (r) {
    case StopReason::StopToken: return "stop_token";
    case StopReason::StopString: return "stop_string";
    case StopReason::Length: return "length";
    case StopReason::Cancelled: return "cancelled";
    }
    return "?";
}

Result<std::vector<PromptSegment>> render_prompt(const ChatFormat& format, const std::vector<ChatMessage>& messages,
                                                 bool add_generation_prompt) {
    return format.render_segments(messages, add_generation_prompt);
}

GenerationSession::GenerationSession(Backend& backend, std::shared_ptr<const Tokenizer> tokenizer,
                                     std::shared_ptr<const ChatFormat> format)
    : backend_(backend), tokenizer_(std::move(tokenizer)), format_(std::move(format)) {}

void GenerationSession::append_context(int32_t id) {
    context_.push_back(id);
    if (tokenizer_) context_text_ += tokenizer_->token_bytes(id);
}

void GenerationSession::reset() {
    backend_.reset_state();
    context_.clear();
    context_text_.clear();
    last_logits_.clear();
}

SessionSnapshot GenerationSession::snapshot() const {
    return {backend_.state(), context_, context_text_, last_logits_};
}

Status GenerationSession::restore(const SessionSnapshot& snapshot) {
    if (auto s = backend_.set_state(snapshot.state); !s) return s;
    context_ = snapshot.tokens;
    context_text_ = snapshot.text;
    last_logits_ = snapshot.last_logits;
    return {};
}

Result<GenerationResult> GenerationSession::reply(const std::vector<ChatMessage>& messages,
                                                  const GenerationParams& params,
                                                  const GenerationCallbacks& callbacks) {
    if (!tokenizer_ || !format_) return Error{"chat needs a tokenizer and a chat format; this model has none"};
    auto segments = render_prompt(*format_, messages, true);
    if (!segments) return Error{segments.error()};
    return run(*segments, nullptr, params, callbacks);
}

Result<GenerationResult> GenerationSession::reply_to_prompt(const std::vector<PromptSegment>& prompt,
                                                            const GenerationParams& params,
                                                            const GenerationCallbacks& callbacks) {
    if (!tokenizer_ || !format_) return Error{"chat needs a tokenizer and a chat format; this model has none"};
    return run(prompt, nullptr, params, callbacks);
}

Result<GenerationResult> GenerationSession::complete(const std::vector<int32_t>& prompt, const GenerationParams& params,
                                                     const GenerationCallbacks& callbacks) {
    return run({}, &prompt, params, callbacks);
}

Result<GenerationResult> GenerationSession::run(const std::vector<PromptSegment>& segments,
                                                const std::vector<int32_t>* raw_prompt, const GenerationParams& params,
                                                const GenerationCallbacks& callbacks) {
    GenerationResult result;
    // 1. Work out which tokens the state has not seen yet.
    std::vector<int32_t> fresh;
    std::optional<std::string> fresh_text;  // the exact text of `fresh`, when it came from text
    bool extends = false;
    if (raw_prompt) {
        extends =
            raw_prompt->size() >= context_.size() && std::equal(context_.begin(), context_.end(), raw_prompt->begin());
        if (!extends)
            fresh = *raw_prompt;
        else
            fresh.assign(raw_prompt->begin() + static_cast<std::ptrdiff_t>(context_.size()), raw_prompt->end());
        result.prompt_tokens = static_cast<int64_t>(raw_prompt->size());
    } else {
        const std::string full = concat(segments);
        extends = full.size() >= context_text_.size() && full.compare(0, context_text_.size(), context_text_) == 0;
        const auto todo = extends ? segments_from(segments, context_text_.size()) : segments;
        if (!tokenizer_) return Error{"this model has no tokenizer: give prompt tokens"};
        fresh_text = concat(todo);
        for (const auto& seg : todo) {
            auto ids = tokenizer_->encode(seg.text, seg.parse_special);
            if (!ids) return Error{ids.error()};
            fresh.insert(fresh.end(), ids->begin(), ids->end());
        }
        result.prompt_tokens = static_cast<int64_t>((extends ? context_.size() : 0) + fresh.size());
    }
    if (!extends) {
        if (!context_.empty()) {
            result.restarted = true;
            result.restart_reason = "the conversation changed before the end of what the model had read";
        }
        reset();
    }
    if (fresh.empty() && last_logits_.empty()) {
        // Nothing new and no logits to continue from (an empty prompt): start from the BOS token.
        const int64_t bos = backend_.config().bos_token_id;
        if (bos < 0) return Error{"the prompt is empty"};
        fresh.push_back(static_cast<int32_t>(bos));
        fresh_text.reset();
    }

    // 2. Prefill them.
    auto start = Clock::now();
    if (!fresh.empty()) {
        ForwardOptions options;
        options.chunk_size = params.prefill_chunk;
        options.cancel = callbacks.cancel;
        options.progress = callbacks.on_prefill_progress;
        auto consumed = backend_.forward(fresh, LogitsMode::Last, last_logits_, options);
        if (!consumed) return Error{consumed.error()};
        if (fresh_text && *consumed == static_cast<int64_t>(fresh.size())) {
            // Verbatim, so the next rendering matches whatever the tokenizer's round trip does.
            context_.insert(context_.end(), fresh.begin(), fresh.end());
            context_text_ += *fresh_text;
        } else {
            for (int64_t i = 0; i < *consumed; ++i) append_context(fresh[static_cast<size_t>(i)]);
        }
        result.prefilled_tokens = *consumed;
        if (*consumed < static_cast<int64_t>(fresh.size())) {
            last_logits_.clear();  // the logits of a partial chunk were never computed
            result.stop_reason = StopReason::Cancelled;
            result.prefill_seconds = seconds_since(start);
            return result;
        }
    }
    result.prefill_seconds = seconds_since(start);

    // 3. Decode: sample, show, feed back. The final stop token is not fed: the next turn's
    //    template writes it, and it is prefilled with that turn.
    std::vector<int32_t> stop_ids;
    if (format_)
        stop_ids = format_->stop_ids();
    else
        for (int64_t id : backend_.config().eos_token_ids) stop_ids.push_back(static_cast<int32_t>(id));
    Sampler sampler(params.sampling);
    std::optional<StreamDecoder> decoder;
    if (tokenizer_) decoder.emplace(*tokenizer_, true);
    std::string pending;  // decoded text not yet shown (could be the start of a stop string)
    start = Clock::now();
    result.stop_reason = StopReason::Length;
    for (int32_t i = 0; i < params.max_new_tokens; ++i) {
        if (callbacks.cancel && callbacks.cancel->load()) {
            result.stop_reason = StopReason::Cancelled;
            break;
        }
        const size_t window = static_cast<size_t>(std::max(0, params.sampling.repeat_window));
        const size_t from = context_.size() > window ? context_.size() - window : 0;
        const int32_t id = sampler.sample(last_logits_, std::span<const int32_t>(context_).subspan(from));
        result.tokens.push_back(id);
        if (!params.ignore_stop_ids && std::find(stop_ids.begin(), stop_ids.end(), id) != stop_ids.end()) {
            if (callbacks.on_token) callbacks.on_token(id, "");
            result.stop_reason = StopReason::StopToken;
            break;
        }
        const std::string piece = decoder ? decoder->push(id) : std::string();
        pending += piece;
        bool stopped = false;
        for (const auto& stop : params.stop_strings) {
            const size_t at = stop.empty() ? std::string::npos : pending.find(stop);
            if (at != std::string::npos) {
                pending.resize(at);
                stopped = true;
            }
        }
        const size_t hold = stopped ? pending.size() : pending_stop_prefix(pending, params.stop_strings);
        const std::string shown = stopped ? pending : pending.substr(0, pending.size() - hold);
        pending.erase(0, shown.size());
        result.text += shown;
        if (callbacks.on_token) callbacks.on_token(id, shown);
        if (stopped) {
            result.stop_reason = StopReason::StopString;
            break;
        }
        // Fed even when it is the last one allowed, so the state has read all the reply shows.
        auto fed = backend_.forward(std::span<const int32_t>(&id, 1), LogitsMode::Last, last_logits_);
        if (!fed) return Error{fed.error()};
        context_.push_back(id);
        context_text_ += piece;
    }
    if (result.stop_reason != StopReason::StopString && decoder) {
        const std::string flushed = decoder->flush();  // an incomplete character: U+FFFD
        context_text_ += flushed;
        const std::string rest = pending + flushed;
        result.text += rest;
        if (!rest.empty() && callbacks.on_token) callbacks.on_token(-1, rest);
    }
    result.decode_seconds = seconds_since(start);
    return result;
}

}  // namespace fm
