// Operators, attribute/item access, slices and the str/dict/list methods of the chat-template
// engine, with Python's semantics (what Jinja2 inherits from Python).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include "inference/jinja/jinja_builtins.h"
#include "inference/jinja/unicode/case_mapping.h"

namespace fm::jinja {

constexpr size_t kMaxStringBytes = size_t{64} << 20;
constexpr size_t kMaxListItems = size_t{1} << 22;

// ---- ArgReader ----------------------------------------------------------------------------

bool ArgReader::has(size_t index, std::string_view name) const {
    if (index < args_.positional.size()) return true;
    for (const auto& [k, v] : args_.named)
        if (k == name) return true;
    return false;
}

Value ArgReader::get(size_t index, std::string_view name, Value fallback) const {
    if (index < args_.positional.size()) return args_.positional[index];
    for (const auto& [k, v] : args_.named)
        if (k == name) return v;
    return fallback;
}

Value ArgReader::required(size_t index, std::string_view name) const {
    if (!has(index, name)) fail(what_ + " is missing its argument '" + std::string(name) + "'");
    return get(index, name);
}

void ArgReader::check(size_t max_positional, std::string_view names) const {
    if (args_.positional.size() > max_positional)
        fail(what_ + " takes at most " + std::to_string(max_positional) + " positional argument" +
             (max_positional == 1 ? "" : "s") + " (" + std::to_string(args_.positional.size()) + " given)");
    for (const auto& [k, v] : args_.named) {
        bool known = false;
        size_t start = 0;
        while (start <= names.size()) {
            size_t end = names.find(',', start);
            if (end == std::string_view::npos) end = names.size();
            if (names.substr(start, end - start) == k) known = true;
            start = end + 1;
        }
        if (!known) fail(what_ + " got an unexpected keyword argument '" + k + "'");
    }
}

// ---- Operators ----------------------------------------------------------------------------

namespace {

[[noreturn]] void bad_operands(std::string_view op, const Value& a, const Value& b) {
    fail("unsupported operand type(s) for " + std::string(op) + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
}

Value repeat(const Value& seq, int64_t times) {
    if (times < 0) times = 0;
    if (seq.is_string()) {
        const std::string& s = seq.as_string();
        if (!s.empty() && static_cast<uint64_t>(times) > kMaxStringBytes / s.size())
            fail("string repetition too large");
        require_memory(s.size() * static_cast<size_t>(times));
        std::string out;
        out.reserve(s.size() * static_cast<size_t>(times));
        for (int64_t i = 0; i < times; ++i) out += s;
        return Value::string(std::move(out));
    }
    const List& l = seq.as_list();
    if (!l.items.empty() && static_cast<uint64_t>(times) > kMaxListItems / l.items.size())
        fail("list repetition too large");
    require_memory(l.items.size() * static_cast<size_t>(times) * sizeof(Value));
    std::vector<Value> out;
    for (int64_t i = 0; i < times; ++i) out.insert(out.end(), l.items.begin(), l.items.end());
    return Value::list(std::move(out), l.is_tuple);
}

int64_t checked_add(int64_t a, int64_t b) {
    int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) fail("integer overflow");
    return r;
}
int64_t checked_sub(int64_t a, int64_t b) {
    int64_t r = 0;
    if (__builtin_sub_overflow(a, b, &r)) fail("integer overflow");
    return r;
}
int64_t checked_mul(int64_t a, int64_t b) {
    int64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) fail("integer overflow");
    return r;
}

// printf-style `format % args` for %s, %r, %d, %i, %f and %%, as older templates use it.
Value percent_format(const std::string& format, const Value& args) {
    std::vector<Value> values =
        args.is_list() && args.as_list().is_tuple ? args.as_list().items : std::vector<Value>{args};
    size_t next = 0;
    std::string out;
    for (size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') {
            out.push_back(format[i]);
            continue;
        }
        if (++i >= format.size()) fail("incomplete format");
        char spec = format[i];
        if (spec == '%') {
            out.push_back('%');
            continue;
        }
        if (next >= values.size()) fail("not enough arguments for format string");
        const Value& v = values[next++];
        require_memory(out.size());
        if (spec == 's')
            out += to_str(v);
        else if (spec == 'r')
            out += repr(v);
        else if ((spec == 'd' || spec == 'i') && v.is_number())
            out += std::to_string(v.is_float() ? static_cast<int64_t>(v.as_double()) : v.as_int());
        else if (spec == 'f' && v.is_number()) {
            char buf[64];
            std::snprintf(buf, sizeof(buf), "%f", v.as_double());
            out += buf;
        } else
            fail(std::string("unsupported format character '") + spec + "' for a '" + type_name(v) + "'");
    }
    // Python takes a lone argument that can be subscripted (a list, a dict; Jinja's undefined) as
    // a mapping for %(name)s, so leftover arguments are not an error then.
    const bool mapping_like = !(args.is_list() && args.as_list().is_tuple) && !args.is_string() &&
                              (args.is_list() || args.is_dict() || args.is_undefined());
    if (next < values.size() && !mapping_like) fail("not all arguments converted during string formatting");
    return Value::string(std::move(out));
}

}  // namespace

Value binary_op(std::string_view op, const Value& a, const Value& b) {
    if (a.is_undefined()) fail(a.undefined_reason());
    if (op == "%" && a.is_string() && b.is_undefined()) return percent_format(a.as_string(), b);  // str % Undefined
    if (b.is_undefined()) fail(b.undefined_reason());
    const bool nums = a.is_number() && b.is_number();
    const bool ints = nums && !a.is_float() && !b.is_float();
    if (op == "+") {
        if (ints) return Value::integer(checked_add(a.as_int(), b.as_int()));
        if (nums) return Value::number(a.as_double() + b.as_double());
        if (a.is_string() && b.is_string()) {
            if (a.as_string().size() + b.as_string().size() > kMaxStringBytes) fail("string too large");
            require_memory(a.as_string().size() + b.as_string().size());
            Taint taint = a.taint();
            taint.append(b.taint(), a.as_string().size());
            return Value::text(a.as_string() + b.as_string(), std::move(taint));
        }
        if (a.is_list() && b.is_list() && a.as_list().is_tuple == b.as_list().is_tuple) {
            require_memory((a.as_list().items.size() + b.as_list().items.size()) * sizeof(Value));
            std::vector<Value> items = a.as_list().items;
            items.insert(items.end(), b.as_list().items.begin(), b.as_list().items.end());
            return Value::list(std::move(items), a.as_list().is_tuple);
        }
    } else if (op == "-") {
        if (ints) return Value::integer(checked_sub(a.as_int(), b.as_int()));
        if (nums) return Value::number(a.as_double() - b.as_double());
    } else if (op == "*") {
        if (ints) return Value::integer(checked_mul(a.as_int(), b.as_int()));
        if (nums) return Value::number(a.as_double() * b.as_double());
        if ((a.is_string() || a.is_list()) && b.is_number() && !b.is_float()) return repeat(a, b.as_int());
        if ((b.is_string() || b.is_list()) && a.is_number() && !a.is_float()) return repeat(b, a.as_int());
    } else if (op == "/") {
        if (nums) {
            if (b.as_double() == 0.0) fail("division by zero");
            return Value::number(a.as_double() / b.as_double());
        }
    } else if (op == "//" || op == "%") {
        if (ints) {
            int64_t x = a.as_int(), y = b.as_int();
            if (y == 0) fail("integer division or modulo by zero");
            if (x == std::numeric_limits<int64_t>::min() && y == -1) fail("integer overflow");
            int64_t q = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) {
                --q;
                m += y;
            }
            return Value::integer(op == "//" ? q : m);
        }
        if (nums) {
            double x = a.as_double(), y = b.as_double();
            if (y == 0.0) fail("float division or modulo by zero");
            // CPython's float_divmod: the remainder takes the divisor's sign (a zero one too), and
            // the quotient is computed from it (1 // 0.1 is 9.0).
            double mod = std::fmod(x, y), div = (x - mod) / y;
            if (mod != 0.0) {
                if ((y < 0) != (mod < 0)) {
                    mod += y;
                    div -= 1.0;
                }
            } else {
                mod = std::copysign(0.0, y);
            }
            double floordiv = 0.0;
            if (div != 0.0) {
                floordiv = std::floor(div);
                if (div - floordiv > 0.5) floordiv += 1.0;
            } else {
                floordiv = std::copysign(0.0, x / y);
            }
            return Value::number(op == "//" ? floordiv : mod);
        }
        if (op == "%" && a.is_string()) return percent_format(a.as_string(), b);
    } else if (op == "**") {
        if (ints && b.as_int() >= 0) {
            int64_t base = a.as_int(), e = b.as_int(), acc = 1;
            while (e > 0) {
                if (e & 1) acc = checked_mul(acc, base);
                e >>= 1;
                if (e) base = checked_mul(base, base);
            }
            return Value::integer(acc);
        }
        if (nums) {
            if (a.as_double() == 0.0 && b.as_double() < 0) fail("0.0 cannot be raised to a negative power");
            return Value::number(std::pow(a.as_double(), b.as_double()));
        }
    }
    bad_operands(op, a, b);
}

bool contains(const Value& container, const Value& item) {
    switch (container.kind()) {
    case Value::Kind::Undefined: return false;
    case Value::Kind::String:
        if (!item.is_string()) fail("'in <string>' requires string as left operand, not " + type_name(item));
        return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::List:
        return std::any_of(container.as_list().items.begin(), container.as_list().items.end(),
                           [&](const Value& v) { return equals(v, item); });
    case Value::Kind::Dict: return container.as_dict().find(item) != nullptr;
    default: fail("argument of type '" + type_name(container) + "' is not iterable");
    }
}

// ---- Access -------------------------------------------------------------------------------

namespace {

std::string object_desc(const Value& obj) {
    if (obj.is_none()) return "'None'";
    return "'" + type_name(obj) + " object'";
}

// A method bound to obj: what it derives from a tainted obj is tainted, whoever calls it.
Value bound_method(const Value& obj, const std::string& name) {
    return Value::function(name, [obj, name](CallArgs& args) {
        TaintScope scope(TaintScope::active() || carries_taint(obj));
        return call_method(obj, name, args);
    });
}

}  // namespace

Value get_attr(const Value& obj, const std::string& name) {
    if (obj.is_undefined()) fail(obj.undefined_reason());
    if (obj.is_dict()) {
        const Dict& d = obj.as_dict();
        if (!d.is_namespace && has_method(obj, name)) return bound_method(obj, name);
        if (const Value* v = d.find(name)) return *v;
    } else if (has_method(obj, name)) {
        return bound_method(obj, name);
    } else if (obj.is_list() && obj.as_list().fields) {  // a named tuple
        const List& l = obj.as_list();
        for (size_t i = 0; i < l.items.size(); ++i)
            if (name == l.fields[i]) return l.items[i];
    }
    return Value::undefined(object_desc(obj) + " has no attribute '" + name + "'");
}

Value get_item(const Value& obj, const Value& key) {
    if (obj.is_undefined()) fail(obj.undefined_reason());
    if (obj.is_dict() && is_hashable(key)) {  // obj[key]; an unhashable key finds nothing
        if (const Value* v = obj.as_dict().find(key)) return *v;
    }
    if ((obj.is_list() || obj.is_string()) && key.is_number() && !key.is_float()) {
        int64_t i = key.as_int();
        if (obj.is_list()) {
            const auto& items = obj.as_list().items;
            int64_t n = static_cast<int64_t>(items.size());
            if (i < 0) i += n;
            if (i >= 0 && i < n) return items[static_cast<size_t>(i)];
        } else {
            std::u32string s = utf8_decode(obj.as_string());
            int64_t n = static_cast<int64_t>(s.size());
            if (i < 0) i += n;
            if (i >= 0 && i < n) return Value::string(utf8_encode(s.substr(static_cast<size_t>(i), 1)));
        }
        return Value::undefined(object_desc(obj) + " has no element " + std::to_string(key.as_int()));
    }
    if (key.is_string()) return get_attr(obj, key.as_string());
    return Value::undefined(object_desc(obj) + " has no element " + repr(key));
}

Value slice(const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v) {
    if (obj.is_undefined()) fail(obj.undefined_reason());
    // Jinja2 slices with Python's own subscription (not its forgiving getitem): errors raise.
    if (!obj.is_list() && !obj.is_string()) fail("'" + type_name(obj) + "' object is not subscriptable");
    auto index = [](const Value& v) -> std::optional<int64_t> {  // an omitted part is None
        if (v.is_none()) return std::nullopt;
        if (!v.is_number() || v.is_float()) fail("slice indices must be integers or None or have an __index__ method");
        return v.as_int();
    };
    std::optional<int64_t> start = index(start_v), stop = index(stop_v), step_o = index(step_v);
    int64_t step = step_o.value_or(1);
    if (step == 0) fail("slice step cannot be zero");
    std::u32string chars;
    if (obj.is_string()) chars = utf8_decode(obj.as_string());
    const int64_t n =
        obj.is_string() ? static_cast<int64_t>(chars.size()) : static_cast<int64_t>(obj.as_list().items.size());
    auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
        if (!v) return dflt;
        int64_t x = *v;
        if (x < 0) {
            x += n;
            if (x < 0) x = step < 0 ? -1 : 0;
        } else if (x >= n) {
            x = step < 0 ? n - 1 : n;
        }
        return x;
    };
    int64_t lo = clamp(start, step > 0 ? 0 : n - 1);
    int64_t hi = clamp(stop, step > 0 ? n : -1);
    std::vector<size_t> picks;
    for (int64_t i = lo; step > 0 ? i < hi : i > hi; i += step) picks.push_back(static_cast<size_t>(i));
    if (obj.is_string()) {
        std::u32string out;
        for (size_t i : picks) out.push_back(chars[i]);
        return Value::string(utf8_encode(out));
    }
    std::vector<Value> out;
    for (size_t i : picks) out.push_back(obj.as_list().items[i]);
    return Value::list(std::move(out), obj.as_list().is_tuple);
}

// ---- Methods ------------------------------------------------------------------------------

namespace {

const char* const kStringMethods[] = {
    "strip",      "lstrip",  "rstrip",     "upper",   "lower",   "title",   "capitalize",   "startswith",   "endswith",
    "split",      "rsplit",  "splitlines", "replace", "find",    "rfind",   "count",        "join",         "isspace",
    "isdigit",    "isalpha", "isalnum",    "isupper", "islower", "istitle", "removeprefix", "removesuffix", "partition",
    "rpartition", "center",  "ljust",      "rjust",   "zfill",   "format",  "isdecimal"};
const char* const kDictMethods[] = {"items", "keys", "values", "get"};
const char* const kListMethods[] = {"index", "count"};
const char* const kMutators[] = {"append",  "extend", "insert",     "pop",     "remove", "clear",  "sort",
                                 "reverse", "update", "setdefault", "popitem", "add",    "discard"};

template <size_t N>
bool in_table(const char* const (&table)[N], std::string_view name) {
    return std::any_of(std::begin(table), std::end(table), [&](const char* m) { return name == m; });
}

std::u32string strip_chars(std::u32string s, const Value& chars, bool left, bool right) {
    std::u32string set;
    const bool whitespace = chars.is_none() || chars.is_undefined();
    if (!whitespace) {
        if (!chars.is_string()) fail("strip arg must be None or str");
        set = utf8_decode(chars.as_string());
    }
    auto strip_it = [&](char32_t c) { return whitespace ? is_space(c) : set.find(c) != std::u32string::npos; };
    size_t b = 0, e = s.size();
    if (left)
        while (b < e && strip_it(s[b])) ++b;
    if (right)
        while (e > b && strip_it(s[e - 1])) --e;
    return s.substr(b, e - b);
}

std::vector<Value> split_string(const std::u32string& s, const Value& sep_v, int64_t maxsplit, bool from_right) {
    std::vector<std::u32string> parts;
    if (sep_v.is_none() || sep_v.is_undefined()) {
        // runs of whitespace, ignoring leading and trailing whitespace
        std::u32string t = s;
        if (from_right) std::reverse(t.begin(), t.end());
        size_t i = 0;
        while (i < t.size()) {
            while (i < t.size() && is_space(t[i])) ++i;
            if (i >= t.size()) break;
            if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
                parts.push_back(t.substr(i));  // the rest keeps its far-end whitespace, as in Python
                break;
            }
            size_t j = i;
            while (j < t.size() && !is_space(t[j])) ++j;
            parts.push_back(t.substr(i, j - i));
            i = j;
        }
        if (from_right) {
            for (auto& p : parts) std::reverse(p.begin(), p.end());
            std::reverse(parts.begin(), parts.end());
        }
    } else {
        if (!sep_v.is_string()) fail("split: the separator must be a string or None");
        std::u32string sep = utf8_decode(sep_v.as_string());
        if (sep.empty()) fail("empty separator");
        if (!from_right) {
            size_t start = 0;
            for (;;) {
                size_t f = maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit ? std::u32string::npos
                                                                                           : s.find(sep, start);
                if (f == std::u32string::npos) {
                    parts.push_back(s.substr(start));
                    break;
                }
                parts.push_back(s.substr(start, f - start));
                start = f + sep.size();
            }
        } else {
            size_t end = s.size();
            for (;;) {
                size_t f = (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) || end < sep.size()
                               ? std::u32string::npos
                               : s.rfind(sep, end - sep.size());
                if (f == std::u32string::npos) {
                    parts.push_back(s.substr(0, end));
                    break;
                }
                parts.push_back(s.substr(f + sep.size(), end - f - sep.size()));
                end = f;
            }
            std::reverse(parts.begin(), parts.end());
        }
    }
    std::vector<Value> out;
    for (auto& p : parts) out.push_back(Value::string(utf8_encode(p)));
    return out;
}

// str.format(): {}, {0}, {name}, {{, }}, with !s / !r; format specs are refused.
Value format_method(const std::string& format, const CallArgs& args) {
    std::string out;
    size_t auto_index = 0;
    for (size_t i = 0; i < format.size(); ++i) {
        const char c = format[i];
        if (c == '}') {
            if (i + 1 < format.size() && format[i + 1] == '}') {
                out.push_back('}');
                ++i;
                continue;
            }
            fail("Single '}' encountered in format string");
        }
        if (c != '{') {
            out.push_back(c);
            continue;
        }
        if (i + 1 < format.size() && format[i + 1] == '{') {
            out.push_back('{');
            ++i;
            continue;
        }
        const size_t close = format.find('}', i);
        if (close == std::string::npos) fail("Single '{' encountered in format string");
        std::string field = format.substr(i + 1, close - i - 1);
        i = close;
        char conversion = 0;
        if (const size_t bang = field.find('!'); bang != std::string::npos) {
            if (bang + 2 != field.size() || (field[bang + 1] != 'r' && field[bang + 1] != 's'))
                fail("str.format(): unsupported conversion in '{" + field + "}'");
            conversion = field[bang + 1];
            field.resize(bang);
        }
        if (field.find_first_of(":.[") != std::string::npos)
            fail("str.format(): format specs, attributes and indexes are not supported ('{" + field + "}')");
        const Value* v = nullptr;
        if (field.empty() || std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
            const size_t index = field.empty() ? auto_index++ : std::stoul(field);
            if (index >= args.positional.size())
                fail("Replacement index " + std::to_string(index) + " out of range for positional args tuple");
            v = &args.positional[index];
        } else {
            for (const auto& [k, value] : args.named)
                if (k == field) v = &value;
            if (!v) fail("'" + field + "'");  // Python's KeyError
        }
        out += conversion == 'r' ? repr(*v) : to_str(*v);
        require_memory(out.size());
    }
    return Value::string(std::move(out));
}

// Python's str methods that pad, cut or split in three.
Value shape_method(const std::u32string& s, const std::string& name, const ArgReader& a) {
    auto str_value = [](const std::u32string& u) { return Value::string(utf8_encode(u)); };
    if (name == "removeprefix" || name == "removesuffix" || name == "partition" || name == "rpartition") {
        a.check(1, "");
        const Value arg = a.required(0, "sep");
        if (!arg.is_string()) fail(name + "() argument must be str, not " + type_name(arg));
        const std::u32string x = utf8_decode(arg.as_string());
        if (name == "removeprefix")
            return str_value(s.compare(0, x.size(), x) == 0 && x.size() <= s.size() ? s.substr(x.size()) : s);
        if (name == "removesuffix")
            return str_value(x.size() <= s.size() && s.compare(s.size() - x.size(), x.size(), x) == 0 && !x.empty()
                                 ? s.substr(0, s.size() - x.size())
                                 : s);
        if (x.empty()) fail("empty separator");
        const size_t at = name == "partition" ? s.find(x) : s.rfind(x);
        if (at == std::u32string::npos)
            return name == "partition" ? Value::list({str_value(s), str_value(U""), str_value(U"")}, true)
                                       : Value::list({str_value(U""), str_value(U""), str_value(s)}, true);
        return Value::list({str_value(s.substr(0, at)), str_value(x), str_value(s.substr(at + x.size()))}, true);
    }
    // center, ljust, rjust, zfill
    a.check(name == "zfill" ? 1 : 2, "");
    const Value width_v = a.required(0, "width");
    if (!width_v.is_number() || width_v.is_float()) fail(name + "() width must be an integer");
    const int64_t width = width_v.as_int();
    const auto n = static_cast<int64_t>(s.size());
    if (width <= n) return str_value(s);
    if (width > static_cast<int64_t>(kMaxStringBytes)) fail("string too large");
    require_memory(static_cast<size_t>(width) * sizeof(char32_t));
    char32_t fill = name == "zfill" ? U'0' : U' ';
    if (name != "zfill" && a.has(1, "fillchar")) {
        const Value f = a.get(1, "fillchar");
        const std::u32string fs = f.is_string() ? utf8_decode(f.as_string()) : std::u32string();
        if (fs.size() != 1) fail("The fill character must be exactly one character long");
        fill = fs[0];
    }
    const auto pad = static_cast<size_t>(width - n);
    if (name == "ljust") return str_value(s + std::u32string(pad, fill));
    if (name == "rjust") return str_value(std::u32string(pad, fill) + s);
    if (name == "zfill") {  // after a leading sign
        const bool sign = !s.empty() && (s[0] == '+' || s[0] == '-');
        return str_value(s.substr(0, sign ? 1 : 0) + std::u32string(pad, fill) + s.substr(sign ? 1 : 0));
    }
    const size_t left = pad / 2 + (pad & static_cast<size_t>(width) & 1);  // CPython's pad()
    return str_value(std::u32string(left, fill) + s + std::u32string(pad - left, fill));
}

Value string_method(const std::string& str, const std::string& name, const CallArgs& args) {
    ArgReader a(args, "str." + name + "()");
    std::u32string s = utf8_decode(str);
    auto str_value = [](const std::u32string& u) { return Value::string(utf8_encode(u)); };
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        a.check(1, "chars");
        return str_value(strip_chars(s, a.get(0, "chars", Value::none()), name != "rstrip", name != "lstrip"));
    }
    if (name == "upper" || name == "lower" || name == "title" || name == "capitalize") {
        a.check(0, "");
        require_memory(s.size() * 3 * sizeof(char32_t));  // a character maps to at most three
        if (name == "upper") return str_value(unicode::upper(s));
        if (name == "lower") return str_value(unicode::lower(s));
        if (name == "title") return str_value(unicode::title(s));
        return str_value(unicode::capitalize(s));
    }
    if (name == "startswith" || name == "endswith") {
        a.check(1, "");
        Value p = a.required(0, "prefix");
        std::vector<Value> options = p.is_list() ? p.as_list().items : std::vector<Value>{p};
        for (const Value& o : options) {
            if (!o.is_string()) fail(name + " first arg must be str or a tuple of str, not " + type_name(o));
            const std::string& x = o.as_string();
            if (x.size() > str.size()) continue;
            if (name == "startswith" ? str.compare(0, x.size(), x) == 0
                                     : str.compare(str.size() - x.size(), x.size(), x) == 0)
                return Value::boolean(true);
        }
        return Value::boolean(false);
    }
    if (name == "split" || name == "rsplit") {
        a.check(2, "sep,maxsplit");
        Value max = a.get(1, "maxsplit", Value::integer(-1));
        if (!max.is_number() || max.is_float()) fail(name + ": maxsplit must be an integer");
        return Value::list(split_string(s, a.get(0, "sep", Value::none()), max.as_int(), name == "rsplit"));
    }
    if (name == "splitlines") {
        a.check(0, "");
        std::vector<Value> lines;
        size_t start = 0;
        for (size_t i = 0; i < s.size(); ++i) {
            char32_t c = s[i];
            bool br = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) || c == 0x85 ||
                      c == 0x2028 || c == 0x2029;
            if (!br) continue;
            lines.push_back(str_value(s.substr(start, i - start)));
            if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
            start = i + 1;
        }
        if (start < s.size()) lines.push_back(str_value(s.substr(start)));
        return Value::list(std::move(lines));
    }
    if (name == "replace") {
        a.check(3, "");
        Value old_v = a.required(0, "old"), new_v = a.required(1, "new"),
              count_v = a.get(2, "count", Value::integer(-1));
        if (!old_v.is_string() || !new_v.is_string()) fail("replace() arguments must be strings");
        if (!count_v.is_number() || count_v.is_float()) fail("replace() count must be an integer");
        std::u32string from = utf8_decode(old_v.as_string()), to = utf8_decode(new_v.as_string()), out;
        int64_t left = count_v.as_int();
        size_t i = 0;
        if (from.empty()) {
            for (; i <= s.size(); ++i) {
                if (left-- != 0) out += to;
                if (i < s.size()) out.push_back(s[i]);
            }
            return str_value(out);
        }
        while (i < s.size()) {
            size_t f = left == 0 ? std::u32string::npos : s.find(from, i);
            if (f == std::u32string::npos) break;
            out += s.substr(i, f - i) + to;
            i = f + from.size();
            --left;
            if (out.size() > kMaxStringBytes) fail("string too large");
            require_memory(out.size() * sizeof(char32_t));
        }
        out += s.substr(std::min(i, s.size()));
        return str_value(out);
    }
    if (name == "find" || name == "rfind" || name == "count") {
        a.check(1, "");
        Value sub_v = a.required(0, "sub");
        if (!sub_v.is_string()) fail(name + "() argument must be str, not " + type_name(sub_v));
        std::u32string sub = utf8_decode(sub_v.as_string());
        if (name == "count") {
            if (sub.empty()) return Value::integer(static_cast<int64_t>(s.size()) + 1);
            int64_t n = 0;
            for (size_t f = s.find(sub); f != std::u32string::npos; f = s.find(sub, f + sub.size())) ++n;
            return Value::integer(n);
        }
        size_t f = name == "find" ? s.find(sub) : s.rfind(sub);
        return Value::integer(f == std::u32string::npos ? -1 : static_cast<int64_t>(f));
    }
    if (name == "join") {
        a.check(1, "");
        std::string out;
        size_t i = 0;
        for (const Value& v : iterate(a.required(0, "iterable"))) {
            if (!v.is_string())
                fail("sequence item " + std::to_string(i) + ": expected str instance, " + type_name(v) + " found");
            if (i++) out += str;
            out += v.as_string();
        }
        return Value::string(std::move(out));
    }
    if (name == "format") return format_method(str, args);
    if (name == "removeprefix" || name == "removesuffix" || name == "partition" || name == "rpartition" ||
        name == "center" || name == "ljust" || name == "rjust" || name == "zfill")
        return shape_method(s, name, a);
    a.check(0, "");
    if (s.empty()) return Value::boolean(false);
    if (name == "istitle") {  // Python: cased runs start upper (or title) case, continue lower case
        bool cased = false, previous_is_cased = false;
        for (char32_t c : s) {
            if (unicode::is_uppercase(c) || unicode::is_titlecase(c)) {
                if (previous_is_cased) return Value::boolean(false);
                previous_is_cased = cased = true;
            } else if (unicode::is_lowercase(c)) {
                if (!previous_is_cased) return Value::boolean(false);
                previous_is_cased = cased = true;
            } else {
                previous_is_cased = false;
            }
        }
        return Value::boolean(cased);
    }
    if (name == "isupper" || name == "islower") {  // Python: no character of the other case, one of this
        const bool want_upper = name == "isupper";
        bool cased = false;
        for (char32_t c : s) {
            if (unicode::is_titlecase(c) || (want_upper ? unicode::is_lowercase(c) : unicode::is_uppercase(c)))
                return Value::boolean(false);
            if (want_upper ? unicode::is_uppercase(c) : unicode::is_lowercase(c)) cased = true;
        }
        return Value::boolean(cased);
    }
    bool (*test)(char32_t) = name == "isspace"     ? is_space
                             : name == "isdigit"   ? unicode::is_digit
                             : name == "isdecimal" ? unicode::is_decimal
                             : name == "isalpha"   ? unicode::is_alpha
                                                   : unicode::is_alnum;
    return Value::boolean(std::all_of(s.begin(), s.end(), test));
}

}  // namespace

Value substring_of(const Value& whole, Value part) {
    if (!part.is_string() || !whole.is_string() || whole.taint().empty()) return part;
    // strip's result starts at the first character not stripped, which is also where the
    // result first occurs in the whole (an earlier occurrence would start with a stripped one).
    const std::string& text = part.as_string();
    const size_t at = text.empty() ? 0 : whole.as_string().find(text);
    if (at == std::string::npos) return part;  // cannot happen; keep the conservative taint
    return Value::text(text, whole.taint().slice(at, text.size()));
}

bool has_method(const Value& obj, std::string_view name) {
    if (in_table(kMutators, name) && (obj.is_list() || (obj.is_dict() && !obj.as_dict().is_namespace))) return true;
    if (obj.is_string()) return in_table(kStringMethods, name);
    if (obj.is_dict()) return !obj.as_dict().is_namespace && in_table(kDictMethods, name);
    if (obj.is_list()) return in_table(kListMethods, name);
    return false;
}

Value call_method(const Value& obj, const std::string& name, const CallArgs& args) {
    if (in_table(kMutators, name) && !obj.is_string())
        fail("access to attribute '" + name + "' of '" + type_name(obj) +
             "' object is unsafe (chat templates cannot modify their inputs)");
    if (obj.is_string()) {
        Value result = string_method(obj.as_string(), name, args);
        if (name == "strip" || name == "lstrip" || name == "rstrip") return substring_of(obj, std::move(result));
        return result;
    }
    ArgReader a(args, type_name(obj) + "." + name + "()");
    if (obj.is_dict()) {
        const Dict& d = obj.as_dict();
        if (name == "get") {
            a.check(2, "");
            Value key = a.required(0, "key");
            const Value* v = d.find(key);
            return v ? *v : a.get(1, "default", Value::none());
        }
        a.check(0, "");
        std::vector<Value> out;
        for (const auto& [k, v] : d.items) {
            if (name == "items")
                out.push_back(Value::list({dict_key(k), v}, true));
            else if (name == "keys")
                out.push_back(dict_key(k));
            else
                out.push_back(v);
        }
        return Value::list(std::move(out));
    }
    if (obj.is_list()) {
        a.check(1, "");
        Value x = a.required(0, "value");
        const auto& items = obj.as_list().items;
        int64_t n = 0;
        for (size_t i = 0; i < items.size(); ++i) {
            if (!equals(items[i], x)) continue;
            if (name == "index") return Value::integer(static_cast<int64_t>(i));
            ++n;
        }
        if (name == "index") fail(repr(x) + " is not in list");
        return Value::integer(n);
    }
    fail("'" + type_name(obj) + "' object has no method '" + name + "'");
}

}  // namespace fm::jinja
