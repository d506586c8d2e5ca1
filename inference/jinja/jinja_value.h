#pragma once
// Values of the chat-template engine (a Jinja subset, see chat_template.h): Python-like
// undefined/None/bool/int/float/str/list/dict/callable, with Python's printing (str, repr,
// json.dumps as Hugging Face's `tojson` does it), truthiness, equality and ordering.
// Internal to the inference library.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace fm::jinja {

// Thrown inside the engine only; ChatTemplate catches it and returns an fm::Error.
struct TemplateError {
    std::string message;
    int line = 0;  // 1-based; 0 until the innermost node that knows its position fills it
    int column = 0;
    bool user_raised = false;  // raise_exception('...'): the message is the template's own
};
[[noreturn]] void fail(std::string message);

class Value;
struct Dict;
struct CallArgs;

// Which bytes of a string came from untrusted input (a chat message) rather than from the
// template or the trusted context: sorted, disjoint, non-empty [begin, end) byte ranges. A
// prompt's special-token strings count only where the template wrote them, so provenance is
// carried through rendering (see docs/prompt-safety.md).
class Taint {
public:
    struct Range {
        size_t begin = 0, end = 0;
        bool operator==(const Range&) const = default;
    };
    static Taint all(size_t size);
    bool empty() const { return ranges_.empty(); }
    const std::vector<Range>& ranges() const { return ranges_; }
    // The taint of bytes [pos, pos + len), shifted to start at 0.
    Taint slice(size_t pos, size_t len) const;
    // Appends `other`, which describes bytes starting at `offset` (past every range here).
    void append(const Taint& other, size_t offset);
    void add(size_t begin, size_t end);
    bool operator==(const Taint&) const = default;

private:
    std::vector<Range> ranges_;
};

// While one is alive, every string Value::string() makes is wholly tainted. The evaluator
// opens one around each operation whose inputs carry taint, so an operation that does not
// track provenance byte by byte marks everything it derives from a message as the message's:
// no filter or method can turn typed text into template text.
class TaintScope {
public:
    explicit TaintScope(bool tainted);
    ~TaintScope();
    TaintScope(const TaintScope&) = delete;
    TaintScope& operator=(const TaintScope&) = delete;
    static bool active();

private:
    bool saved_;
};

// The memory one rendering may hold: every string value (its bytes and the value around it),
// every list's slots and the output are charged when they are made and refunded when they
// go, and strings being built (join, indent, repetition, concatenation, replace, printing)
// are checked against what is left before they grow. So a template fails with a clear error
// as soon as it would hold more than the limit, instead of building gigabytes first.
class MemoryBudget {
public:
    static constexpr size_t kDefaultLimit = size_t{64} << 20;
    explicit MemoryBudget(size_t limit = kDefaultLimit) : limit_(limit) {}
    // Holds `bytes` more; fails (TemplateError) when that would exceed the limit.
    void charge(size_t bytes);
    void refund(size_t bytes) noexcept { used_ -= bytes < used_ ? bytes : used_; }
    // Fails when `bytes` more could not be held now (checked before a string grows).
    void require(size_t bytes) const;
    size_t used() const { return used_; }
    size_t peak() const { return peak_; }
    size_t limit() const { return limit_; }
    // Everything ever charged: the bytes copied. Bounded too (kWorkFactor times the limit), so
    // a loop that copies a growing string every step fails instead of running for hours.
    static constexpr size_t kWorkFactor = 16;
    size_t work() const { return work_; }
    // Values shared inside one another make graphs whose walks (comparing, hashing, printing,
    // searching for taint) grow exponentially with their depth: `[x, x]` doubled 100 times is
    // small but has 2^100 paths. Each walk step is counted, and a rendering may take at most
    // kMaxWalk of them.
    static constexpr size_t kMaxWalk = 20'000'000;
    void walk();
    // The budget of the rendering running on this thread, or null outside one.
    static MemoryBudget* active();

private:
    size_t limit_;
    size_t used_ = 0;
    size_t peak_ = 0;
    size_t work_ = 0;
    size_t walked_ = 0;
};

// Makes `budget` the active one for its lifetime.
class BudgetScope {
public:
    explicit BudgetScope(MemoryBudget* budget);
    ~BudgetScope();
    BudgetScope(const BudgetScope&) = delete;
    BudgetScope& operator=(const BudgetScope&) = delete;

private:
    MemoryBudget* saved_;
};

// Counts one level of a recursive walk over values (printing, comparing); fails past
// kMaxNesting levels instead of overflowing the stack.
class NestingGuard {
public:
    static constexpr int kMaxNesting = 256;
    NestingGuard();
    ~NestingGuard();
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;
};

// Levels of lists and dicts in v (0 for a scalar). Values deeper than NestingGuard::kMaxNesting
// are refused when made, so walking or destroying one never overflows the stack.
int nesting_of(const Value& v);
// Whether v is, or holds, the dict `d` (a namespace must not be stored inside itself).
bool holds_dict(const Value& v, const Dict* d);

// Fails when the active budget (if any) cannot take `bytes` more.
void require_memory(size_t bytes);

// A charge on the active budget, refunded when it goes; copies charge again, moves transfer.
class Charge {
public:
    Charge() = default;
    explicit Charge(size_t bytes) : budget_(MemoryBudget::active()), bytes_(bytes) {
        if (budget_) budget_->charge(bytes_);
    }
    Charge(const Charge& other) : Charge(other.bytes_) {}
    Charge(Charge&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) { other.budget_ = nullptr; }
    Charge& operator=(const Charge& other) {
        Charge copy(other);
        swap(copy);
        return *this;
    }
    Charge& operator=(Charge&& other) noexcept {
        swap(other);
        return *this;
    }
    ~Charge() {
        if (budget_) budget_->refund(bytes_);
    }
    void swap(Charge& other) noexcept {
        std::swap(budget_, other.budget_);
        std::swap(bytes_, other.bytes_);
    }

private:
    MemoryBudget* budget_ = nullptr;
    size_t bytes_ = 0;
};

struct List {
    std::vector<Value> items;
    bool is_tuple = false;  // only changes how it prints: (1, 2) instead of [1, 2]
    Charge charge;          // for the slots of `items` as made
    int depth = 1;          // levels of lists and dicts, this one included (bounded: NestingGuard)
    // A named tuple's field names (as many as items), or null: groupby's (grouper, list) pairs.
    const char* const* fields = nullptr;
};

// A Python dict: keys are any hashable value (str, int, float, bool, None, tuples of those),
// looked up with Python's equality (1, 1.0 and True are one key), kept in insertion order.
struct Dict {
    std::vector<std::pair<Value, Value>> items;  // insertion order, like Python
    bool is_namespace = false;                   // namespace(): the only object `set ns.attr = ...` may change
    bool tainted_keys = false;                   // some key came from a message
    int depth = 1;                               // as List::depth; set() keeps it up to date
    // Set only for a recursive loop's `loop`, which templates call: loop(children).
    std::function<Value(CallArgs&)> call;
    const Value* find(std::string_view key) const;
    Value* find(std::string_view key);
    // Any key; fails (TypeError's message) for an unhashable one.
    const Value* find(const Value& key) const;
    // A string key (untainted: what the engine or the context names).
    void set(std::string key, Value value);
    // Any hashable key; an equal key already there keeps its place (and itself), as in Python.
    void set(Value key, Value value);
    // Appends a string key the caller knows is not there yet (a JSON object's, a fresh dict's).
    void add_new(std::string key, Value value);
    // Checks and records the nesting of a value about to be stored (fails past the limit).
    void admit(const Value& value);
};

// Python's hash(): whether v can be a dict key (lists, dicts and tuples holding them cannot).
bool is_hashable(const Value& v);
// Fails with Python's "unhashable type: 'list'" unless v is hashable.
void require_hashable(const Value& v);

struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> named;
};

struct Function {
    std::string name;
    std::function<Value(CallArgs&)> call;
    bool tainted = false;  // made inside a TaintScope (a method bound to a message's text)
};

class Value {
public:
    enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Function };

    Value();  // undefined
    static Value undefined(std::string why);
    static Value none();
    static Value boolean(bool b);
    static Value integer(int64_t i);
    static Value number(double d);
    // Tainted wholly when a TaintScope is active, else not at all.
    static Value string(std::string s);
    // A string with exactly the given provenance (the scope is not consulted).
    static Value text(std::string s, Taint taint);
    static Value list(std::vector<Value> items = {}, bool tuple = false);
    static Value dict(std::shared_ptr<Dict> d);
    static Value empty_dict();
    static Value function(std::string name, std::function<Value(CallArgs&)> fn);

    Kind kind() const { return static_cast<Kind>(v_.index()); }
    bool is_undefined() const { return kind() == Kind::Undefined; }
    bool is_none() const { return kind() == Kind::None; }
    bool is_bool() const { return kind() == Kind::Bool; }
    bool is_int() const { return kind() == Kind::Int; }
    bool is_float() const { return kind() == Kind::Float; }
    bool is_number() const { return is_int() || is_float() || is_bool(); }  // Python: bool is int
    bool is_string() const { return kind() == Kind::String; }
    bool is_list() const { return kind() == Kind::List; }
    bool is_dict() const { return kind() == Kind::Dict; }
    bool is_function() const { return kind() == Kind::Function; }

    // Why this value is undefined ("'x' is undefined"), for the error raised on misuse.
    const std::string& undefined_reason() const;
    bool as_bool() const;
    int64_t as_int() const;    // bool or int
    double as_double() const;  // bool, int or float
    const std::string& as_string() const;
    const Taint& taint() const;  // of a string
    List& as_list() const;
    Dict& as_dict() const;
    const std::shared_ptr<Dict>& dict_ptr() const;
    const Function& as_function() const;

private:
    struct UndefinedTag {
        std::string why;
    };
    struct NoneTag {};
    struct Str {
        Charge charge;  // first: the charge (and its check) comes before the copy of the text
        std::string text;
        Taint taint;
    };
    using Storage = std::variant<UndefinedTag, NoneTag, bool, int64_t, double, Str, std::shared_ptr<List>,
                                 std::shared_ptr<Dict>, std::shared_ptr<const Function>>;
    explicit Value(Storage v) : v_(std::move(v)) {}
    Storage v_;
};

// Python's type names, for error messages ("str", "int", "list", "dict", "NoneType", ...).
std::string type_name(const Value& v);
bool truthy(const Value& v);
// Whether any string in v (or, for a function, what it is bound to) carries taint. Deeply
// nested containers count as tainted rather than being searched further.
bool carries_taint(const Value& v);
// Python str() / repr(). Undefined prints as "" (Jinja's default Undefined).
std::string to_str(const Value& v);
std::string repr(const Value& v);
// Python float repr: shortest round trip, "1.0", "1e-05", "1e+16", "inf", "nan".
std::string format_float(double d);

struct JsonOptions {
    int indent = -1;  // < 0: one line
    bool sort_keys = false;
    std::string item_separator;  // empty: Python's default (", " or "," with indent)
    std::string key_separator;   // empty: ": "
};
// json.dumps(v, ensure_ascii=False, ...): what Hugging Face's `tojson` filter produces.
std::string to_json(const Value& v, const JsonOptions& options = {});

bool equals(const Value& a, const Value& b);
// -1, 0, 1 for orderable pairs (numbers, strings, lists); fails otherwise.
int compare(const Value& a, const Value& b);

// Objects keep the json's key order: sorted for nlohmann::json, insertion order for
// nlohmann::ordered_json (what Python's dicts, and so Hugging Face's renderings, keep).
Value from_json(const nlohmann::json& j);
Value from_json(const nlohmann::ordered_json& j);

// A dict's key as a template sees it (wholly tainted inside a TaintScope).
Value dict_key(const Value& key);
// Python-style iteration: list items, dict keys, string characters; undefined: nothing.
std::vector<Value> iterate(const Value& v);

// UTF-8 <-> code points. An invalid byte b decodes to U+DC00+b and encodes back to b (Python's
// surrogateescape), so text that is not valid UTF-8 passes through unchanged.
std::u32string utf8_decode(std::string_view s);
std::string utf8_encode(std::u32string_view s);
bool is_space(char32_t c);  // Python str.isspace()
// Case mapping: inference/jinja/unicode/case_mapping.h.

}  // namespace fm::jinja
