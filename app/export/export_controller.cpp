#include "app/export/export_controller.h"

#include "app/export/exporter.h"
#include "app/export/importer.h"
#include "app/storage/database.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace fm {
namespace {

// Local files only: a file dialog hands out file:// URLs; a bare path is accepted too.
QString localPath(const QUrl& url) {
    if (url.isLocalFile()) {
        return url.toLocalFile();
    }
    if (url.scheme().isEmpty()) {
        return url.path();
    }
    return {};
}

QString plural(qsizetype n, const char* one, const char* many) {
    return QStringLiteral("%1 %2").arg(n).arg(QLatin1String(n == 1 ? one : many));
}

}  // namespace

ExportController::ExportController(QObject* parent) : ExportController(QString(), parent) {}

ExportController::ExportController(const QString& databasePath, QObject* parent)
    : QObject(parent), databasePath_(databasePath) {
    // One job at a time: an import followed by an export sees the imported rows, and two
    // writers never compete for the database lock.
    pool_.setMaxThreadCount(1);
    // Keep the thread (and its database connection's plugin state) warm between requests
    // that come in a burst; it exits when idle.
    pool_.setExpiryTimeout(30'000);
}

ExportController::~ExportController() {
    pool_.waitForDone();
}

void ExportController::setDatabasePath(const QString& path) {
    if (path == databasePath_) {
        return;
    }
    databasePath_ = path;
    emit databasePathChanged();
}

QStringList ExportController::formats() const {
    return exportFormatNames();
}

QStringList ExportController::nameFilters(const QString& format) const {
    QStringList filters;
    for (const QString& name : exportFormatNames()) {
        if (format.isEmpty() || exportFormatFromText(format) == exportFormatFromText(name)) {
            filters.append(exportNameFilter(*exportFormatFromText(name)));
        }
    }
    return filters;
}

QString ExportController::suggestedFileName(const QString& title, const QString& format) const {
    return suggestedExportFileName(title, exportFormatFromText(format).value_or(ExportFormat::Markdown));
}

bool ExportController::waitForIdle(int timeoutMs) {
    const bool done = pool_.waitForDone(timeoutMs);
    // Deliver the results the jobs queued for this thread.
    QCoreApplication::sendPostedEvents(this);
    return done;
}

void ExportController::jobStarted() {
    if (pending_++ == 0) {
        emit busyChanged();
    }
}

void ExportController::jobDone() {
    if (--pending_ == 0) {
        emit busyChanged();
    }
}

void ExportController::exportConversation(qint64 conversationId, const QString& format, const QUrl& file) {
    startExport(conversationId, format, file);
}

void ExportController::exportAll(const QString& format, const QUrl& file) {
    startExport(std::nullopt, format, file);
}

void ExportController::startExport(std::optional<qint64> conversationId, const QString& format, const QUrl& file) {
    const QString path = localPath(file);
    std::optional<ExportFormat> kind = format.isEmpty() ? exportFormatFromFileName(path) : exportFormatFromText(format);
    QString problem;
    if (path.isEmpty()) {
        problem = QStringLiteral("Cannot export to %1: only local files are supported").arg(file.toDisplayString());
    } else if (!kind) {
        problem = QStringLiteral("Cannot export to %1: unknown format \"%2\" (use %3)")
                      .arg(QDir::toNativeSeparators(path), format.isEmpty() ? QFileInfo(path).suffix() : format,
                           exportFormatNames().join(QStringLiteral(", ")));
    } else if (databasePath_.isEmpty()) {
        problem = QStringLiteral("Cannot export: no conversation database is set");
    }
    jobStarted();
    if (!problem.isEmpty()) {
        // Reported through the queue like a job's result: results arrive in request order.
        pool_.start([this, problem, file] {
            QMetaObject::invokeMethod(
                this,
                [this, problem, file] {
                    jobDone();
                    emit exportFinished(false, problem, file);
                },
                Qt::QueuedConnection);
        });
        return;
    }
    const QString dbPath = databasePath_;
    pool_.start([this, dbPath, path, file, conversationId, chosen = *kind] {
        bool ok = false;
        QString message;
        Database db;
        if (Status opened = db.open(dbPath); !opened) {
            message = QStringLiteral("Cannot export: %1").arg(errorText(opened));
        } else if (Result<ExportSummary> done = exportConversations(db, conversationId, chosen, path); !done) {
            message = QStringLiteral("Export failed: %1").arg(errorText(done));
        } else {
            ok = true;
            message = QStringLiteral("Exported %1 to %2")
                          .arg(plural(done->conversationCount, "conversation", "conversations"),
                               QDir::toNativeSeparators(path));
        }
        db.close();
        QMetaObject::invokeMethod(
            this,
            [this, ok, message, file] {
                jobDone();
                emit exportFinished(ok, message, file);
            },
            Qt::QueuedConnection);
    });
}

void ExportController::importFile(const QUrl& file) {
    const QString path = localPath(file);
    jobStarted();
    if (path.isEmpty() || databasePath_.isEmpty()) {
        const QString problem =
            path.isEmpty()
                ? QStringLiteral("Cannot import %1: only local files are supported").arg(file.toDisplayString())
                : QStringLiteral("Cannot import: no conversation database is set");
        pool_.start([this, problem] {
            QMetaObject::invokeMethod(
                this,
                [this, problem] {
                    jobDone();
                    emit importFinished(false, problem, {});
                },
                Qt::QueuedConnection);
        });
        return;
    }
    const QString dbPath = databasePath_;
    pool_.start([this, dbPath, path] {
        bool ok = false;
        QString message;
        QVariantList ids;
        Database db;
        if (Status opened = db.open(dbPath); !opened) {
            message = QStringLiteral("Cannot import: %1").arg(errorText(opened));
        } else if (Result<ImportSummary> done = importConversationsFile(db, path); !done) {
            message = QStringLiteral("Nothing was imported: %1").arg(errorText(done));
        } else {
            ok = true;
            for (qint64 id : done->conversationIds) {
                ids.append(id);
            }
            message = QStringLiteral("Imported %1 (%2)")
                          .arg(plural(done->conversationIds.size(), "conversation", "conversations"),
                               plural(done->messageCount, "message", "messages"));
        }
        db.close();
        QMetaObject::invokeMethod(
            this,
            [this, ok, message, ids] {
                jobDone();
                emit importFinished(ok, message, ids);
            },
            Qt::QueuedConnection);
    });
}

}  // namespace fm
