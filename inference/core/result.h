#pragma once
// Error handling for the inference library: functions that can fail on bad input return
// Status or Result<T>; they never abort. Messages say what went wrong and where
// (file, tensor, byte offset), because they end up in front of the user.

#include <optional>
#include <string>
#include <utility>

namespace fm {

struct Error {
    std::string message;
};

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Error e) : error_(std::move(e.message)), ok_(false) {}  // NOLINT: implicit by design
    static Status success() { return {}; }

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const std::string& error() const { return error_; }

private:
    std::string error_;
    bool ok_ = true;
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : value_(std::move(value)) {}      // NOLINT: implicit by design
    Result(Error e) : error_(std::move(e.message)) {}  // NOLINT: implicit by design
    Result(Status s) : error_(s.error()) {}            // only for failed statuses

    bool ok() const { return value_.has_value(); }
    explicit operator bool() const { return ok(); }
    const std::string& error() const { return error_; }
    Status status() const { return ok() ? Status{} : Status(Error{error_}); }

    T& value() & { return *value_; }
    const T& value() const& { return *value_; }
    // By value on temporaries, so `for (auto& x : *store.list())` owns what it iterates
    // instead of referring into a result destroyed before the loop body runs.
    T value() && { return std::move(*value_); }
    T* operator->() { return &*value_; }
    const T* operator->() const { return &*value_; }
    T& operator*() & { return *value_; }
    const T& operator*() const& { return *value_; }
    T operator*() && { return std::move(*value_); }

private:
    std::optional<T> value_;
    std::string error_;
};

// Prefixes a failed status/result's message with context ("loading X: ...").
inline Error with_context(const std::string& context, const std::string& message) {
    return Error{context + ": " + message};
}

}  // namespace fm
