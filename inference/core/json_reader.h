#pragma once
// One policy for every JSON file the engine reads (config.json, tokenizer.json,
// tokenizer_config.json, generation_config.json, safetensors headers and indexes, quant states,
// snapshot metadata):
// - nesting deeper than kMaxJsonDepth is refused while parsing, before the document is built:
//   anything that walks a value recursively (dump() in an error message, a destructor, a
//   converter) would otherwise overflow the stack on a hostile file;
// - fields are read through accessors that return an error naming the file and the JSON path
//   ("config.json: quantization_config.load_in_4bit must be a boolean, not a string") instead
//   of throwing nlohmann's type_error out of the library.

#include <cstdint>
#include <new>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "inference/core/result.h"

namespace fm {

// Real files nest a handful of levels (tokenizer.json about 6).
constexpr int kMaxJsonDepth = 128;

namespace json_detail {
struct TooDeep {};
}  // namespace json_detail

// Parses `text` (whose origin `where` names in errors) with the nesting limit. Never throws.
template <typename Json = nlohmann::json>
Result<Json> parse_json(std::string_view text, const std::string& where, int max_depth = kMaxJsonDepth) {
    try {
        typename Json::parser_callback_t limit = [max_depth](int depth, nlohmann::json::parse_event_t event, Json&) {
            if ((event == nlohmann::json::parse_event_t::object_start ||
                 event == nlohmann::json::parse_event_t::array_start) &&
                depth >= max_depth)
                throw json_detail::TooDeep{};
            return true;
        };
        return Json::parse(text.begin(), text.end(), limit);
    } catch (const json_detail::TooDeep&) {
        return Error{where + ": JSON nested more than " + std::to_string(max_depth) + " levels deep"};
    } catch (const nlohmann::json::parse_error& e) {
        return Error{where + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what()};
    } catch (const std::bad_alloc&) {
        return Error{where + ": out of memory while parsing JSON"};
    } catch (const std::exception& e) {
        return Error{where + ": cannot parse JSON: " + e.what()};
    }
}

// "a string", "an integer", ... for messages.
inline std::string json_kind(const nlohmann::json& j) {
    switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    case nlohmann::json::value_t::number_float: return "a number";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::array: return "a list";
    case nlohmann::json::value_t::object: return "an object";
    default: return "binary data";
    }
}

// `path` + "." + `key`, or `key` at the top level: the JSON path in messages.
inline std::string json_path(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// The field `key` of object `obj`, found at `path` in file `file`: nothing when absent or
// null; an error naming file and path when it has another type.
inline Result<std::optional<std::string>> json_string(const nlohmann::json& obj, std::string_view key,
                                                      const std::string& file, const std::string& path = {}) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::optional<std::string>{};
    if (!it->is_string()) return Error{file + ": " + json_path(path, key) + " must be a string, not " + json_kind(*it)};
    return std::optional<std::string>(it->get_ref<const std::string&>());
}

inline Result<std::optional<bool>> json_bool(const nlohmann::json& obj, std::string_view key, const std::string& file,
                                             const std::string& path = {}) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::optional<bool>{};
    if (!it->is_boolean())
        return Error{file + ": " + json_path(path, key) + " must be true or false, not " + json_kind(*it)};
    return std::optional<bool>(it->get<bool>());
}

inline Result<std::optional<int64_t>> json_int(const nlohmann::json& obj, std::string_view key, const std::string& file,
                                               const std::string& path = {}) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::optional<int64_t>{};
    if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        return Error{file + ": " + json_path(path, key) + " is too large"};
    if (!it->is_number_integer())
        return Error{file + ": " + json_path(path, key) + " must be an integer, not " + json_kind(*it)};
    return std::optional<int64_t>(it->get<int64_t>());
}

}  // namespace fm
