#pragma once
// ExportController: export and import for QML (menu actions with file dialogs). Each request
// runs on a worker thread with its own database connection (SQLite connections belong to
// the thread that opened them), so a large export or import never freezes the window; the
// result comes back as a signal on the GUI thread. Requests run one at a time, in order.
//
// Compiled as part of the FalconMamba.App QML module (fm_app), not of fm_export: see
// app/export/CMakeLists.txt. The app either owns one (constructed with
// AppEnvironment::databasePath() and exposed as a CONSTANT property) or QML creates one with
// `databasePath` bound to that path. In QML:
//
//     exporter.exportConversation(id, "md", fileDialog.selectedFile)
//     Connections { target: exporter; function onImportFinished(ok, message, ids) { ... } }
//
// After a successful import the conversation list must be reloaded (it does not watch the
// database).

#include <QtQml/qqmlregistration.h>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QThreadPool>
#include <QUrl>
#include <QVariantList>

namespace fm {

class ExportController : public QObject {
    Q_OBJECT
    QML_ELEMENT
    // The conversation database file (the same file the app has open).
    Q_PROPERTY(QString databasePath READ databasePath WRITE setDatabasePath NOTIFY databasePathChanged)
    // True while a request is queued or running.
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
    // Format names accepted by the export methods: "md", "json", "html", "txt", "pdf".
    Q_PROPERTY(QStringList formats READ formats CONSTANT)

public:
    explicit ExportController(QObject* parent = nullptr);
    explicit ExportController(const QString& databasePath, QObject* parent = nullptr);
    // Waits for the request in progress: its job refers to this object.
    ~ExportController() override;

    QString databasePath() const { return databasePath_; }
    void setDatabasePath(const QString& path);
    bool busy() const { return pending_ > 0; }
    QStringList formats() const;

    // `format` is a name from `formats` or empty (then taken from the file's suffix). The
    // file is written completely or not at all. Results: exportFinished.
    Q_INVOKABLE void exportConversation(qint64 conversationId, const QString& format, const QUrl& file);
    // Every live conversation, most recently active first, in one file.
    Q_INVOKABLE void exportAll(const QString& format, const QUrl& file);
    // A JSON export file: validated completely, then imported all or nothing, as new
    // conversations. Results: importFinished.
    Q_INVOKABLE void importFile(const QUrl& file);

    // For file dialogs: "Markdown (*.md)"; all formats' filters when `format` is empty.
    Q_INVOKABLE QStringList nameFilters(const QString& format = {}) const;
    // "<title>.<suffix>", with characters that file systems refuse removed.
    Q_INVOKABLE QString suggestedFileName(const QString& title, const QString& format) const;

    // Blocks until no request is left (tests; shutdown). False on timeout.
    bool waitForIdle(int timeoutMs = -1);

signals:
    void databasePathChanged();
    void busyChanged();
    // `message` says what was written ("Exported 3 conversations to ...") or what went wrong.
    void exportFinished(bool ok, const QString& message, const QUrl& file);
    // `conversationIds`: the new conversations (numbers), in file order; empty on failure.
    void importFinished(bool ok, const QString& message, const QVariantList& conversationIds);

private:
    void startExport(std::optional<qint64> conversationId, const QString& format, const QUrl& file);
    void jobStarted();
    void jobDone();

    QString databasePath_;
    int pending_ = 0;
    QThreadPool pool_;
};

}  // namespace fm
