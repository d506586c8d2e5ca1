#include "inference/chat/chat_format.h"

#include <algorithm>

#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include "inference/core/guarded.h"

#include <nlohmann/json.hpp>

#include "inference/core/json_reader.h"

namespace fm {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr uintmax_t kMaxFileBytes = uintmax_t{256} << 20;

// The special tokens transformers hands to chat templates (besides additional_special_tokens).
const char* const kSpecialTokenNames[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                          "pad_token", "cls_token", "mask_token"};

// The file's text, or nothing when it does not exist.
Result<std::optional<std::string>> read_optional(const fs::path& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::optional<std::string>{};
    if (fs::is_directory(path, ec)) return Error{path.string() + ": is a directory, expected a file"};
    const uintmax_t size = fs::file_size(path, ec);
    if (ec) return Error{path.string() + ": cannot read: " + ec.message()};
    if (size > kMaxFileBytes) return Error{path.string() + ": too large (" + std::to_string(size) + " bytes)"};
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{path.string() + ": cannot open"};
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) return Error{path.string() + ": read error"};
    return std::optional<std::string>(buf.str());
}

Result<std::optional<json>> read_json(const fs::path& path) {
    auto text = read_optional(path);
    if (!text) return Error{text.error()};
    if (!text->has_value()) return std::optional<json>{};
    auto j = parse_json(**text, path.string());
    if (!j) return Error{j.error()};
    if (!j->is_object()) return Error{path.string() + ": expected a JSON object at the top level"};
    return std::optional<json>(std::move(*j));
}

// A token written as "text" or {"content": "text", ...}; nothing for null or absent.
Result<std::optional<std::string>> token_text(const json& obj, const char* field, const fs::path& file) {
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) return std::optional<std::string>{};
    if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
    if (it->is_object()) {
        auto content = it->find("content");
        if (content != it->end() && content->is_string())
            return std::optional<std::string>(content->get<std::string>());
    }
    return Error{file.string() + ": " + field + " must be a string or {\"content\": \"...\"}"};
}

// eos_token_id as an id or a list of ids; nothing for null or absent.
Status add_ids(const json& obj, const char* field, const fs::path& file, std::set<int32_t>& ids) {
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) return Status::success();
    auto add = [&](const json& v) {
        if (!v.is_number_integer()) return false;
        const auto id = v.get<int64_t>();
        if (id < 0 || id > INT32_MAX) return false;
        ids.insert(static_cast<int32_t>(id));
        return true;
    };
    if (add(*it)) return Status::success();
    if (it->is_array() && std::all_of(it->begin(), it->end(), add)) return Status::success();
    return Error{file.string() + ": " + field + " must be a token id or a list of token ids (non-negative integers)"};
}

// chat_template: a string, or a list of {name, template} of which "default" is used.
Result<std::optional<std::string>> pick_template(const json& config, const fs::path& file) {
    auto it = config.find("chat_template");
    if (it == config.end() || it->is_null()) return std::optional<std::string>{};
    if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
    if (it->is_array()) {
        std::string names;
        for (const auto& entry : *it) {
            if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
                !entry.contains("template") || !entry["template"].is_string())
                return Error{file.string() +
                             ": chat_template: every entry of the list needs string \"name\" and \"template\""};
            const std::string name = entry["name"].get<std::string>();
            if (name == "default") return std::optional<std::string>(entry["template"].get<std::string>());
            names += (names.empty() ? "'" : ", '") + name + "'";
        }
        return Error{file.string() + ": chat_template lists templates (" + names + ") but none named 'default'"};
    }
    return Error{file.string() + ": chat_template must be a string or a list of {\"name\", \"template\"}"};
}

bool has_added_token(const Tokenizer& tokenizer, std::string_view text) {
    const auto& added = tokenizer.added_tokens();
    return std::any_of(added.begin(), added.end(), [&](const AddedToken& t) { return t.content == text; });
}

}  // namespace

const std::string& builtin_chatml_template() {
    static const std::string source =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
        "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    return source;
}

Result<ChatFormat> ChatFormat::load(const fs::path& dir, const Tokenizer& tokenizer) {
    return load_impl(dir, tokenizer, nullptr);
}

Result<ChatFormat> ChatFormat::load(const fs::path& dir, const Tokenizer& tokenizer,
                                    const std::vector<int64_t>& config_eos_ids) {
    return load_impl(dir, tokenizer, &config_eos_ids);
}

Result<ChatFormat> ChatFormat::load_impl(const fs::path& dir, const Tokenizer& tokenizer,
                                         const std::vector<int64_t>* config_eos_ids) {
    return guarded<Result<ChatFormat>>(dir.string(), [&]() -> Result<ChatFormat> {
        ChatFormat format;
        std::set<int32_t> ids;
        std::optional<std::string> template_source;
        std::string template_origin;

        // Special tokens: tokenizer_config.json first, special_tokens_map.json for the rest.
        const fs::path tokenizer_config_path = dir / "tokenizer_config.json";
        auto tokenizer_config = read_json(tokenizer_config_path);
        if (!tokenizer_config) return Error{tokenizer_config.error()};
        const fs::path special_map_path = dir / "special_tokens_map.json";
        auto special_map = read_json(special_map_path);
        if (!special_map) return Error{special_map.error()};
        for (const char* name : kSpecialTokenNames) {
            std::optional<std::string> text;
            for (const auto& [config, path] :
                 {std::pair{&*tokenizer_config, &tokenizer_config_path}, std::pair{&*special_map, &special_map_path}}) {
                if (text || !config->has_value()) continue;
                auto t = token_text(**config, name, *path);
                if (!t) return Error{t.error()};
                text = *t;
            }
            if (!text) continue;
            format.special_tokens_.emplace_back(name, *text);
            if (std::string_view(name) == "bos_token") format.bos_token_ = *text;
            if (std::string_view(name) == "eos_token") format.eos_token_ = *text;
        }
        for (const auto* config : {&*tokenizer_config, &*special_map}) {
            if (!config->has_value() || !format.additional_special_tokens_.empty()) continue;
            auto it = (*config)->find("additional_special_tokens");
            if (it == (*config)->end() || !it->is_array()) continue;
            for (const auto& t : *it) {
                if (t.is_string())
                    format.additional_special_tokens_.push_back(t.get<std::string>());
                else if (t.is_object() && t.contains("content") && t["content"].is_string())
                    format.additional_special_tokens_.push_back(t["content"].get<std::string>());
            }
        }

        // The template: chat_template.jinja, else tokenizer_config.json's chat_template.
        const fs::path jinja_path = dir / "chat_template.jinja";
        auto jinja_file = read_optional(jinja_path);
        if (!jinja_file) return Error{jinja_file.error()};
        if (jinja_file->has_value()) {
            template_source = **jinja_file;
            template_origin = jinja_path.string();
        } else if (tokenizer_config->has_value()) {
            auto picked = pick_template(**tokenizer_config, tokenizer_config_path);
            if (!picked) return Error{picked.error()};
            template_source = *picked;
            template_origin = tokenizer_config_path.string() + ": chat_template";
        }

        // Stop ids.
        if (config_eos_ids)
            for (int64_t id : *config_eos_ids)
                if (id >= 0 && id <= INT32_MAX) ids.insert(static_cast<int32_t>(id));
        for (const char* file : {"generation_config.json", "config.json"}) {
            if (config_eos_ids && std::string_view(file) == "config.json") continue;
            const fs::path path = dir / file;
            auto config = read_json(path);
            if (!config) return Error{config.error()};
            if (!config->has_value()) continue;
            if (Status s = add_ids(**config, "eos_token_id", path, ids); !s) return Error{s.error()};
        }
        if (!format.eos_token_.empty())
            if (auto id = tokenizer.token_to_id(format.eos_token_)) ids.insert(*id);

        if (template_source && !template_source->empty()) {
            auto parsed = ChatTemplate::parse(*template_source);
            if (!parsed) return Error{template_origin + ": " + parsed.error()};
            format.template_ = std::make_shared<const ChatTemplate>(std::move(*parsed));
            format.mode_ = ChatMode::Chat;
        } else if (has_added_token(tokenizer, "<|im_start|>") && has_added_token(tokenizer, "<|im_end|>")) {
            auto parsed = ChatTemplate::parse(builtin_chatml_template());
            if (!parsed) return Error{"built-in ChatML template: " + parsed.error()};
            format.template_ = std::make_shared<const ChatTemplate>(std::move(*parsed));
            format.mode_ = ChatMode::ChatML;
            if (auto id = tokenizer.token_to_id("<|im_end|>")) ids.insert(*id);
        }

        format.stop_ids_.assign(ids.begin(), ids.end());
        auto add_stop_string = [&](const std::string& s) {
            if (!s.empty() &&
                std::find(format.stop_strings_.begin(), format.stop_strings_.end(), s) == format.stop_strings_.end())
                format.stop_strings_.push_back(s);
        };
        for (int32_t id : format.stop_ids_)
            for (const AddedToken& t : tokenizer.added_tokens())
                if (t.id == id) add_stop_string(t.content);
        add_stop_string(format.eos_token_);
        if (format.mode_ == ChatMode::ChatML) add_stop_string("<|im_end|>");
        return format;
    });
}

Result<ChatFormat> ChatFormat::with_template(std::string source) const {
    auto parsed = ChatTemplate::parse(std::move(source));
    if (!parsed) return Error{parsed.error()};
    ChatFormat copy = *this;
    copy.template_ = std::make_shared<const ChatTemplate>(std::move(*parsed));
    copy.mode_ = ChatMode::Chat;
    return copy;
}

ChatFormat ChatFormat::as_completion() const {
    ChatFormat copy = *this;
    copy.template_.reset();
    copy.mode_ = ChatMode::Completion;
    return copy;
}

const std::string& ChatFormat::template_source() const {
    static const std::string none;
    return template_ ? template_->source() : none;
}

namespace {

Result<ordered_json> render_context(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                    const std::vector<std::pair<std::string, std::string>>& special_tokens,
                                    const std::vector<std::string>& additional_special_tokens,
                                    const ChatExtras& extras) {
    if (!extras.variables.is_null() && !extras.variables.is_object())
        return Error{"chat template: the template variables must be a JSON object"};
    ordered_json context = ordered_json::object();
    ordered_json list = ordered_json::array();
    for (const auto& m : messages) {
        ordered_json message = ordered_json::object();
        message["role"] = m.role;
        message["content"] = m.content;
        list.push_back(std::move(message));
    }
    context["messages"] = std::move(list);
    context["tools"] = extras.tools;
    context["documents"] = extras.documents;
    context["add_generation_prompt"] = add_generation_prompt;
    for (const auto& [name, text] : special_tokens) context[name] = text;
    if (!additional_special_tokens.empty()) context["additional_special_tokens"] = additional_special_tokens;
    if (extras.variables.is_object()) {
        for (const auto& [name, value] : extras.variables.items()) {
            if (name == "messages" || name == "add_generation_prompt" || name == "tools" || name == "documents")
                return Error{"chat template: '" + name + "' is given twice (as a variable too)"};
            context[name] = value;  // as transformers' **kwargs: they may override special tokens
        }
    }
    return context;
}

}  // namespace

Result<std::string> ChatFormat::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                       const ChatExtras& extras) const {
    if (mode_ == ChatMode::Completion || !template_) {
        std::string text;
        for (const auto& m : messages) text += m.content;
        return text;
    }
    auto context = render_context(messages, add_generation_prompt, special_tokens_, additional_special_tokens_, extras);
    if (!context) return Error{context.error()};
    return template_->render_ordered(*context, extras.options);
}

Result<std::vector<PromptSegment>> ChatFormat::render_segments(const std::vector<ChatMessage>& messages,
                                                               bool add_generation_prompt,
                                                               const ChatExtras& extras) const {
    std::vector<PromptSegment> segments;
    if (mode_ == ChatMode::Completion || !template_) {
        // Plain completion: the text itself, nothing added; typed text never parses specials.
        for (const auto& m : messages)
            if (!m.content.empty()) segments.push_back({m.content, false});
        return segments;
    }
    auto context = render_context(messages, add_generation_prompt, special_tokens_, additional_special_tokens_, extras);
    if (!context) return Error{context.error()};
    // Tools and documents come from whoever asks (an API client), like the messages.
    auto pieces = template_->render_pieces(*context, {"messages/*/content", "tools", "documents"}, extras.options);
    if (!pieces) return Error{pieces.error()};
    segments.reserve(pieces->size());
    for (auto& piece : *pieces) segments.push_back({std::move(piece.text), !piece.untrusted});
    return segments;
}

}  // namespace fm
