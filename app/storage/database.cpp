#include "app/storage/database.h"

#include "app/storage/migrations.h"

#include <QAtomicInteger>
#include <QDir>
#include <QFileInfo>
#include <QSqlError>

namespace fm {
namespace {

QString describeError(const QSqlError& error) {
    // databaseText() is SQLite's own message ("UNIQUE constraint failed: ..."); Qt's
    // driverText() adds only "Unable to fetch row" noise.
    const QString text = error.databaseText().isEmpty() ? error.text() : error.databaseText();
    return text.trimmed();
}

QString firstLineOf(const QString& sql) {
    const QString trimmed = sql.trimmed();
    const qsizetype newline = trimmed.indexOf(QLatin1Char('\n'));
    return newline < 0 ? trimmed : trimmed.left(newline) + QStringLiteral(" ...");
}

bool isInMemory(const QString& path) {
    return path.isEmpty() || path == QLatin1String(":memory:") || path.startsWith(QLatin1String("file::memory:"));
}

}  // namespace

Database::Database() {
    static QAtomicInteger<quint64> counter;
    connectionName_ = QStringLiteral("fm-storage-%1").arg(counter.fetchAndAddRelaxed(1));
}

Database::~Database() {
    close();
}

void Database::close() {
    if (!QSqlDatabase::contains(connectionName_)) {
        return;
    }
    db_.close();
    db_ = QSqlDatabase();  // drop our handle first, or removeDatabase warns it is in use
    QSqlDatabase::removeDatabase(connectionName_);
    schemaVersion_ = 0;
    inTransaction_ = false;
}

Error Database::fail(const QString& message) {
    lastError_ = message;
    return toError(message);
}

Status Database::open(const QString& path, int targetVersion) {
    close();
    path_ = path;
    const int latest = latestSchemaVersion();
    if (targetVersion < 0) {
        targetVersion = latest;
    }
    if (targetVersion > latest) {
        return fail(
            QStringLiteral("schema v%1 is unknown to this build (latest is v%2)").arg(targetVersion).arg(latest));
    }
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE"))) {
        return fail(QStringLiteral("the Qt SQLite driver (QSQLITE) is not installed"));
    }
    if (!isInMemory(path)) {
        const QString folder = QFileInfo(path).absolutePath();
        if (!QDir().mkpath(folder)) {
            return fail(QStringLiteral("cannot create the folder %1").arg(folder));
        }
    }

    db_ = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connectionName_);
    db_.setDatabaseName(path);
    // Another connection holding the write lock (a worker thread, a second app instance)
    // makes us wait up to 5 s instead of failing at once with "database is locked".
    db_.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    if (!db_.open()) {
        const Error error = fail(QStringLiteral("cannot open %1: %2").arg(path, describeError(db_.lastError())));
        close();
        return error;
    }

    // Read the version before changing anything (journal mode included): a database from a
    // newer app, or a file that is not ours, must be left exactly as it was.
    Result<QVariant> version = scalar(QStringLiteral("PRAGMA user_version"));
    if (!version) {
        const Error error =
            fail(QStringLiteral("%1 is not a readable SQLite database: %2").arg(path, errorText(version)));
        close();
        return error;
    }
    const int current = version->toInt();
    if (current > latest) {
        const Error error = fail(QStringLiteral("%1 was written by a newer version of Falcon Mamba Chat (schema v%2; "
                                                "this version understands up to v%3). It was left unchanged.")
                                     .arg(path)
                                     .arg(current)
                                     .arg(latest));
        close();
        return error;
    }
    if (current == 0) {
        Result<QVariant> objects = scalar(QStringLiteral("SELECT count(*) FROM sqlite_schema"));
        if (!objects || objects->toInt() != 0) {
            const Error error =
                fail(QStringLiteral("%1 is an SQLite database of another application; not touching it").arg(path));
            close();
            return error;
        }
    }
    if (targetVersion < current) {
        const Error error = fail(
            QStringLiteral("%1 is at schema v%2; cannot go back to v%3").arg(path).arg(current).arg(targetVersion));
        close();
        return error;
    }
    schemaVersion_ = current;

    Status status = applyPragmas();
    if (status) {
        status = migrate(targetVersion);
    }
    if (!status) {
        close();
        lastError_ = errorText(status);
    }
    return status;
}

Status Database::applyPragmas() {
    // WAL: readers never block the writer, and a commit is one append instead of a
    // rollback-journal dance. synchronous=NORMAL is durable across app crashes (only an OS
    // crash or power loss can drop the last commits), which is right for chat history and
    // keeps frequent small writes (streamed replies) cheap.
    if (Result<QVariant> mode = scalar(QStringLiteral("PRAGMA journal_mode = WAL")); !mode) {
        return mode.status();
    }
    if (Result<QSqlQuery> q = exec(QStringLiteral("PRAGMA synchronous = NORMAL")); !q) {
        return q.status();
    }
    // 16 MiB of page cache (the default is 2 MiB): the sidebar query and search touch the
    // same index pages again and again.
    if (Result<QSqlQuery> q = exec(QStringLiteral("PRAGMA cache_size = -16384")); !q) {
        return q.status();
    }
    if (Result<QSqlQuery> q = exec(QStringLiteral("PRAGMA foreign_keys = ON")); !q) {
        return q.status();
    }
    Result<QVariant> enforced = scalar(QStringLiteral("PRAGMA foreign_keys"));
    if (!enforced) {
        return enforced.status();
    }
    if (enforced->toInt() != 1) {
        return fail(QStringLiteral("this SQLite build cannot enforce foreign keys"));
    }
    return {};
}

Status Database::migrate(int targetVersion) {
    for (const SchemaMigration& step : schemaMigrations()) {
        if (step.version <= schemaVersion_ || step.version > targetVersion) {
            continue;
        }
        int reached = 0;
        const Status status = transaction([&]() -> Status {
            // Re-read under the write lock: another process may have migrated meanwhile.
            Result<QVariant> now = scalar(QStringLiteral("PRAGMA user_version"));
            if (!now) {
                return now.status();
            }
            reached = now->toInt();
            if (reached >= step.version) {
                return {};
            }
            for (const QString& statement : step.statements) {
                if (Result<QSqlQuery> q = exec(statement); !q) {
                    return q.status();
                }
            }
            // PRAGMA arguments cannot be bound; the version is our own integer.
            const QString setVersion = QStringLiteral("PRAGMA user_version = %1").arg(step.version);
            if (Result<QSqlQuery> q = exec(setVersion); !q) {
                return q.status();
            }
            Result<QSqlQuery> check = exec(QStringLiteral("PRAGMA foreign_key_check"));
            if (!check) {
                return check.status();
            }
            if (check->next()) {
                return fail(QStringLiteral("the migrated data breaks a foreign key in table %1")
                                .arg(check->value(0).toString()));
            }
            reached = step.version;
            return {};
        });
        if (!status) {
            return fail(QStringLiteral("upgrading %1 to schema v%2 (%3) failed, nothing was "
                                       "changed by this step: %4")
                            .arg(path_)
                            .arg(step.version)
                            .arg(step.summary, errorText(status)));
        }
        schemaVersion_ = std::max(schemaVersion_, reached);
    }
    return {};
}

Result<QSqlQuery> Database::exec(const QString& sql, const QVariantList& bindings) {
    if (!db_.isOpen()) {
        return fail(QStringLiteral("the conversation database is not open"));
    }
    QSqlQuery query(db_);
    query.setForwardOnly(true);  // no client-side row cache: every result is read once
    if (!query.prepare(sql)) {
        return fail(QStringLiteral("%1 (in: %2)").arg(describeError(query.lastError()), firstLineOf(sql)));
    }
    for (qsizetype i = 0; i < bindings.size(); ++i) {
        query.bindValue(int(i), bindings[i]);
    }
    if (!query.exec()) {
        return fail(QStringLiteral("%1 (in: %2)").arg(describeError(query.lastError()), firstLineOf(sql)));
    }
    return Result<QSqlQuery>(std::move(query));
}

Result<QVariant> Database::scalar(const QString& sql, const QVariantList& bindings) {
    Result<QSqlQuery> query = exec(sql, bindings);
    if (!query) {
        return Error{query.error()};
    }
    QVariant value;
    if (query->next()) {
        value = query->value(0);
    }
    query->finish();  // release the statement so it holds no read lock
    return value;
}

Status Database::transaction(const std::function<Status()>& body) {
    if (inTransaction_) {
        return fail(QStringLiteral("nested storage transaction (a storage bug)"));
    }
    if (Result<QSqlQuery> begin = exec(QStringLiteral("BEGIN IMMEDIATE")); !begin) {
        return begin.status();
    }
    inTransaction_ = true;
    Status status = body();
    if (status) {
        Result<QSqlQuery> commit = exec(QStringLiteral("COMMIT"));
        if (commit) {
            inTransaction_ = false;
            return {};
        }
        status = commit.status();
    }
    // SQLite may already have rolled back by itself (disk full, I/O error); then this
    // ROLLBACK fails harmlessly. The body's error is the one worth reporting.
    QSqlQuery rollback(db_);
    rollback.exec(QStringLiteral("ROLLBACK"));
    inTransaction_ = false;
    lastError_ = errorText(status);
    return status;
}

}  // namespace fm
