#pragma once
// What the chat-template engine can do with values: operators, attribute and item access,
// slices, the methods of str/dict/list that templates call, Jinja's filters and tests, and
// the globals Hugging Face provides (raise_exception, namespace, range, strftime_now, ...).
// All of these throw TemplateError on misuse. Internal to the inference library.

#include <ctime>
#include <functional>
#include <string>
#include <string_view>

#include "inference/jinja/jinja_value.h"

namespace fm::jinja {

// Python-style binding of call arguments: positional index or keyword name.
class ArgReader {
public:
    ArgReader(const CallArgs& args, std::string what) : args_(args), what_(std::move(what)) {}
    bool has(size_t index, std::string_view name) const;
    Value get(size_t index, std::string_view name, Value fallback = Value()) const;
    Value required(size_t index, std::string_view name) const;
    // Fails when more than max_positional positional arguments, or a named one not in
    // `names` (comma separated), were passed.
    void check(size_t max_positional, std::string_view names) const;
    const std::string& what() const { return what_; }

private:
    const CallArgs& args_;
    std::string what_;
};

// Operators: + - * / // % ** (op is the operator's text).
Value binary_op(std::string_view op, const Value& a, const Value& b);
// `item in container`
bool contains(const Value& container, const Value& item);
// obj.name: methods first, then keys (Jinja's getattr); misses give an undefined value.
Value get_attr(const Value& obj, const std::string& name);
// obj[key]: keys and indexes first, then methods (Jinja's getitem).
Value get_item(const Value& obj, const Value& key);
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step);

bool has_method(const Value& obj, std::string_view name);
// `part`, a substring of `whole` made by stripping it, with the taint of the bytes it came
// from (rather than the whole-string taint an operation on a tainted input gets).
Value substring_of(const Value& whole, Value part);
Value call_method(const Value& obj, const std::string& name, const CallArgs& args);

bool is_known_filter(std::string_view name);
bool is_known_test(std::string_view name);
Value apply_filter(const std::string& name, const Value& input, const CallArgs& args);
bool apply_test(const std::string& name, const Value& input, const CallArgs& args);

// range, namespace, dict, raise_exception, strftime_now (which formats what `now` gives, or the
// system clock's local time when `now` is empty).
void add_globals(Dict& globals, std::function<std::tm()> now = {});

}  // namespace fm::jinja
