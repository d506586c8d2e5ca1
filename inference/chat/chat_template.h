#pragma once
// Hugging Face chat templates: the Jinja subset real checkpoints use, rendered the way
// transformers renders them (ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks,
// `tojson` as json.dumps(ensure_ascii=False), raise_exception, namespace, loop controls).
//
// Supported: {{ }}, {% %}, {# #}, whitespace control (-, +), if/elif/else, for (with `if`
// filter, else, loop.* with cycle/changed, break/continue, recursive loops calling loop(...)),
// set (names, tuples, ns.attr, set blocks, filtered set blocks), macro (with caller, varargs,
// kwargs), call blocks, filter blocks, raw, generation; literals (dicts with any hashable
// keys), arithmetic, comparisons, in/not in, and/or/not, a if c else b, ~, attributes,
// subscripts, slices, filters, tests (is [not] ...), common str/dict methods, Unicode case
// mapping as Python does it. Undefined names print as "" and are falsy; using an attribute of
// one is an error.

#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inference/core/result.h"

namespace fm {

namespace jinja {
struct Template;
}

// A run of rendered text and whether it came from untrusted input.
struct RenderedPiece {
    std::string text;
    bool untrusted = false;
};

// How one rendering runs.
struct TemplateOptions {
    // The local date and time strftime_now() formats; empty: the system clock. Set it to make a
    // rendering reproducible (tests, cached prompts).
    std::function<std::tm()> now;
};

// What transformers' apply_chat_template gives a template: messages, add_generation_prompt,
// tools and documents (None when not given), and the tokenizer's special tokens and the
// caller's extra keyword arguments (enable_thinking, date_string, ...) as `variables`.
struct TemplateInput {
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();  // [{role, content, ...}, ...]
    bool add_generation_prompt = false;
    nlohmann::ordered_json tools;      // null (None) or a list of tool schemas
    nlohmann::ordered_json documents;  // null (None) or a list of documents
    nlohmann::ordered_json variables = nlohmann::ordered_json::object();
    // The render context: `variables` plus the four above. Fails when `variables` names one of
    // those four, or is not an object.
    Result<nlohmann::ordered_json> context() const;
};

class ChatTemplate {
public:
    // Fails with "chat template line L, column C: ..." on syntax errors.
    static Result<ChatTemplate> parse(std::string source);

    // `context` must be an object: messages (list of {role, content}), add_generation_prompt,
    // bos_token, eos_token and anything else the template reads. Fails with "chat template
    // line L, column C: ..." on evaluation errors; a template's raise_exception('msg') fails
    // with exactly "msg".
    Result<std::string> render(const nlohmann::json& context) const;
    // The same with the context's key order kept: a message's keys reach the template in the
    // order given (as Python dicts do), which shows when a template prints or `tojson`s them.
    Result<std::string> render_ordered(const nlohmann::ordered_json& context,
                                       const TemplateOptions& options = {}) const;
    // The rendering of `input` (see TemplateInput), keys in the order given.
    Result<std::string> render(const TemplateInput& input, const TemplateOptions& options = {}) const;

    // The rendering as runs of template-written and untrusted text: every byte that came from a
    // string at one of `untrusted_paths` of the context ("messages/*/content": keys separated by
    // '/', "*" for every item or key), through whatever filters and methods the template
    // applied, is in an untrusted run (see docs/prompt-safety.md). Adjacent runs of the same
    // kind are merged; empty runs dropped.
    Result<std::vector<RenderedPiece>> render_pieces(const nlohmann::ordered_json& context,
                                                     const std::vector<std::string>& untrusted_paths,
                                                     const TemplateOptions& options = {}) const;

    const std::string& source() const { return source_; }

private:
    ChatTemplate(std::string source, std::shared_ptr<const jinja::Template> tpl)
        : source_(std::move(source)), tpl_(std::move(tpl)) {}

    std::string source_;
    std::shared_ptr<const jinja::Template> tpl_;
};

}  // namespace fm
