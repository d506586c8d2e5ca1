#include "app/server/api_request.h"

#include "inference/core/json_reader.h"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

namespace fm::server {
namespace {

using json = nlohmann::json;

ApiError bad(std::string param, std::string message) {
    return ApiError{400, std::move(message), std::move(param)};
}

// Each reader leaves `out` alone when the key is absent or null (OpenAI treats null as absent).
bool present(const json& body, const char* key) {
    auto it = body.find(key);
    return it != body.end() && !it->is_null();
}

std::optional<ApiError> read_number(const json& body, const char* key, double lo, double hi, float& out) {
    if (!present(body, key)) return std::nullopt;
    const json& v = body[key];
    if (!v.is_number()) return bad(key, std::string("'") + key + "' must be a number");
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < lo || d > hi)
        return bad(key, std::string("'") + key + "' must be between " + json(lo).dump() + " and " + json(hi).dump());
    out = static_cast<float>(d);
    return std::nullopt;
}

std::optional<ApiError> read_integer(const json& body, const char* key, int64_t lo, int64_t hi, int64_t& out) {
    if (!present(body, key)) return std::nullopt;
    const json& v = body[key];
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (d != std::floor(d)) return bad(key, std::string("'") + key + "' must be an integer");
    } else if (!v.is_number_integer()) {
        return bad(key, std::string("'") + key + "' must be an integer");
    }
    // Unsigned values above INT64_MAX are out of range whatever the bounds.
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return bad(key, std::string("'") + key + "' is out of range");
    const double as_double = v.get<double>();
    if (as_double < static_cast<double>(lo) || as_double > static_cast<double>(hi))
        return bad(key,
                   std::string("'") + key + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    out = v.is_number_float() ? static_cast<int64_t>(as_double) : v.get<int64_t>();
    return std::nullopt;
}

std::optional<ApiError> read_bool(const json& body, const char* key, bool& out) {
    if (!present(body, key)) return std::nullopt;
    if (!body[key].is_boolean()) return bad(key, std::string("'") + key + "' must be true or false");
    out = body[key].get<bool>();
    return std::nullopt;
}

// A message's content: a string, null (an assistant turn without text), or OpenAI's list of
// parts of which only text parts can be read by a text model.
std::optional<ApiError> read_content(const json& content, const std::string& where, std::string& out) {
    if (content.is_null()) return std::nullopt;
    if (content.is_string()) {
        out = content.get<std::string>();
        return std::nullopt;
    }
    if (!content.is_array()) return bad(where, "'" + where + "' must be a string or a list of text parts");
    for (size_t j = 0; j < content.size(); ++j) {
        const std::string part_where = where + "[" + std::to_string(j) + "]";
        const json& part = content[j];
        if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
            return bad(part_where, "'" + part_where + "' must be an object with a 'type'");
        if (part["type"] != "text")
            return bad(part_where + ".type", "'" + part_where + ".type' is '" + part["type"].get<std::string>() +
                                                 "'; this model reads only 'text' parts");
        if (!part.contains("text") || !part["text"].is_string())
            return bad(part_where + ".text", "'" + part_where + ".text' must be a string");
        out += part["text"].get<std::string>();
    }
    return std::nullopt;
}

std::optional<ApiError> read_messages(const json& body, std::vector<ChatMessage>& out) {
    if (!body.contains("messages")) return bad("messages", "'messages' is required");
    const json& messages = body["messages"];
    if (!messages.is_array()) return bad("messages", "'messages' must be a list");
    if (messages.empty()) return bad("messages", "'messages' must not be empty");
    for (size_t i = 0; i < messages.size(); ++i) {
        const std::string where = "messages[" + std::to_string(i) + "]";
        const json& m = messages[i];
        if (!m.is_object()) return bad(where, "'" + where + "' must be an object");
        if (!m.contains("role") || !m["role"].is_string())
            return bad(where + ".role", "'" + where + ".role' must be a string");
        std::string role = m["role"].get<std::string>();
        if (role == "developer") role = "system";  // OpenAI's newer name for the system prompt
        if (role != "system" && role != "user" && role != "assistant")
            return bad(where + ".role", "'" + where + ".role' is '" + m["role"].get<std::string>() +
                                            "'; supported roles are system, developer, user and assistant");
        ChatMessage message{role, {}};
        if (!m.contains("content")) return bad(where + ".content", "'" + where + ".content' is required");
        if (auto e = read_content(m["content"], where + ".content", message.content)) return e;
        out.push_back(std::move(message));
    }
    return std::nullopt;
}

std::optional<ApiError> read_prompt(const json& body, std::string& out) {
    if (!body.contains("prompt")) return bad("prompt", "'prompt' is required");
    const json& p = body["prompt"];
    if (p.is_string()) {
        out = p.get<std::string>();
        return std::nullopt;
    }
    if (p.is_array() && p.size() == 1 && p[0].is_string()) {  // n = 1: a list of one prompt
        out = p[0].get<std::string>();
        return std::nullopt;
    }
    return bad("prompt", "'prompt' must be a string (or a list of exactly one string)");
}

std::optional<ApiError> read_stop(const json& body, size_t max_count, std::vector<std::string>& out) {
    if (!present(body, "stop")) return std::nullopt;
    const json& s = body["stop"];
    if (s.is_string()) {
        if (!s.get<std::string>().empty()) out.push_back(s.get<std::string>());
        return std::nullopt;
    }
    if (!s.is_array()) return bad("stop", "'stop' must be a string or a list of strings");
    if (s.size() > max_count) return bad("stop", "'stop' may hold at most " + std::to_string(max_count) + " strings");
    for (const auto& item : s) {
        if (!item.is_string()) return bad("stop", "'stop' must be a string or a list of strings");
        if (!item.get<std::string>().empty()) out.push_back(item.get<std::string>());
    }
    return std::nullopt;
}

// Parameters we know but cannot honour: refusing says so, where ignoring would mislead.
std::optional<ApiError> refuse_unsupported(const json& body) {
    for (const char* key : {"frequency_penalty", "presence_penalty"}) {
        if (!present(body, key)) continue;
        if (!body[key].is_number()) return bad(key, std::string("'") + key + "' must be a number");
        if (body[key].get<double>() != 0.0)
            return bad(key, std::string("'") + key + "' is not supported (the sampler has no such penalty); use 0");
    }
    if (present(body, "logprobs")) {
        const json& v = body["logprobs"];
        if (!(v.is_boolean() || v.is_number_integer()))
            return bad("logprobs", "'logprobs' must be true/false (chat) or an integer (completions)");
        if ((v.is_boolean() && v.get<bool>()) || (v.is_number_integer() && v.get<int64_t>() != 0))
            return bad("logprobs", "'logprobs' is not supported by this server");
    }
    if (present(body, "best_of")) {
        int64_t best_of = 1;
        if (auto e = read_integer(body, "best_of", 1, 1, best_of)) return bad("best_of", "'best_of' must be 1");
    }
    if (present(body, "tools") && !(body["tools"].is_array() && body["tools"].empty()))
        return bad("tools", "'tools' (function calling) is not supported by this server");
    return std::nullopt;
}

}  // namespace

std::string error_body(const ApiError& error) {
    json e = {{"message", error.message},
              {"type", error.type},
              {"param", error.param.empty() ? json(nullptr) : json(error.param)},
              {"code", error.code.empty() ? json(nullptr) : json(error.code)}};
    return json{{"error", e}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

ParsedRequest parse_completion_request(std::string_view text, Endpoint endpoint, const RequestLimits& limits,
                                       uint64_t random_seed) {
    ParsedRequest out;
    auto fail = [&](ApiError e) {
        out.error = std::move(e);
        return std::move(out);
    };
    // The engine's JSON policy: a nesting limit (a deeply nested body would overflow the stack
    // when destroyed) and no exception out of here (a number like 1E9999 throws out_of_range,
    // not parse_error).
    auto parsed = parse_json(text, "the body");
    if (!parsed) return fail(bad("", parsed.error()));
    json body = std::move(*parsed);
    if (!body.is_object()) return fail(bad("", "the body must be a JSON object"));

    CompletionRequest r;
    r.endpoint = endpoint;
    // OpenAI's defaults, not the app's: plain sampling at temperature 1 with no truncation.
    r.params.sampling = SamplingParams{.temperature = 1.0f,
                                       .top_k = 0,
                                       .top_p = 1.0f,
                                       .min_p = 0.0f,
                                       .repeat_penalty = 1.0f,
                                       .repeat_window = 64,
                                       .seed = random_seed};
    r.params.max_new_tokens = limits.default_max_tokens;
    if (present(body, "model")) {
        if (!body["model"].is_string()) return fail(bad("model", "'model' must be a string"));
        r.model = body["model"].get<std::string>();
    }
    if (endpoint == Endpoint::ChatCompletions) {
        if (auto e = read_messages(body, r.messages)) return fail(*e);
    } else {
        if (auto e = read_prompt(body, r.prompt)) return fail(*e);
    }
    if (auto e = read_number(body, "temperature", 0, 2, r.params.sampling.temperature)) return fail(*e);
    if (auto e = read_number(body, "top_p", 0, 1, r.params.sampling.top_p)) return fail(*e);
    if (auto e = read_number(body, "min_p", 0, 1, r.params.sampling.min_p)) return fail(*e);
    // Not OpenAI's, but the name vLLM and llama.cpp's server give the sampler's own penalty.
    if (auto e = read_number(body, "repetition_penalty", 0.5, 2, r.params.sampling.repeat_penalty)) return fail(*e);
    int64_t top_k = 0;
    if (auto e = read_integer(body, "top_k", -1, std::numeric_limits<int32_t>::max(), top_k)) return fail(*e);
    r.params.sampling.top_k = static_cast<int32_t>(top_k);
    if (auto e = refuse_unsupported(body)) return fail(*e);

    // max_completion_tokens is the newer name; when both are given it wins.
    for (const char* key : {"max_tokens", "max_completion_tokens"}) {
        int64_t n = -1;
        if (auto e = read_integer(body, key, 1, std::numeric_limits<int64_t>::max(), n)) return fail(*e);
        if (n > 0) r.params.max_new_tokens = static_cast<int32_t>(std::min<int64_t>(n, limits.max_tokens_cap));
    }
    if (auto e = read_stop(body, limits.max_stop_strings, r.params.stop_strings)) return fail(*e);
    if (present(body, "seed")) {
        int64_t seed = 0;
        if (auto e = read_integer(body, "seed", std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max(), seed))
            return fail(*e);
        r.params.sampling.seed = static_cast<uint64_t>(seed);
        r.seeded = true;
    }
    if (present(body, "n")) {
        int64_t n = 1;
        if (auto e = read_integer(body, "n", 1, 1, n))
            return fail(bad("n", "'n' must be 1: this server makes one choice"));
    }
    if (auto e = read_bool(body, "stream", r.stream)) return fail(*e);
    if (present(body, "stream_options")) {
        const json& so = body["stream_options"];
        if (!so.is_object()) return fail(bad("stream_options", "'stream_options' must be an object"));
        if (auto e = read_bool(so, "include_usage", r.include_usage))
            return fail(bad("stream_options.include_usage", "'stream_options.include_usage' must be true or false"));
    }
    out.request = std::move(r);
    return out;
}

}  // namespace fm::server
