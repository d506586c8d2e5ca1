#pragma once
// Error handling for the storage layer. Every operation that can fail returns a DbStatus or
// a DbResult<T> carrying a human-readable message (it may end up in an error banner), so a
// locked, corrupt or too-new database never crashes the app. The types are [[nodiscard]]:
// an ignored storage error is almost always a bug.

#include <QString>

#include <optional>
#include <utility>

namespace fm {

struct DbError {
    QString message;
};

class [[nodiscard]] DbStatus {
public:
    DbStatus() = default;
    DbStatus(DbError e) : error_(std::move(e.message)), ok_(false) {}  // NOLINT: implicit by design

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const QString& error() const { return error_; }

private:
    QString error_;
    bool ok_ = true;
};

template <typename T>
class [[nodiscard]] DbResult {
public:
    DbResult(T value) : value_(std::move(value)) {}        // NOLINT: implicit by design
    DbResult(DbError e) : error_(std::move(e.message)) {}  // NOLINT: implicit by design

    bool ok() const { return value_.has_value(); }
    explicit operator bool() const { return ok(); }
    const QString& error() const { return error_; }
    DbStatus status() const { return ok() ? DbStatus{} : DbStatus(DbError{error_}); }

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
    QString error_;
};

}  // namespace fm
