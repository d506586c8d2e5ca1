#pragma once
// One SQLite connection to the conversation database, with the schema brought up to date.
//
// Threading rule: one Database per thread. Each instance owns its own uniquely named
// QSqlDatabase connection, and Qt SQL connections must only be used from the thread that
// opened them. A background worker (import, export, heavy search) opens its own Database on
// the same file; WAL mode lets its reads run alongside the GUI thread's writes, and the
// busy timeout makes concurrent writers wait for each other instead of failing.

#include "app/storage/error_text.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>
#include <QVariantList>

#include <functional>
#include <optional>
#include <utility>

namespace fm {

class Database {
public:
    Database();
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Opens (creating the file and its folder if needed), sets the connection pragmas and
    // migrates the schema up to `targetVersion`. A database from a newer app version is
    // refused untouched. Tests pass an older `targetVersion` to build old-format files.
    Status open(const QString& path, int targetVersion = -1);
    void close();

    bool isOpen() const { return db_.isOpen(); }
    const QString& path() const { return path_; }
    const QString& connectionName() const { return connectionName_; }
    int schemaVersion() const { return schemaVersion_; }
    // The message of the most recent failure on this connection (empty if none yet);
    // the same text the failing call returned.
    const QString& lastError() const { return lastError_; }

    // The raw connection, for queries the store builds itself. Owning thread only.
    QSqlDatabase& connection() { return db_; }

    // Prepares and runs one statement with positional bindings; the returned query is
    // positioned before the first row.
    Result<QSqlQuery> exec(const QString& sql, const QVariantList& bindings = {});
    // First column of the first row (an invalid QVariant when there are no rows).
    Result<QVariant> scalar(const QString& sql, const QVariantList& bindings = {});

    // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back if it fails. IMMEDIATE
    // takes the write lock up front so two connections never deadlock upgrading a read
    // lock. Not re-entrant: store methods call their private, transaction-free helpers.
    Status transaction(const std::function<Status()>& body);
    // The same for a body that makes a value: the value once committed, or the error.
    template <typename T, typename Body>
    Result<T> transactionFor(Body&& body);
    bool inTransaction() const { return inTransaction_; }

    // Records `message` as lastError() and returns it as a failed status.
    Error fail(const QString& message);

private:
    Status applyPragmas();
    Status migrate(int targetVersion);

    QSqlDatabase db_;
    QString connectionName_;
    QString path_;
    QString lastError_;
    int schemaVersion_ = 0;
    bool inTransaction_ = false;
};

template <typename T, typename Body>
Result<T> Database::transactionFor(Body&& body) {
    std::optional<T> made;
    const Status status = transaction([&]() -> Status {
        Result<T> result = body();
        if (!result) {
            return result.status();
        }
        made = std::move(*result);
        return {};
    });
    if (!status) {
        return Error{status.error()};
    }
    return std::move(*made);
}

// Every row of an exec() result, each made into a T by read(row); or the exec() error.
template <typename T, typename Reader>
Result<QList<T>> readAll(Result<QSqlQuery> query, Reader read) {
    if (!query) {
        return Error{query.error()};
    }
    QList<T> rows;
    while (query->next()) {
        rows.append(read(*query));
    }
    return rows;
}

}  // namespace fm
