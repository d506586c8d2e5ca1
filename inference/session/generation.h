#pragma once
// A generation session: one conversation on one backend. The chat template turns messages into
// tokens; the session remembers exactly which tokens its recurrent state has seen, so each turn
// prefills only what is new. Falcon Mamba's state cannot be rewound: when the history changes
// before the end of what the state has seen, the session starts over (or restores a snapshot).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "inference/backends/backend.h"
#include "inference/backends/state.h"
#include "inference/chat/chat_format.h"
#include "inference/core/result.h"
#include "inference/session/sampler.h"
#include "inference/text/tokenizer.h"

namespace fm {

struct GenerationParams {
    SamplingParams sampling;
    int32_t max_new_tokens = 512;
    std::vector<std::string> stop_strings;  // besides the format's stop ids
    int64_t prefill_chunk = 256;
    bool ignore_stop_ids = false;  // benchmarks and soak tests: run to max_new_tokens
};

enum class StopReason { StopToken, StopString, Length, Cancelled };
const char* stop_reason_name(StopReason r);

struct GenerationResult {
    std::string text;             // the reply, stop string excluded
    std::vector<int32_t> tokens;  // generated ids, the stop token included if one ended it
    StopReason stop_reason = StopReason::Length;
    int64_t prompt_tokens = 0;     // tokens of the whole prompt (history included)
    int64_t prefilled_tokens = 0;  // tokens actually run through the model this turn
    bool restarted = false;        // the state had to be rebuilt from the start
    std::string restart_reason;
    double prefill_seconds = 0, decode_seconds = 0;
    double prefill_tokens_per_second() const { return prefill_seconds > 0 ? prefilled_tokens / prefill_seconds : 0; }
    double decode_tokens_per_second() const {
        return decode_seconds > 0 ? static_cast<double>(tokens.size()) / decode_seconds : 0;
    }
};

struct GenerationCallbacks {
    // A token was generated; `text` holds the newly complete UTF-8 text (may be empty). A final
    // call with id -1 carries text that was held back (a character or possible stop string).
    std::function<void(int32_t id, const std::string& text)> on_token;
    std::function<void(int64_t done, int64_t total)> on_prefill_progress;
    const std::atomic<bool>* cancel = nullptr;  // checked between any two tokens and prefill chunks
};

// What the state has seen, as a restorable value (for snapshots and regeneration).
struct SessionSnapshot {
    RecurrentState state;
    std::vector<int32_t> tokens;     // every token the state has consumed, in order
    std::string text;                // their text as the session matched it against prompts
    std::vector<float> last_logits;  // the logits after the last of them (empty if none yet)
};

// Renders messages with the format's template (or as plain completion text) into segments:
// ChatFormat::render_segments (PromptSegment is defined with it).
Result<std::vector<PromptSegment>> render_prompt(const ChatFormat& format, const std::vector<ChatMessage>& messages,
                                                 bool add_generation_prompt);

class GenerationSession {
public:
    // tokenizer and format may be null (a checkpoint without tokenizer files): then only
    // complete() with prompt tokens works, no text is produced, and the stop ids come from
    // config.json.
    GenerationSession(Backend& backend, std::shared_ptr<const Tokenizer> tokenizer,
                      std::shared_ptr<const ChatFormat> format);

    // Chat: the conversation so far (ending with the user's message); the reply is generated.
    Result<GenerationResult> reply(const std::vector<ChatMessage>& messages, const GenerationParams& params,
                                   const GenerationCallbacks& callbacks = {});
    // Chat from a prompt already rendered with render_prompt (a caller that also needs the
    // rendering, to pick a saved state, renders once and passes it here).
    Result<GenerationResult> reply_to_prompt(const std::vector<PromptSegment>& prompt, const GenerationParams& params,
                                             const GenerationCallbacks& callbacks = {});
    // Completion: continue from the given prompt tokens (the whole text so far, not only new).
    Result<GenerationResult> complete(const std::vector<int32_t>& prompt, const GenerationParams& params,
                                      const GenerationCallbacks& callbacks = {});

    const std::vector<int32_t>& context_tokens() const { return context_; }
    // The text those tokens were matched as: a prompt that starts with it continues the state.
    const std::string& context_text() const { return context_text_; }
    SessionSnapshot snapshot() const;
    Status restore(const SessionSnapshot& snapshot);
    void reset();

    Backend& backend() { return backend_; }
    const Tokenizer& tokenizer() const { return *tokenizer_; }
    const ChatFormat& format() const { return *format_; }

private:
    Result<GenerationResult> run(const std::vector<PromptSegment>& segments, const std::vector<int32_t>* raw_prompt,
                                 const GenerationParams& params, const GenerationCallbacks& callbacks);
    void append_context(int32_t id);

    Backend& backend_;
    std::shared_ptr<const Tokenizer> tokenizer_;
    std::shared_ptr<const ChatFormat> format_;
    std::vector<int32_t> context_;  // tokens the backend's state has consumed
    // Their text: prompt segments verbatim, generated tokens as decoded and shown (invalid UTF-8
    // as U+FFFD), so the next turn's rendering, which contains the stored reply, extends it.
    std::string context_text_;
    std::vector<float> last_logits_;  // logits after the last consumed token
};

}  // namespace fm
