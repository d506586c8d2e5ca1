// JSON for the chat-template engine: json.dumps as Hugging Face's `tojson` filter calls it
// (ensure_ascii=False; keys that are not strings converted as Python does), and values made
// from the render context's JSON.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "inference/jinja/jinja_value.h"

namespace fm::jinja {

namespace {

void json_string(std::string& out, const std::string& s) {
    out.push_back('"');
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof(buf), "\\u%04x", c);
                out += buf;
            } else {
                out.push_back(ch);
            }
        }
    }
    out.push_back('"');
}

// json.dumps turns keys that are not strings into strings: 1 -> "1", True -> "true", ...
void json_key(std::string& out, const Value& k) {
    switch (k.kind()) {
    case Value::Kind::String: json_string(out, k.as_string()); return;
    case Value::Kind::Int: json_string(out, std::to_string(k.as_int())); return;
    case Value::Kind::Bool: json_string(out, k.as_bool() ? "true" : "false"); return;
    case Value::Kind::None: json_string(out, "null"); return;
    case Value::Kind::Float: {
        const double d = k.as_double();
        json_string(out, std::isnan(d) ? "NaN" : std::isinf(d) ? (d < 0 ? "-Infinity" : "Infinity") : format_float(d));
        return;
    }
    default: fail("keys must be str, int, float, bool or None, not " + type_name(k));
    }
}

void json_value(std::string& out, const Value& v, const JsonOptions& o, int depth) {
    if (depth > 512) fail("tojson: value nested too deeply");
    const std::string item_sep = !o.item_separator.empty() ? o.item_separator : o.indent >= 0 ? "," : ", ";
    const std::string key_sep = !o.key_separator.empty() ? o.key_separator : ": ";
    auto newline = [&](int level) {
        if (o.indent < 0) return;
        out.push_back('\n');
        out.append(static_cast<size_t>(o.indent) * static_cast<size_t>(level), ' ');
    };
    // "[]" / "{}" when empty, else the items separated, one per line when indenting.
    auto container = [&](char open, char close, size_t count, const auto& item) {
        out.push_back(open);
        for (size_t i = 0; i < count; ++i) {
            if (i) out += item_sep;
            newline(depth + 1);
            item(i);
            require_memory(out.size());
        }
        if (count) newline(depth);
        out.push_back(close);
    };
    switch (v.kind()) {
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(v.as_int()); return;
    case Value::Kind::Float: {
        double d = v.as_double();
        if (std::isnan(d))
            out += "NaN";
        else if (std::isinf(d))
            out += d < 0 ? "-Infinity" : "Infinity";
        else
            out += format_float(d);
        return;
    }
    case Value::Kind::String: json_string(out, v.as_string()); return;
    case Value::Kind::List: {
        const auto& items = v.as_list().items;
        container('[', ']', items.size(), [&](size_t i) { json_value(out, items[i], o, depth + 1); });
        return;
    }
    case Value::Kind::Dict: {
        std::vector<const std::pair<Value, Value>*> items;
        for (const auto& kv : v.as_dict().items) items.push_back(&kv);
        if (o.sort_keys)  // Python sorts the keys themselves (mixed types cannot be ordered)
            std::stable_sort(items.begin(), items.end(),
                             [](auto* a, auto* b) { return compare(a->first, b->first) < 0; });
        container('{', '}', items.size(), [&](size_t i) {
            json_key(out, items[i]->first);
            out += key_sep;
            json_value(out, items[i]->second, o, depth + 1);
        });
        return;
    }
    case Value::Kind::Undefined:
    case Value::Kind::Function: fail("Object of type " + type_name(v) + " is not JSON serializable");
    }
}

}  // namespace

std::string to_json(const Value& v, const JsonOptions& options) {
    std::string out;
    json_value(out, v, options, 0);
    return out;
}

namespace {

template <typename Json>
Value convert_json(const Json& j) {
    switch (j.type()) {
    case nlohmann::detail::value_t::null: return Value::none();
    case nlohmann::detail::value_t::boolean: return Value::boolean(j.template get<bool>());
    case nlohmann::detail::value_t::number_integer: return Value::integer(j.template get<int64_t>());
    case nlohmann::detail::value_t::number_unsigned: {
        auto u = j.template get<uint64_t>();
        if (u <= static_cast<uint64_t>(INT64_MAX)) return Value::integer(static_cast<int64_t>(u));
        return Value::number(static_cast<double>(u));
    }
    case nlohmann::detail::value_t::number_float: return Value::number(j.template get<double>());
    case nlohmann::detail::value_t::string: return Value::string(j.template get<std::string>());
    case nlohmann::detail::value_t::array: {
        std::vector<Value> items;
        items.reserve(j.size());
        for (const auto& e : j) items.push_back(convert_json(e));
        return Value::list(std::move(items));
    }
    case nlohmann::detail::value_t::object: {
        auto d = std::make_shared<Dict>();
        d->tainted_keys = TaintScope::active();
        d->items.reserve(j.size());
        for (auto it = j.begin(); it != j.end(); ++it) d->add_new(it.key(), convert_json(it.value()));  // unique
        return Value::dict(std::move(d));
    }
    default: return Value::none();
    }
}

}  // namespace

Value from_json(const nlohmann::json& j) {
    return convert_json(j);
}
Value from_json(const nlohmann::ordered_json& j) {
    return convert_json(j);
}

}  // namespace fm::jinja
