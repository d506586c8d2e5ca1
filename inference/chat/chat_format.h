#pragma once
// How a checkpoint wants a conversation written and when its replies end: the chat template
// (tokenizer_config.json's chat_template, or chat_template.jinja), its special tokens, and the
// stop token ids from generation_config.json, tokenizer_config.json and config.json.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "inference/chat/chat_template.h"
#include "inference/core/result.h"
#include "inference/text/tokenizer.h"

namespace fm {

struct ChatMessage {
    std::string role;  // "system", "user", "assistant", ...
    std::string content;
};

// A prompt split into pieces that are tokenized differently: template scaffolding with special
// tokens parsed, text that came from messages (what people typed) with special tokens left as
// text.
struct PromptSegment {
    std::string text;
    bool parse_special = false;
};

// What else a request can give a template (an API request's tools, a RAG app's documents,
// transformers' extra keyword arguments such as enable_thinking), and how to render.
struct ChatExtras {
    nlohmann::ordered_json tools;                                         // null (None) or a list
    nlohmann::ordered_json documents;                                     // null (None) or a list
    nlohmann::ordered_json variables = nlohmann::ordered_json::object();  // more template variables
    TemplateOptions options;                                              // e.g. a fixed clock
};

enum class ChatMode {
    Chat,        // the checkpoint has a chat template
    ChatML,      // no template, but <|im_start|>/<|im_end|> are added tokens: built-in ChatML
    Completion,  // neither (a base model): the text is continued as it is
};

class ChatFormat {
public:
    // Completion mode, no special tokens, no stop ids.
    ChatFormat() = default;

    // `dir` is a checkpoint or tokenizer folder; every file is optional:
    //   chat_template.jinja      the template (wins over tokenizer_config.json's)
    //   tokenizer_config.json    chat_template (a string, or a list of {name, template} of
    //                            which "default" is used), bos_token/eos_token/... (a string
    //                            or {"content": ...})
    //   special_tokens_map.json  special tokens tokenizer_config.json does not name
    //   generation_config.json   eos_token_id (an id or a list)
    //   config.json              eos_token_id (an id or a list)
    // `tokenizer` resolves token strings to ids and tells whether ChatML tokens exist; it
    // is not kept. Fails, naming the file, on invalid JSON, wrong field types or a template
    // that does not parse.
    static Result<ChatFormat> load(const std::filesystem::path& dir, const Tokenizer& tokenizer);
    // The same, with config.json's eos_token_id given by the caller (Model::load has parsed
    // config.json already), so config.json is not read here.
    static Result<ChatFormat> load(const std::filesystem::path& dir, const Tokenizer& tokenizer,
                                   const std::vector<int64_t>& config_eos_ids);

    // This format with another template (a user's override): Chat mode, same tokens and stops.
    Result<ChatFormat> with_template(std::string source) const;
    // This format as plain completion (same stop ids): for running a chat model as a base model.
    ChatFormat as_completion() const;

    ChatMode mode() const { return mode_; }
    bool has_template() const { return mode_ != ChatMode::Completion; }
    // The template in use: the checkpoint's, the built-in ChatML one, or "" (Completion).
    const std::string& template_source() const;

    // The prompt text for `messages`. Chat/ChatML: the template rendered with messages,
    // add_generation_prompt, the special tokens (bos_token, eos_token, ...), tools=None and
    // documents=None, as transformers' apply_chat_template does. Completion: the messages'
    // contents concatenated. Fails with the template's message (raise_exception) or a
    // located template error. `extras` adds tools, documents and other variables (which may
    // override a special token, as transformers' keyword arguments do).
    Result<std::string> render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                               const ChatExtras& extras = {}) const;
    // The same text as segments: every byte that came from a message's content, whatever the
    // template did to it, is in a segment that does not parse special tokens; only what the
    // template itself wrote does (docs/prompt-safety.md). Roles are the app's (system, user,
    // assistant), not typed text; tools and documents are untrusted like contents.
    // Completion: the contents.
    Result<std::vector<PromptSegment>> render_segments(const std::vector<ChatMessage>& messages,
                                                       bool add_generation_prompt, const ChatExtras& extras = {}) const;

    // Ids that end a reply, sorted and unique: generation_config.json's eos_token_id,
    // the id of tokenizer_config.json's eos_token, config.json's eos_token_id, and in ChatML
    // mode <|im_end|>.
    std::vector<int32_t> stop_ids() const { return stop_ids_; }
    // The text of those stop tokens that have one (e.g. "<|im_end|>"): for callers that look
    // for stops in decoded text.
    std::vector<std::string> stop_strings() const { return stop_strings_; }

    const std::string& bos_token() const { return bos_token_; }  // "" when none
    const std::string& eos_token() const { return eos_token_; }

private:
    static Result<ChatFormat> load_impl(const std::filesystem::path& dir, const Tokenizer& tokenizer,
                                        const std::vector<int64_t>* config_eos_ids);

    ChatMode mode_ = ChatMode::Completion;
    std::shared_ptr<const ChatTemplate> template_;  // null in Completion mode
    std::string bos_token_;
    std::string eos_token_;
    std::vector<std::pair<std::string, std::string>> special_tokens_;  // name -> text, for templates
    std::vector<std::string> additional_special_tokens_;
    std::vector<int32_t> stop_ids_;
    std::vector<std::string> stop_strings_;
};

// The ChatML template used in ChatMode::ChatML.
const std::string& builtin_chatml_template();

}  // namespace fm
