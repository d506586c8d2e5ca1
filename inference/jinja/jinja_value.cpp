#include "inference/jinja/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace fm::jinja {

void fail(std::string message) {
    throw TemplateError{std::move(message)};
}

// ---- Taint ------------------------------------------------------------------------------

namespace {
thread_local bool g_taint_scope = false;
}

Taint Taint::all(size_t size) {
    Taint t;
    if (size > 0) t.ranges_.push_back({0, size});
    return t;
}

Taint Taint::slice(size_t pos, size_t len) const {
    Taint out;
    const size_t end = pos + len;
    for (const Range& r : ranges_) {
        const size_t b = std::max(r.begin, pos), e = std::min(r.end, end);
        if (b < e) out.ranges_.push_back({b - pos, e - pos});
    }
    return out;
}

void Taint::add(size_t begin, size_t end) {
    if (begin >= end) return;
    if (!ranges_.empty() && ranges_.back().end >= begin) {
        ranges_.back().end = std::max(ranges_.back().end, end);
        return;
    }
    ranges_.push_back({begin, end});
}

void Taint::append(const Taint& other, size_t offset) {
    for (const Range& r : other.ranges_) add(r.begin + offset, r.end + offset);
}

TaintScope::TaintScope(bool tainted) : saved_(g_taint_scope) {
    g_taint_scope = tainted;
}
TaintScope::~TaintScope() {
    g_taint_scope = saved_;
}
bool TaintScope::active() {
    return g_taint_scope;
}

// ---- Nesting ----------------------------------------------------------------------------

namespace {
thread_local int g_nesting = 0;
}

// Printing and comparing walk values recursively; a template can nest lists thousands deep
// in a loop, or put a namespace inside itself, so the walk is bounded.
NestingGuard::NestingGuard() {
    if (++g_nesting > kMaxNesting) {
        --g_nesting;
        fail("a value is nested too deeply (or contains itself)");
    }
    if (MemoryBudget* budget = MemoryBudget::active()) {
        try {
            budget->walk();
        } catch (...) {
            --g_nesting;
            throw;
        }
    }
}
NestingGuard::~NestingGuard() {
    --g_nesting;
}

int nesting_of(const Value& v) {
    if (v.is_list()) return v.as_list().depth;
    if (v.is_dict()) return v.as_dict().is_namespace ? NestingGuard::kMaxNesting / 2 : v.as_dict().depth;
    return 0;
}

bool holds_dict(const Value& v, const Dict* d) {
    if (!v.is_dict() && !v.is_list()) return false;
    NestingGuard guard;  // counts the walk
    if (v.is_dict()) {
        if (&v.as_dict() == d) return true;
        for (const auto& kv : v.as_dict().items)
            if (holds_dict(kv.second, d)) return true;
    } else if (v.is_list()) {
        for (const Value& item : v.as_list().items)
            if (holds_dict(item, d)) return true;
    }
    return false;
}

// ---- Memory budget ----------------------------------------------------------------------

namespace {
thread_local MemoryBudget* g_budget = nullptr;

[[noreturn]] void over_budget(const MemoryBudget& b) {
    fail("the template needs more than its memory budget of " + std::to_string(b.limit() >> 20) + " MiB (" +
         std::to_string(b.limit()) + " bytes)");
}
}  // namespace

void MemoryBudget::charge(size_t bytes) {
    if (bytes > limit_ || used_ > limit_ - bytes) over_budget(*this);
    work_ += bytes;
    if (work_ / kWorkFactor > limit_)
        fail("the template takes too long to render: it copies more than " +
             std::to_string((limit_ >> 20) * kWorkFactor) + " MiB of text in all");
    used_ += bytes;
    peak_ = std::max(peak_, used_);
}

void MemoryBudget::require(size_t bytes) const {
    if (bytes > limit_ || used_ > limit_ - bytes) over_budget(*this);
}

void MemoryBudget::walk() {
    if (++walked_ > kMaxWalk)
        fail("the template walks values too large to compare, print or search (more than " + std::to_string(kMaxWalk) +
             " steps; a value holding the same list many times over?)");
}

MemoryBudget* MemoryBudget::active() {
    return g_budget;
}

BudgetScope::BudgetScope(MemoryBudget* budget) : saved_(g_budget) {
    g_budget = budget;
}
BudgetScope::~BudgetScope() {
    g_budget = saved_;
}

void require_memory(size_t bytes) {
    if (g_budget) g_budget->require(bytes);
}

// ---- Dict -------------------------------------------------------------------------------

const Value* Dict::find(std::string_view key) const {
    for (const auto& [k, v] : items)
        if (k.is_string() && k.as_string() == key) return &v;
    return nullptr;
}

Value* Dict::find(std::string_view key) {
    for (auto& [k, v] : items)
        if (k.is_string() && k.as_string() == key) return &v;
    return nullptr;
}

const Value* Dict::find(const Value& key) const {
    if (key.is_string()) return find(std::string_view(key.as_string()));
    require_hashable(key);
    for (const auto& [k, v] : items)
        if (!k.is_string() && equals(k, key)) return &v;
    return nullptr;
}

bool is_hashable(const Value& v) {
    if (v.is_dict()) return false;
    if (!v.is_list()) return true;
    const List& l = v.as_list();
    if (!l.is_tuple) return false;
    NestingGuard guard;
    return std::all_of(l.items.begin(), l.items.end(), [](const Value& item) { return is_hashable(item); });
}

void require_hashable(const Value& v) {
    if (is_hashable(v)) return;
    if (v.is_list() && v.as_list().is_tuple) fail("unhashable type: 'list'");  // a tuple holding a list
    fail("unhashable type: '" + type_name(v) + "'");
}

void Dict::admit(const Value& value) {
    // A namespace can still change after it was put in a list, so it counts as deep as it may
    // ever become; and it may become only half as deep as anything else.
    const int needed = nesting_of(value) + 1;
    if (needed > (is_namespace ? NestingGuard::kMaxNesting / 2 : NestingGuard::kMaxNesting))
        fail("a value is nested too deeply");
    depth = std::max(depth, needed);
}

void Dict::set(std::string key, Value value) {
    admit(value);
    if (Value* existing = find(std::string_view(key))) {
        *existing = std::move(value);
        return;
    }
    items.emplace_back(Value::text(std::move(key), {}), std::move(value));
}

void Dict::add_new(std::string key, Value value) {
    admit(value);
    items.emplace_back(Value::text(std::move(key), {}), std::move(value));
}

void Dict::set(Value key, Value value) {
    admit(value);
    if (const Value* existing = find(static_cast<const Value&>(key))) {
        *const_cast<Value*>(existing) = std::move(value);
        return;
    }
    items.emplace_back(std::move(key), std::move(value));
}

// ---- Value ------------------------------------------------------------------------------

Value::Value() : v_(UndefinedTag{}) {}
Value Value::undefined(std::string why) {
    return Value(Storage(UndefinedTag{std::move(why)}));
}
Value Value::none() {
    return Value(Storage(NoneTag{}));
}
Value Value::boolean(bool b) {
    return Value(Storage(b));
}
Value Value::integer(int64_t i) {
    return Value(Storage(i));
}
Value Value::number(double d) {
    return Value(Storage(d));
}
// A string value holds its bytes and the value around them (a string of N characters
// iterated is N values).
Value Value::string(std::string s) {
    Taint taint = g_taint_scope ? Taint::all(s.size()) : Taint{};
    Charge charge(sizeof(Value) + s.size());
    return Value(Storage(Str{std::move(charge), std::move(s), std::move(taint)}));
}
Value Value::text(std::string s, Taint taint) {
    Charge charge(sizeof(Value) + s.size());
    return Value(Storage(Str{std::move(charge), std::move(s), std::move(taint)}));
}
Value Value::list(std::vector<Value> items, bool tuple) {
    auto l = std::make_shared<List>();
    l->charge = Charge(items.size() * sizeof(Value));
    for (const Value& item : items) l->depth = std::max(l->depth, nesting_of(item) + 1);
    if (l->depth > NestingGuard::kMaxNesting) fail("a value is nested too deeply");
    l->items = std::move(items);
    l->is_tuple = tuple;
    return Value(Storage(std::move(l)));
}
Value Value::dict(std::shared_ptr<Dict> d) {
    return Value(Storage(std::move(d)));
}
Value Value::empty_dict() {
    return dict(std::make_shared<Dict>());
}
Value Value::function(std::string name, std::function<Value(CallArgs&)> fn) {
    return Value(Storage(std::make_shared<const Function>(Function{std::move(name), std::move(fn), g_taint_scope})));
}

const std::string& Value::undefined_reason() const {
    static const std::string generic = "undefined value";
    const auto* u = std::get_if<UndefinedTag>(&v_);
    return (u && !u->why.empty()) ? u->why : generic;
}
bool Value::as_bool() const {
    return std::get<bool>(v_);
}
int64_t Value::as_int() const {
    if (is_bool()) return as_bool() ? 1 : 0;
    return std::get<int64_t>(v_);
}
double Value::as_double() const {
    if (is_float()) return std::get<double>(v_);
    return static_cast<double>(as_int());
}
const std::string& Value::as_string() const {
    return std::get<Str>(v_).text;
}
const Taint& Value::taint() const {
    return std::get<Str>(v_).taint;
}
List& Value::as_list() const {
    return *std::get<std::shared_ptr<List>>(v_);
}
Dict& Value::as_dict() const {
    return *std::get<std::shared_ptr<Dict>>(v_);
}
const std::shared_ptr<Dict>& Value::dict_ptr() const {
    return std::get<std::shared_ptr<Dict>>(v_);
}
const Function& Value::as_function() const {
    return *std::get<std::shared_ptr<const Function>>(v_);
}

// ---- UTF-8 and characters ---------------------------------------------------------------

std::u32string utf8_decode(std::string_view s) {
    require_memory(s.size() * sizeof(char32_t));
    std::u32string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        auto b = static_cast<unsigned char>(s[i]);
        int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
        char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
        bool ok = len > 0 && i + static_cast<size_t>(len) <= s.size();
        for (int k = 1; ok && k < len; ++k) {
            auto c = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
            if ((c & 0xC0) != 0x80) ok = false;
            cp = (cp << 6) | (c & 0x3F);
        }
        if (ok) {  // overlong forms, surrogates and values past U+10FFFF are invalid
            static constexpr char32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
            if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) ok = false;
        }
        if (!ok) {
            out.push_back(0xDC00 + b);
            ++i;
            continue;
        }
        out.push_back(cp);
        i += static_cast<size_t>(len);
    }
    return out;
}

std::string utf8_encode(std::u32string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char32_t c : s) {
        if (c >= 0xDC80 && c <= 0xDCFF) {
            out.push_back(static_cast<char>(c - 0xDC00));
        } else if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else if (c < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        } else if (c < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (c >> 12)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (c >> 18)));
            out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
    }
    return out;
}

bool is_space(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// ---- Printing ---------------------------------------------------------------------------

std::string type_name(const Value& v) {
    switch (v.kind()) {
    case Value::Kind::Undefined: return "Undefined";
    case Value::Kind::None: return "NoneType";
    case Value::Kind::Bool: return "bool";
    case Value::Kind::Int: return "int";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "str";
    case Value::Kind::List: return v.as_list().is_tuple ? "tuple" : "list";
    case Value::Kind::Dict: return v.as_dict().is_namespace ? "Namespace" : "dict";
    case Value::Kind::Function: return "function";
    }
    return "?";
}

bool truthy(const Value& v) {
    switch (v.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return false;
    case Value::Kind::Bool: return v.as_bool();
    case Value::Kind::Int: return v.as_int() != 0;
    case Value::Kind::Float: return v.as_double() != 0.0;
    case Value::Kind::String: return !v.as_string().empty();
    case Value::Kind::List: return !v.as_list().items.empty();
    case Value::Kind::Dict: return v.as_dict().is_namespace || !v.as_dict().items.empty();
    case Value::Kind::Function: return true;
    }
    return false;
}

std::string format_float(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    std::string sign;
    if (!sci.empty() && sci[0] == '-') {
        sign = "-";
        sci.erase(0, 1);
    }
    size_t e_pos = sci.find('e');
    std::string mantissa = sci.substr(0, e_pos);
    int exponent = std::stoi(sci.substr(e_pos + 1));
    std::string digits;
    for (char c : mantissa)
        if (c != '.') digits.push_back(c);
    int decpt = exponent + 1;
    auto ndigits = static_cast<int>(digits.size());
    std::string out;
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            out = "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
        } else if (decpt >= ndigits) {
            out = digits + std::string(static_cast<size_t>(decpt - ndigits), '0') + ".0";
        } else {
            out = digits.substr(0, static_cast<size_t>(decpt)) + "." + digits.substr(static_cast<size_t>(decpt));
        }
    } else {
        out = digits.substr(0, 1);
        if (ndigits > 1) out += "." + digits.substr(1);
        char exp_buf[16];
        std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+',
                      exponent < 0 ? -exponent : exponent);
        out += exp_buf;
    }
    return sign + out;
}

namespace {

bool repr_printable(char32_t c) {
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) return false;
    if (c != ' ' && is_space(c)) return false;
    if ((c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF ||
        c == 0xAD)
        return false;
    if ((c >= 0xD800 && c <= 0xDFFF) || (c >= 0xE000 && c <= 0xF8FF)) return false;
    return true;
}

std::string repr_string(const std::string& s) {
    char quote = '\'';
    if (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) quote = '"';
    std::u32string out;
    out.push_back(static_cast<char32_t>(quote));
    for (char32_t c : utf8_decode(s)) {
        if (c == static_cast<char32_t>(quote) || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\t') {
            out += U"\\t";
        } else if (c == '\n') {
            out += U"\\n";
        } else if (c == '\r') {
            out += U"\\r";
        } else if (!repr_printable(c)) {
            char buf[16];
            if (c < 0x100)
                std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
            else if (c < 0x10000)
                std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
            else
                std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(c));
            for (const char* p = buf; *p; ++p) out.push_back(static_cast<char32_t>(*p));
        } else {
            out.push_back(c);
        }
    }
    out.push_back(static_cast<char32_t>(quote));
    return utf8_encode(out);
}

}  // namespace

std::string repr(const Value& v) {
    NestingGuard guard;
    switch (v.kind()) {
    case Value::Kind::Undefined: return "Undefined";
    case Value::Kind::None: return "None";
    case Value::Kind::Bool: return v.as_bool() ? "True" : "False";
    case Value::Kind::Int: return std::to_string(v.as_int());
    case Value::Kind::Float: return format_float(v.as_double());
    case Value::Kind::String: return repr_string(v.as_string());
    case Value::Kind::List: {
        const List& l = v.as_list();
        std::string out = l.is_tuple ? "(" : "[";
        for (size_t i = 0; i < l.items.size(); ++i) {
            if (i) out += ", ";
            out += repr(l.items[i]);
            require_memory(out.size());
        }
        if (l.is_tuple && l.items.size() == 1) out += ",";
        return out + (l.is_tuple ? ")" : "]");
    }
    case Value::Kind::Dict: {
        const Dict& d = v.as_dict();
        std::string out = d.is_namespace ? "<Namespace {" : "{";
        for (size_t i = 0; i < d.items.size(); ++i) {
            if (i) out += ", ";
            out += repr(d.items[i].first) + ": " + repr(d.items[i].second);
            require_memory(out.size());
        }
        return out + (d.is_namespace ? "}>" : "}");
    }
    case Value::Kind::Function: return "<function " + v.as_function().name + ">";
    }
    return "";
}

namespace {
bool carries_taint_at(const Value& v, int depth) {
    constexpr int kMaxSearchDepth = 32;
    if (v.is_list() || v.is_dict())
        if (MemoryBudget* budget = MemoryBudget::active()) budget->walk();
    switch (v.kind()) {
    case Value::Kind::String: return !v.taint().empty();
    case Value::Kind::Function: return v.as_function().tainted;
    case Value::Kind::List:
        if (depth >= kMaxSearchDepth) return true;
        for (const Value& item : v.as_list().items)
            if (carries_taint_at(item, depth + 1)) return true;
        return false;
    case Value::Kind::Dict:
        if (depth >= kMaxSearchDepth || v.as_dict().tainted_keys) return true;
        for (const auto& kv : v.as_dict().items)
            if (carries_taint_at(kv.second, depth + 1)) return true;
        return false;
    default: return false;
    }
}
}  // namespace

bool carries_taint(const Value& v) {
    return carries_taint_at(v, 0);
}

std::string to_str(const Value& v) {
    switch (v.kind()) {
    case Value::Kind::Undefined: return "";
    case Value::Kind::String: return v.as_string();
    default: return repr(v);
    }
}

// ---- Comparison and iteration -----------------------------------------------------------

bool equals(const Value& a, const Value& b) {
    // One list or dict is equal to itself (Python compares items by identity first).
    if (a.is_list() && b.is_list() && &a.as_list() == &b.as_list()) return true;
    if (a.is_dict() && b.is_dict() && &a.as_dict() == &b.as_dict()) return true;
    NestingGuard guard;
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
        return a.as_int() == b.as_int();
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return true;
    case Value::Kind::String: return a.as_string() == b.as_string();
    case Value::Kind::List: {
        const List& x = a.as_list();
        const List& y = b.as_list();
        if (x.is_tuple != y.is_tuple || x.items.size() != y.items.size()) return false;
        for (size_t i = 0; i < x.items.size(); ++i)
            if (!equals(x.items[i], y.items[i])) return false;
        return true;
    }
    case Value::Kind::Dict: {
        const Dict& x = a.as_dict();
        const Dict& y = b.as_dict();
        if (x.is_namespace || y.is_namespace) return &x == &y;
        if (x.items.size() != y.items.size()) return false;
        for (const auto& [k, v] : x.items) {
            const Value* other = y.find(k);
            if (!other || !equals(v, *other)) return false;
        }
        return true;
    }
    case Value::Kind::Function: return &a.as_function() == &b.as_function();
    default: return false;
    }
}

int compare(const Value& a, const Value& b) {
    NestingGuard guard;
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) {
            double x = a.as_double(), y = b.as_double();
            return x < y ? -1 : x > y ? 1 : 0;
        }
        int64_t x = a.as_int(), y = b.as_int();
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_string() && b.is_string()) {
        int c = a.as_string().compare(b.as_string());
        return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    if (a.is_list() && b.is_list() && a.as_list().is_tuple == b.as_list().is_tuple) {
        const auto& x = a.as_list().items;
        const auto& y = b.as_list().items;
        for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (equals(x[i], y[i])) continue;
            return compare(x[i], y[i]);
        }
        return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
    }
    if (a.is_undefined()) fail(a.undefined_reason());
    if (b.is_undefined()) fail(b.undefined_reason());
    fail("cannot order '" + type_name(a) + "' and '" + type_name(b) + "'");
}

Value dict_key(const Value& key) {
    // Inside a taint scope, what is made from a key is the message's (the dict said so).
    if (key.is_string() && TaintScope::active() && key.taint().empty()) return Value::string(key.as_string());
    return key;
}

std::vector<Value> iterate(const Value& v) {
    switch (v.kind()) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::List: return v.as_list().items;
    case Value::Kind::Dict: {
        std::vector<Value> keys;
        for (const auto& kv : v.as_dict().items) keys.push_back(dict_key(kv.first));
        return keys;
    }
    case Value::Kind::String: {
        std::vector<Value> chars;
        for (char32_t c : utf8_decode(v.as_string()))
            chars.push_back(Value::string(utf8_encode(std::u32string_view(&c, 1))));
        return chars;
    }
    default: fail("'" + type_name(v) + "' object is not iterable");
    }
}

}  // namespace fm::jinja
