#pragma once
// The engine's front door. One call turns a checkpoint folder into a Model: config (parsed
// once), tokenizer and chat format (when the folder has tokenizer files), weights (mapped in
// place, or 4-bit) and a backend (CUDA, or the CPU with the reason CUDA could not be used).
// Sessions come from the model. Everything that runs the engine (the app's worker, the CLI,
// the tools, the tests, the API server) loads models through here and nowhere else.
//
//   auto model = fm::Model::load("/models/falcon-mamba-7b-instruct", {.quantize_4bit = true});
//   if (!model) report(model.error());            // says what is wrong and in which file
//   auto session = (*model)->new_session();
//   auto reply = session->reply(messages, params, callbacks);

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "inference/backends/backend.h"
#include "inference/chat/chat_format.h"
#include "inference/checkpoint/config.h"
#include "inference/checkpoint/weights.h"
#include "inference/core/result.h"
#include "inference/session/generation.h"
#include "inference/text/tokenizer.h"

namespace fm {

// Whether a folder's tokenizer files are needed.
enum class TokenizerPolicy {
    IfPresent,  // load them when the folder has them (a bare checkpoint still runs on token ids)
    Required,   // a folder without tokenizer files is an error (chat needs text)
};

struct ModelOptions {
    BackendRequest backend;            // which device, CPU threads, whether to fall back
    bool quantize_4bit = false;        // quantize bf16/f16/f32 matrices to 4-bit on load
    bool quantize_embeddings = false;  // ... the embedding and lm_head too
    TokenizerPolicy tokenizer = TokenizerPolicy::IfPresent;
    // Called with (done, total) units of weight loading, on the loading thread.
    std::function<void(int64_t done, int64_t total)> progress;
    const std::atomic<bool>* cancel = nullptr;  // a cancelled load returns an error
};

// The text side of a checkpoint folder: its tokenizer and chat format, without the weights
// (for tokenizing and rendering prompts). Null members when the folder has no tokenizer files
// and the policy allows it. `config_eos_ids` are config.json's stop ids when the caller has
// parsed config.json already; without them config.json is read for its eos_token_id.
struct ModelText {
    std::shared_ptr<const Tokenizer> tokenizer;
    std::shared_ptr<const ChatFormat> format;
};
Result<ModelText> load_model_text(const std::filesystem::path& checkpoint_dir, TokenizerPolicy policy,
                                  const std::vector<int64_t>* config_eos_ids = nullptr);

class Model {
public:
    // Loads everything or nothing. The error names the file (and tensor or JSON key) at fault.
    static Result<std::unique_ptr<Model>> load(const std::filesystem::path& checkpoint_dir,
                                               const ModelOptions& options = {});

    const std::filesystem::path& checkpoint_dir() const { return dir_; }
    const ModelConfig& config() const { return weights_->config; }
    const ModelWeights& weights() const { return *weights_; }
    std::shared_ptr<const ModelWeights> shared_weights() const { return weights_; }

    // Null when the folder has no tokenizer files (then only token ids go in and out).
    const Tokenizer* tokenizer() const { return tokenizer_.get(); }
    std::shared_ptr<const Tokenizer> shared_tokenizer() const { return tokenizer_; }
    // Null exactly when the tokenizer is.
    const ChatFormat* chat_format() const { return format_.get(); }
    std::shared_ptr<const ChatFormat> shared_chat_format() const { return format_; }

    Backend& backend() { return *backend_; }
    const Backend& backend() const { return *backend_; }
    // Why the CPU runs the model although CUDA was asked for (or allowed); empty otherwise.
    const std::string& backend_fallback_reason() const { return fallback_reason_; }
    double load_seconds() const { return load_seconds_; }

    // A new conversation on this model's backend, from the empty state. The backend carries
    // one recurrent state, so sessions of one model take turns: a session resets or restores
    // the state it needs when it runs.
    std::unique_ptr<GenerationSession> new_session();
    // The same, writing prompts in another format (this checkpoint's format as plain
    // completion, or with a user's template).
    std::unique_ptr<GenerationSession> new_session(std::shared_ptr<const ChatFormat> format);

private:
    Model() = default;

    std::filesystem::path dir_;
    std::shared_ptr<const ModelWeights> weights_;
    std::shared_ptr<const Tokenizer> tokenizer_;
    std::shared_ptr<const ChatFormat> format_;
    std::unique_ptr<Backend> backend_;
    std::string fallback_reason_;
    double load_seconds_ = 0;
};

}  // namespace fm
