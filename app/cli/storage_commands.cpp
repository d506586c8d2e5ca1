// export, import: conversations between the app's database and files (docs/export-format.md).
// Compiled only when the app's storage and export libraries are built (FM_CLI_HAS_STORAGE).

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QGuiApplication>
#include <QLockFile>

#include <memory>
#include <ostream>

#include "app/cli/cli.h"
#include "app/cli/cli_args.h"
#include "app/export/exporter.h"
#include "app/export/importer.h"
#include "app/storage/database.h"

namespace fm::cli {
namespace {

std::string utf8(const QString& text) {
    return text.toStdString();
}
QString qstr(const std::string& text) {
    return QString::fromStdString(text);
}

// Qt loads the SQLite driver as a plugin, which needs an application object; PDF layout needs
// fonts, which need a QGuiApplication. Made here only when the caller (a test, say) has none.
// The GUI one always uses the offscreen platform: writing a PDF must work over ssh and in
// CI, and must never depend on (or abort for want of) a display.
class QtRuntime {
public:
    explicit QtRuntime(bool needGui) {
        if (QCoreApplication::instance() != nullptr) return;
        if (needGui) {
            if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
            app_ = std::make_unique<QGuiApplication>(argc_, argv_);
        } else {
            app_ = std::make_unique<QCoreApplication>(argc_, argv_);
        }
    }

private:
    // QCoreApplication keeps references to argc/argv for its whole life.
    int argc_ = 3;
    char name_[17] = "falcon-mamba-cli";
    char platformOption_[10] = "-platform";
    char platform_[10] = "offscreen";
    char* argv_[4] = {name_, platformOption_, platform_, nullptr};
    std::unique_ptr<QCoreApplication> app_;
};

std::string plural(qsizetype n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

int cmd_export(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    auto args = Args::parse(argv, {"--all"}, {"--db", "--conversation", "--format", "--out"});
    if (!args) return fail(err, "export", args.error(), 2);
    if (!args->has("--db")) return fail(err, "export", "missing --db FILE (the conversation database)", 2);
    if (!args->has("--out")) return fail(err, "export", "missing --out PATH", 2);
    if (args->has("--all") == args->has("--conversation"))
        return fail(err, "export", "give either --conversation ID or --all", 2);
    auto id = args->get_int("--conversation", 0);
    if (!id) return fail(err, "export", id.error(), 2);
    if (args->has("--conversation") && *id <= 0)
        return fail(err, "export", "--conversation expects a conversation id (a positive integer)", 2);

    const QString outPath = qstr(args->get("--out"));
    // Without --format, the output file's suffix says it ("chat.md").
    const std::optional<ExportFormat> format =
        args->has("--format") ? exportFormatFromText(qstr(args->get("--format"))) : exportFormatFromFileName(outPath);
    if (!format) {
        const std::string names = utf8(exportFormatNames().join(QLatin1Char('|')));
        return fail(err, "export",
                    args->has("--format") ? "unknown --format '" + args->get("--format") + "' (use " + names + ")"
                                          : "give --format " + names + " (the --out suffix does not say)",
                    2);
    }
    const QString dbPath = qstr(args->get("--db"));
    // Opening a missing file would create an empty database and export nothing.
    if (!QFileInfo(dbPath).isFile()) return fail(err, "export", args->get("--db") + ": no such database file");

    QtRuntime runtime(*format == ExportFormat::Pdf);
    Database db;
    if (Status opened = db.open(dbPath); !opened) return fail(err, "export", opened.error());
    std::optional<qint64> conversation;
    if (args->has("--conversation")) conversation = *id;
    Result<ExportSummary> done = exportConversations(db, conversation, *format, outPath);
    if (!done) return fail(err, "export", done.error());
    out << "exported " << plural(done->conversationCount, "conversation", "conversations") << " ("
        << plural(done->messageCount, "message", "messages") << ") as " << utf8(exportFormatName(*format)) << " to "
        << args->get("--out") << "\n";
    return 0;
}

int cmd_import(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    auto args = Args::parse(argv, {}, {"--db", "--in"});
    if (!args) return fail(err, "import", args.error(), 2);
    if (!args->has("--db")) return fail(err, "import", "missing --db FILE (the conversation database)", 2);
    if (!args->has("--in")) return fail(err, "import", "missing --in PATH (a JSON export)", 2);

    QtRuntime runtime(false);
    const QString dbPath = qstr(args->get("--db"));
    // The desktop app holds this lock while it has the folder open (app/startup/single_instance.h);
    // writing beside it would go unseen by its window and race its own writes.
    QLockFile appLock(QFileInfo(dbPath).absoluteDir().filePath(QStringLiteral("falcon-mamba-chat.lock")));
    appLock.setStaleLockTime(0);
    if (!appLock.tryLock(0) && appLock.error() == QLockFile::LockFailedError)
        return fail(err, "import",
                    "Falcon Mamba Chat has " + utf8(QDir::toNativeSeparators(QFileInfo(dbPath).absolutePath())) +
                        " open; close the app first, or import from its sidebar menu");
    const bool existed = QFileInfo::exists(dbPath);
    Database db;
    if (Status opened = db.open(dbPath); !opened) return fail(err, "import", opened.error());
    Result<ImportSummary> done = importConversationsFile(db, qstr(args->get("--in")));
    if (!done) {
        // A database this command created for the import goes again: a refused import leaves
        // nothing behind.
        if (!existed) {
            db.close();
            for (const char* suffix : {"", "-wal", "-shm"}) QFile::remove(dbPath + QLatin1String(suffix));
        }
        return fail(err, "import", "nothing was imported: " + done.error());
    }
    std::string ids;
    for (qint64 conversationId : done->conversationIds)
        ids += (ids.empty() ? "" : ", ") + std::to_string(conversationId);
    out << "imported " << plural(done->conversationIds.size(), "conversation", "conversations") << " ("
        << plural(done->messageCount, "message", "messages") << ") from " << args->get("--in");
    if (!ids.empty()) out << " as id" << (done->conversationIds.size() == 1 ? " " : "s ") << ids;
    out << "\n";
    return 0;
}

}  // namespace fm::cli
