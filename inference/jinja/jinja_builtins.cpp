// Jinja's filters and tests, and the globals Hugging Face gives chat templates.

#include "inference/jinja/jinja_builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "inference/jinja/unicode/case_mapping.h"

namespace fm::jinja {
namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE
constexpr size_t kMaxJoinBytes = size_t{64} << 20;

const char* const kFilters[] = {
    "abs",        "attr",    "batch",   "capitalize", "center", "count",    "d",          "default", "dictsort",
    "e",          "escape",  "first",   "float",      "format", "groupby",  "indent",     "int",     "items",
    "join",       "last",    "length",  "list",       "lower",  "map",      "max",        "min",     "reject",
    "rejectattr", "replace", "reverse", "round",      "safe",   "select",   "selectattr", "slice",   "sort",
    "string",     "sum",     "title",   "tojson",     "trim",   "truncate", "unique",     "upper",   "wordcount"};

const char* const kTests[] = {"defined",     "undefined", "none",        "boolean", "true",     "false",    "integer",
                              "float",       "number",    "string",      "mapping", "iterable", "sequence", "callable",
                              "odd",         "even",      "divisibleby", "eq",      "equalto",  "==",       "ne",
                              "!=",          "lt",        "lessthan",    "<",       "le",       "<=",       "gt",
                              "greaterthan", ">",         "ge",          ">=",      "in",       "sameas",   "lower",
                              "upper",       "escaped",   "filter",      "test"};

template <size_t N>
bool in_table(const char* const (&table)[N], std::string_view name) {
    return std::any_of(std::begin(table), std::end(table), [&](const char* m) { return name == m; });
}

CallArgs positional(std::vector<Value> values) {
    CallArgs a;
    a.positional = std::move(values);
    return a;
}

// Jinja's attribute lookup for filters: "a.b.0" walks attributes and indexes.
Value lookup_path(const Value& obj, const Value& path) {
    if (path.is_number() && !path.is_float()) return get_item(obj, path);
    std::string p = to_str(path);
    Value cur = obj;
    size_t start = 0;
    while (start <= p.size()) {
        size_t dot = p.find('.', start);
        if (dot == std::string::npos) dot = p.size();
        std::string part = p.substr(start, dot - start);
        bool digits =
            !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        cur = digits ? get_item(cur, Value::integer(std::stoll(part))) : get_item(cur, Value::string(part));
        if (cur.is_undefined()) return cur;
        start = dot + 1;
    }
    return cur;
}

Value lower_for_sort(const Value& v, bool case_sensitive) {
    if (case_sensitive || !v.is_string()) return v;
    return call_method(v, "lower", CallArgs{});
}

// `keys_in_lists`: the sort filter's keys are one-item lists (Jinja2's multi-attribute getter),
// which Python compares item by item with == first: equal keys never need ordering (two equal
// dicts sort, though dicts cannot be ordered).
std::vector<Value> sorted(std::vector<Value> items, bool case_sensitive, const Value& attribute, bool reverse,
                          bool keys_in_lists = false) {
    std::vector<std::pair<Value, Value>> keyed;
    for (auto& v : items) {
        Value key = attribute.is_undefined() || attribute.is_none() ? v : lookup_path(v, attribute);
        keyed.emplace_back(lower_for_sort(key, case_sensitive), std::move(v));
    }
    auto less = [&](const Value& a, const Value& b) {
        if (keys_in_lists && equals(a, b)) return false;
        return compare(a, b) < 0;
    };
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
        return reverse ? less(y.first, x.first) : less(x.first, y.first);
    });
    std::vector<Value> out;
    for (auto& kv : keyed) out.push_back(std::move(kv.second));
    return out;
}

std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&#34;"; break;
        case '\'': out += "&#39;"; break;
        default: out.push_back(c);
        }
    }
    return out;
}

std::string ascii_escape(const std::string& json) {
    std::string out;
    char buf[16];
    for (char32_t c : utf8_decode(json)) {
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else if (c < 0x10000) {
            std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
            out += buf;
        } else {
            char32_t v = c - 0x10000;
            std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                          static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
            out += buf;
        }
    }
    return out;
}

Value to_int(const Value& v, const Value& fallback) {
    if (v.is_number() && !v.is_float()) return Value::integer(v.as_int());
    if (v.is_float()) {
        double d = v.as_double();
        if (!std::isfinite(d) || std::fabs(d) > 9.2e18) return fallback;
        return Value::integer(static_cast<int64_t>(d));
    }
    if (v.is_string()) {
        std::string s = to_str(call_method(v, "strip", CallArgs{}));
        std::string digits;
        for (char c : s)
            if (c != '_') digits.push_back(c);
        try {
            size_t used = 0;
            long long i = std::stoll(digits, &used);
            if (used == digits.size()) return Value::integer(i);
            double d = std::stod(digits, &used);
            if (used == digits.size() && std::isfinite(d) && std::fabs(d) < 9.2e18)
                return Value::integer(static_cast<int64_t>(d));
        } catch (const std::exception&) {}
    }
    return fallback;
}

Value to_float(const Value& v, const Value& fallback) {
    if (v.is_number()) return Value::number(v.as_double());
    if (v.is_string()) {
        std::string s = to_str(call_method(v, "strip", CallArgs{}));
        try {
            size_t used = 0;
            double d = std::stod(s, &used);
            if (used == s.size()) return Value::number(d);
        } catch (const std::exception&) {}
    }
    return fallback;
}

// select/reject/selectattr/rejectattr: args after the ones consumed name a test and its arguments.
std::vector<Value> select_items(const Value& input, const CallArgs& args, bool attr, bool keep) {
    size_t next = 0;
    Value attribute;
    if (attr) {
        if (args.positional.empty()) fail("selectattr/rejectattr need an attribute name");
        attribute = args.positional[next++];
    }
    std::string test;
    CallArgs test_args;
    if (next < args.positional.size()) {
        test = to_str(args.positional[next++]);
        if (!is_known_test(test)) fail("no test named '" + test + "'");
        test_args.positional.assign(args.positional.begin() + static_cast<long>(next), args.positional.end());
        test_args.named = args.named;
    }
    std::vector<Value> out;
    // Jinja2 iterates only a truthy input (`if value: for item in value`): None, 0 and '' give nothing.
    for (const Value& item : truthy(input) ? iterate(input) : std::vector<Value>{}) {
        Value subject = attr ? lookup_path(item, attribute) : item;
        bool ok = test.empty() ? truthy(subject) : apply_test(test, subject, test_args);
        if (ok == keep) out.push_back(item);
    }
    return out;
}

Value map_items(const Value& input, const CallArgs& args) {
    ArgReader a(args, "filter 'map'");
    std::vector<Value> out;
    if (args.positional.empty()) {
        a.check(0, "attribute,default");
        Value attribute = a.required(0, "attribute");
        Value fallback = a.get(99, "default");
        for (const Value& item : truthy(input) ? iterate(input) : std::vector<Value>{}) {
            Value v = lookup_path(item, attribute);
            out.push_back(v.is_undefined() && !fallback.is_undefined() ? fallback : v);
        }
        return Value::list(std::move(out));
    }
    std::string filter = to_str(args.positional[0]);
    if (!is_known_filter(filter)) fail("no filter named '" + filter + "'");
    CallArgs rest;
    rest.positional.assign(args.positional.begin() + 1, args.positional.end());
    rest.named = args.named;
    for (const Value& item : truthy(input) ? iterate(input) : std::vector<Value>{})
        out.push_back(apply_filter(filter, item, rest));
    return Value::list(std::move(out));
}

std::string indent_text(std::string s, const Value& width, bool first, bool blank) {
    std::string ind = width.is_string() ? width.as_string()
                                        : std::string(static_cast<size_t>(std::max<int64_t>(0, width.as_int())), ' ');
    s += "\n";
    std::vector<Value> lines = call_method(Value::string(s), "splitlines", CallArgs{}).as_list().items;
    std::string rv;
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i].as_string();
        if (i == 0) {
            rv = line;
            continue;
        }
        require_memory(rv.size() + 1 + ind.size() + line.size());
        rv += "\n";
        if (blank || !line.empty()) rv += ind;
        rv += line;
    }
    return first ? ind + rv : rv;
}

}  // namespace

bool is_known_filter(std::string_view name) {
    return in_table(kFilters, name);
}
bool is_known_test(std::string_view name) {
    return in_table(kTests, name);
}

Value apply_filter(const std::string& name, const Value& input, const CallArgs& args) {
    ArgReader a(args, "filter '" + name + "'");
    if (name == "default" || name == "d") {
        a.check(2, "default_value,boolean");
        bool boolean = truthy(a.get(1, "boolean", Value::boolean(false)));
        if (input.is_undefined() || (boolean && !truthy(input))) return a.get(0, "default_value", Value::string(""));
        return input;
    }
    if (name == "length" || name == "count") {
        a.check(0, "");
        switch (input.kind()) {
        case Value::Kind::Undefined: return Value::integer(0);
        case Value::Kind::String: return Value::integer(static_cast<int64_t>(utf8_decode(input.as_string()).size()));
        case Value::Kind::List: return Value::integer(static_cast<int64_t>(input.as_list().items.size()));
        case Value::Kind::Dict: return Value::integer(static_cast<int64_t>(input.as_dict().items.size()));
        default: fail("object of type '" + type_name(input) + "' has no len()");
        }
    }
    if (name == "tojson") {
        a.check(1, "indent,ensure_ascii,separators,sort_keys");
        JsonOptions o;
        Value indent = a.get(0, "indent", Value::none());
        if (indent.is_number() && !indent.is_float())
            o.indent = static_cast<int>(std::clamp<int64_t>(indent.as_int(), 0, 64));
        else if (!indent.is_none())
            fail("tojson: indent must be an integer or None");
        o.sort_keys = truthy(a.get(99, "sort_keys", Value::boolean(false)));
        Value seps = a.get(99, "separators", Value::none());
        if (!seps.is_none()) {
            if (!seps.is_list() || seps.as_list().items.size() != 2 || !seps.as_list().items[0].is_string() ||
                !seps.as_list().items[1].is_string())
                fail("tojson: separators must be a pair of strings");
            o.item_separator = seps.as_list().items[0].as_string();
            o.key_separator = seps.as_list().items[1].as_string();
        }
        std::string json = to_json(input, o);
        if (truthy(a.get(99, "ensure_ascii", Value::boolean(false)))) json = ascii_escape(json);
        return Value::string(std::move(json));
    }
    if (name == "trim") {
        a.check(1, "chars");
        Value text = input.is_string() ? input : Value::string(to_str(input));
        return call_method(text, "strip", positional({a.get(0, "chars", Value::none())}));
    }
    if (name == "upper" || name == "lower" || name == "capitalize") {
        a.check(0, "");
        return call_method(Value::string(to_str(input)), name, CallArgs{});
    }
    if (name == "title") {
        // Jinja's own: the text split into runs of separators (whitespace, -, (, {, [, <) and
        // runs of the rest, each run as run[0].upper() + run[1:].lower() (Python's full mappings;
        // final sigma judged within the run's tail alone, as Python sees that substring).
        a.check(0, "");
        const std::u32string s = utf8_decode(to_str(input));
        require_memory(s.size() * 3 * sizeof(char32_t));
        auto is_sep = [](char32_t c) {
            return is_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
        };
        std::u32string out;
        for (size_t i = 0; i < s.size();) {
            size_t j = i + 1;
            while (j < s.size() && is_sep(s[j]) == is_sep(s[i])) ++j;
            unicode::append_upper(s[i], out);
            out += unicode::lower(std::u32string_view(s).substr(i + 1, j - i - 1));
            i = j;
        }
        return Value::string(utf8_encode(out));
    }
    if (name == "string" || name == "safe") {
        a.check(0, "");
        return input.is_string() ? input : Value::string(to_str(input));  // safe: Markup(value), a str
    }
    if (name == "escape" || name == "e") {
        a.check(0, "");
        return Value::string(html_escape(to_str(input)));
    }
    if (name == "first" || name == "last") {
        a.check(0, "");
        std::vector<Value> items = iterate(input);
        if (items.empty()) return Value::undefined("No " + name + " item, sequence was empty.");
        return name == "first" ? items.front() : items.back();
    }
    if (name == "join") {
        a.check(2, "d,attribute");
        // Provenance is kept piece by piece: joining template text with a message's keeps
        // the template's special tokens.
        Value sep_v = a.get(0, "d", Value::text("", {}));
        const Value sep = sep_v.is_string() ? sep_v : Value::string(to_str(sep_v));
        Value attribute = a.get(1, "attribute");
        std::string out;
        Taint taint;
        auto append = [&](const Value& piece) {
            if (out.size() + piece.as_string().size() > kMaxJoinBytes) fail("string too large");
            require_memory(out.size() + piece.as_string().size());
            taint.append(piece.taint(), out.size());
            out += piece.as_string();
        };
        bool first = true;
        for (const Value& v : iterate(input)) {
            if (!first) append(sep);
            first = false;
            const Value item = attribute.is_undefined() ? v : lookup_path(v, attribute);
            if (item.is_string()) {
                append(item);
                continue;
            }
            std::string printed = to_str(item);
            const bool tainted = TaintScope::active() || carries_taint(item);
            Taint printed_taint = tainted ? Taint::all(printed.size()) : Taint{};
            append(Value::text(std::move(printed), std::move(printed_taint)));
        }
        return Value::text(std::move(out), std::move(taint));
    }
    if (name == "list") {
        a.check(0, "");
        return Value::list(iterate(input));
    }
    if (name == "int") {
        a.check(2, "default,base");
        return to_int(input, a.get(0, "default", Value::integer(0)));
    }
    if (name == "float") {
        a.check(1, "default");
        return to_float(input, a.get(0, "default", Value::number(0.0)));
    }
    if (name == "abs") {
        a.check(0, "");
        if (input.is_float()) return Value::number(std::fabs(input.as_double()));
        if (input.is_number()) return binary_op("*", input, Value::integer(input.as_int() < 0 ? -1 : 1));
        fail("bad operand type for abs(): '" + type_name(input) + "'");
    }
    if (name == "round") {
        a.check(2, "precision,method");
        if (!input.is_number()) fail("filter 'round' needs a number, got '" + type_name(input) + "'");
        Value precision_v = a.get(0, "precision", Value::integer(0));
        if (!precision_v.is_number() || precision_v.is_float()) fail("filter 'round': precision must be an integer");
        int64_t precision = std::clamp<int64_t>(precision_v.as_int(), -308, 308);
        std::string method = to_str(a.get(1, "method", Value::string("common")));
        if (method != "common" && method != "ceil" && method != "floor")
            fail("filter 'round': method must be 'common', 'ceil' or 'floor'");
        if (method == "common" && !input.is_float() && precision >= 0) return Value::integer(input.as_int());
        double scale = std::pow(10.0, static_cast<double>(precision));
        double x = input.as_double() * scale;
        // Python's round() rounds halves to even.
        double r = method == "ceil" ? std::ceil(x) : method == "floor" ? std::floor(x) : std::nearbyint(x);
        return Value::number(r / scale);
    }
    if (name == "replace") {
        a.check(3, "old,new,count");
        CallArgs r = positional({a.required(0, "old"), a.required(1, "new")});
        Value count = a.get(2, "count", Value::none());
        if (!count.is_none()) r.positional.push_back(count);
        return call_method(Value::string(to_str(input)), "replace", r);
    }
    if (name == "reverse") {
        a.check(0, "");
        if (input.is_string()) {
            std::u32string s = utf8_decode(input.as_string());
            std::reverse(s.begin(), s.end());
            return Value::string(utf8_encode(s));
        }
        std::vector<Value> items = iterate(input);
        std::reverse(items.begin(), items.end());
        return Value::list(std::move(items));
    }
    if (name == "sort") {
        a.check(3, "reverse,case_sensitive,attribute");
        return Value::list(sorted(iterate(input), truthy(a.get(1, "case_sensitive", Value::boolean(false))),
                                  a.get(2, "attribute"), truthy(a.get(0, "reverse", Value::boolean(false))), true));
    }
    if (name == "unique") {
        a.check(2, "case_sensitive,attribute");
        bool cs = truthy(a.get(0, "case_sensitive", Value::boolean(false)));
        Value attribute = a.get(1, "attribute");
        std::vector<Value> out, seen;
        for (const Value& v : iterate(input)) {
            Value key = lower_for_sort(attribute.is_undefined() ? v : lookup_path(v, attribute), cs);
            require_hashable(key);  // Jinja2 keeps the keys seen in a set
            if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); })) continue;
            seen.push_back(key);
            out.push_back(v);
        }
        return Value::list(std::move(out));
    }
    if (name == "min" || name == "max") {
        a.check(2, "case_sensitive,attribute");
        std::vector<Value> items = sorted(iterate(input), truthy(a.get(0, "case_sensitive", Value::boolean(false))),
                                          a.get(1, "attribute"), false);
        if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
        return name == "min" ? items.front() : items.back();
    }
    if (name == "sum") {
        a.check(2, "attribute,start");
        Value attribute = a.get(0, "attribute");
        Value total = a.get(1, "start", Value::integer(0));
        for (const Value& v : iterate(input))
            total = binary_op("+", total, attribute.is_undefined() ? v : lookup_path(v, attribute));
        return total;
    }
    if (name == "items" || name == "dictsort") {
        if (input.is_undefined()) return Value::list();
        if (!input.is_dict()) fail("filter '" + name + "' needs a mapping, got '" + type_name(input) + "'");
        std::vector<Value> pairs = call_method(input, "items", CallArgs{}).as_list().items;
        if (name == "items") {
            a.check(0, "");
            return Value::list(std::move(pairs));
        }
        a.check(3, "case_sensitive,by,reverse");
        bool by_value = to_str(a.get(1, "by", Value::string("key"))) == "value";
        return Value::list(sorted(std::move(pairs), truthy(a.get(0, "case_sensitive", Value::boolean(false))),
                                  Value::integer(by_value ? 1 : 0),
                                  truthy(a.get(2, "reverse", Value::boolean(false)))));
    }
    if (name == "map") return map_items(input, args);
    if (name == "select" || name == "reject") return Value::list(select_items(input, args, false, name == "select"));
    if (name == "selectattr" || name == "rejectattr")
        return Value::list(select_items(input, args, true, name == "selectattr"));
    if (name == "attr") {
        a.check(1, "name");
        return get_attr(input, to_str(a.required(0, "name")));
    }
    if (name == "indent") {
        a.check(3, "width,first,blank");
        Value width = a.get(0, "width", Value::integer(4));
        if (!width.is_string() && !(width.is_number() && !width.is_float()))
            fail("filter 'indent': width must be an integer or a string");
        if (!input.is_string())  // Jinja2 appends "\n" to the value itself
            fail("unsupported operand type(s) for +=: '" + type_name(input) + "' and 'str'");
        return Value::string(indent_text(input.as_string(), width, truthy(a.get(1, "first", Value::boolean(false))),
                                         truthy(a.get(2, "blank", Value::boolean(false)))));
    }
    if (name == "format") {  // value % args
        if (!args.named.empty()) fail("filter 'format': keyword arguments are not supported");
        return binary_op("%", Value::string(to_str(input)), Value::list(args.positional, true));
    }
    if (name == "center") {
        a.check(1, "width");
        return call_method(Value::string(to_str(input)), "center", positional({a.get(0, "width", Value::integer(80))}));
    }
    if (name == "truncate") {
        a.check(4, "length,killwords,end,leeway");
        const Value length_v = a.get(0, "length", Value::integer(255)), end_v = a.get(2, "end", Value::string("...")),
                    leeway_v = a.get(3, "leeway", Value::integer(5));
        if (!length_v.is_int() || !leeway_v.is_int() || !end_v.is_string())
            fail("filter 'truncate': length and leeway must be integers, end a string");
        const std::u32string end = utf8_decode(end_v.as_string());
        const int64_t length = length_v.as_int(), leeway = leeway_v.as_int();
        if (length < static_cast<int64_t>(end.size()))
            fail("expected length >= " + std::to_string(end.size()) + ", got " + std::to_string(length));
        if (leeway < 0) fail("expected leeway >= 0, got " + std::to_string(leeway));
        if (!input.is_string()) {  // Jinja2 returns a short enough sequence as it is
            if (apply_filter("length", input, CallArgs{}).as_int() <= length + leeway) return input;
            fail("filter 'truncate' can only shorten a string, not a '" + type_name(input) + "'");
        }
        const std::u32string s = utf8_decode(input.as_string());
        if (static_cast<int64_t>(s.size()) <= length + leeway) return input;
        std::u32string kept = s.substr(0, static_cast<size_t>(length) - end.size());
        if (!truthy(a.get(1, "killwords", Value::boolean(false)))) {
            const size_t space = kept.rfind(U' ');
            if (space != std::u32string::npos) kept.resize(space);
        }
        return Value::string(utf8_encode(kept + end));
    }
    if (name == "groupby") {  // sorted by the attribute, then runs of equal keys: (grouper, list)
        a.check(3, "attribute,default,case_sensitive");
        const Value attribute = a.required(0, "attribute"), fallback = a.get(1, "default", Value::none());
        const bool cs = truthy(a.get(2, "case_sensitive", Value::boolean(false)));
        struct Keyed {
            Value key, value, item;
        };
        std::vector<Keyed> keyed;
        for (const Value& item : iterate(input)) {
            Value v = lookup_path(item, attribute);
            if (v.is_undefined() && !fallback.is_none()) v = fallback;
            keyed.push_back({lower_for_sort(v, cs), v, item});
        }
        std::stable_sort(keyed.begin(), keyed.end(),
                         [](const Keyed& x, const Keyed& y) { return compare(x.key, y.key) < 0; });
        static const char* const kGroupFields[] = {"grouper", "list"};
        std::vector<Value> groups;
        for (size_t i = 0; i < keyed.size();) {
            size_t j = i;
            std::vector<Value> members;
            while (j < keyed.size() && equals(keyed[j].key, keyed[i].key)) members.push_back(keyed[j++].item);
            Value group = Value::list({keyed[i].value, Value::list(std::move(members))}, true);
            group.as_list().fields = kGroupFields;
            groups.push_back(std::move(group));
            i = j;
        }
        return Value::list(std::move(groups));
    }
    if (name == "batch" || name == "slice") {
        a.check(2, name == "batch" ? "linecount,fill_with" : "slices,fill_with");
        const Value n_v = a.required(0, name == "batch" ? "linecount" : "slices");
        if (!n_v.is_int() || n_v.as_int() <= 0) fail("filter '" + name + "' needs a positive integer");
        const Value fill = a.get(1, "fill_with", Value::none());
        const std::vector<Value> items = iterate(input);
        const auto n = static_cast<size_t>(n_v.as_int());
        std::vector<Value> out;
        if (name == "batch") {
            for (size_t i = 0; i < items.size(); i += n) {
                std::vector<Value> row(items.begin() + static_cast<long>(i),
                                       items.begin() + static_cast<long>(std::min(items.size(), i + n)));
                while (!fill.is_none() && row.size() < n) row.push_back(fill);
                out.push_back(Value::list(std::move(row)));
            }
            return Value::list(std::move(out));
        }
        if (n > static_cast<size_t>(kMaxRange)) fail("filter 'slice': too many slices");
        const size_t per = items.size() / n, extra = items.size() % n;
        size_t offset = 0;
        for (size_t k = 0; k < n; ++k) {  // Jinja2's do_slice
            const size_t start = offset + k * per;
            if (k < extra) ++offset;
            const size_t end = offset + (k + 1) * per;
            std::vector<Value> column(items.begin() + static_cast<long>(start), items.begin() + static_cast<long>(end));
            if (!fill.is_none() && k >= extra) column.push_back(fill);
            out.push_back(Value::list(std::move(column)));
        }
        return Value::list(std::move(out));
    }
    if (name == "wordcount") {  // Jinja counts runs of \\w characters
        a.check(0, "");
        int64_t words = 0;
        bool in_word = false;
        for (char32_t c : utf8_decode(to_str(input))) {
            bool w = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                     (c >= 0xC0 && !is_space(c) && !(c >= 0x2000 && c <= 0x206F) && !(c >= 0x3000 && c <= 0x303F));
            if (w && !in_word) ++words;
            in_word = w;
        }
        return Value::integer(words);
    }
    fail("no filter named '" + name + "'");
}

bool apply_test(const std::string& name, const Value& v, const CallArgs& args) {
    ArgReader a(args, "test '" + name + "'");
    const bool takes_arg = name == "divisibleby" || name == "eq" || name == "equalto" || name == "==" || name == "ne" ||
                           name == "!=" || name == "lt" || name == "lessthan" || name == "<" || name == "le" ||
                           name == "<=" || name == "gt" || name == "greaterthan" || name == ">" || name == "ge" ||
                           name == ">=" || name == "in" || name == "sameas";
    a.check(takes_arg ? 1 : 0, "");
    if (name == "defined") return !v.is_undefined();
    if (name == "undefined") return v.is_undefined();
    if (name == "none") return v.is_none();
    if (name == "boolean") return v.is_bool();
    if (name == "true") return v.is_bool() && v.as_bool();
    if (name == "false") return v.is_bool() && !v.as_bool();
    if (name == "integer") return v.is_int();
    if (name == "float") return v.is_float();
    if (name == "number") return v.is_number();
    if (name == "string") return v.is_string();
    const bool plain_dict = v.is_dict() && !v.as_dict().is_namespace;  // a namespace is neither
    if (name == "mapping") return plain_dict;
    if (name == "iterable") return v.is_string() || v.is_list() || plain_dict || v.is_undefined();
    if (name == "sequence") return v.is_string() || v.is_list() || plain_dict || v.is_undefined();
    if (name == "callable") return v.is_function();
    if (name == "escaped") return false;
    if (name == "filter") return v.is_string() && is_known_filter(v.as_string());
    if (name == "test") return v.is_string() && is_known_test(v.as_string());
    if (name == "lower" || name == "upper")  // str(value).islower() / .isupper()
        return truthy(call_method(Value::string(to_str(v)), "is" + name, CallArgs{}));
    if (name == "odd" || name == "even")  // value % 2 == 1 / == 0
        return equals(binary_op("%", v, Value::integer(2)), Value::integer(name == "odd" ? 1 : 0));
    Value other = a.required(0, "other");
    if (name == "divisibleby") {
        Value m = binary_op("%", v, other);
        return m.as_double() == 0.0;
    }
    if (name == "eq" || name == "equalto" || name == "==") return equals(v, other);
    if (name == "ne" || name == "!=") return !equals(v, other);
    if (name == "lt" || name == "lessthan" || name == "<") return compare(v, other) < 0;
    if (name == "le" || name == "<=") return compare(v, other) <= 0;
    if (name == "gt" || name == "greaterthan" || name == ">") return compare(v, other) > 0;
    if (name == "ge" || name == ">=") return compare(v, other) >= 0;
    if (name == "in") return contains(other, v);
    if (name == "sameas") {
        if (v.kind() != other.kind()) return false;
        if (v.is_none() || v.is_bool() || v.is_undefined()) return equals(v, other);
        if (v.is_dict()) return &v.as_dict() == &other.as_dict();
        if (v.is_list()) return &v.as_list() == &other.as_list();
        return equals(v, other);
    }
    fail("no test named '" + name + "'");
}

namespace {

// The globals that hold no state, made once and shared by every rendering.
void add_stateless_globals(Dict& globals) {
    globals.set("raise_exception", Value::function("raise_exception", [](CallArgs& args) -> Value {
                    ArgReader a(args, "raise_exception()");
                    a.check(1, "message");
                    throw TemplateError{to_str(a.get(0, "message", Value::string(""))), 0, 0, true};
                }));
    globals.set("range", Value::function("range", [](CallArgs& args) {
                    ArgReader a(args, "range()");
                    a.check(3, "");
                    std::vector<int64_t> n;
                    for (const Value& v : args.positional) {
                        if (!v.is_number() || v.is_float())
                            fail("range() arguments must be integers, not " + type_name(v));
                        n.push_back(v.as_int());
                    }
                    if (n.empty()) fail("range expected at least 1 argument, got 0");
                    int64_t start = n.size() == 1 ? 0 : n[0], stop = n.size() == 1 ? n[0] : n[1],
                            step = n.size() == 3 ? n[2] : 1;
                    if (step == 0) fail("range() arg 3 must not be zero");
                    double count =
                        std::ceil((static_cast<double>(stop) - static_cast<double>(start)) / static_cast<double>(step));
                    if (count > static_cast<double>(kMaxRange))
                        fail("range too big: the sandbox allows at most " + std::to_string(kMaxRange) + " items");
                    std::vector<Value> out;
                    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(Value::integer(i));
                    return Value::list(std::move(out));
                }));
    auto make_dict = [](CallArgs& args, bool ns) {
        auto d = std::make_shared<Dict>();
        d->is_namespace = ns;
        d->tainted_keys = TaintScope::active();  // its keys may be a message's (dict(other))
        if (args.positional.size() > 1) fail("namespace()/dict() take at most one positional argument");
        if (!args.positional.empty()) {
            const Value& init = args.positional[0];
            if (!init.is_dict()) fail("namespace()/dict() positional argument must be a mapping");
            for (const auto& [k, v] : init.as_dict().items) d->set(k, v);
        }
        for (auto& [k, v] : args.named) d->set(k, v);
        return Value::dict(std::move(d));
    };
    globals.set("namespace",
                Value::function("namespace", [make_dict](CallArgs& args) { return make_dict(args, true); }));
    globals.set("dict", Value::function("dict", [make_dict](CallArgs& args) { return make_dict(args, false); }));
}

}  // namespace

void add_globals(Dict& globals, std::function<std::tm()> now) {
    static const Dict stateless = [] {
        TaintScope untainted(false);
        BudgetScope unbudgeted(nullptr);  // outlives every rendering: charged to none
        Dict d;
        add_stateless_globals(d);
        return d;
    }();
    for (const auto& [k, v] : stateless.items) globals.set(k, v);
    globals.set("strftime_now", Value::function("strftime_now", [now](CallArgs& args) {
                    ArgReader a(args, "strftime_now()");
                    a.check(1, "format");
                    std::string format = to_str(a.required(0, "format"));
                    std::tm local{};
                    if (now) {
                        local = now();
                    } else {
                        const std::time_t t = std::time(nullptr);
                        localtime_r(&t, &local);
                    }
                    char buf[512];
                    size_t n = format.empty() ? 0 : std::strftime(buf, sizeof(buf), format.c_str(), &local);
                    return Value::string(std::string(buf, n));
                }));
}

}  // namespace fm::jinja
