// download: a checkpoint from the Hugging Face Hub into its cache (docs/models.md), with the
// app's download engine run on this thread. Interrupted downloads (Ctrl-C, a lost connection)
// resume where they stopped the next time the same command runs.

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <cmath>
#include <memory>
#include <ostream>

#include "app/cli/cli.h"
#include "app/cli/cli_args.h"
#include "app/downloads/download_engine.h"

namespace fm::cli {
namespace {

using namespace fm::downloads;

int fail(std::ostream& err, const std::string& message, int code) {
    err << "falcon-mamba-cli download: " << message << "\n";
    return code;
}

std::string bytes(qint64 n) {
    return formatBytes(n).toStdString();
}

// Qt Network needs an application object for its event loop; made only when the caller (a
// test, say) has none.
class CoreRuntime {
public:
    CoreRuntime() {
        if (QCoreApplication::instance() == nullptr) app_ = std::make_unique<QCoreApplication>(argc_, argv_);
    }

private:
    int argc_ = 1;
    char name_[17] = "falcon-mamba-cli";
    char* argv_[2] = {name_, nullptr};
    std::unique_ptr<QCoreApplication> app_;
};

}  // namespace

int cmd_download(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    auto args = Args::parse(argv, {}, {"--revision", "--cache-dir"});
    if (!args) return fail(err, args.error(), 2);
    if (args->positional().size() != 1)
        return fail(err, "give one repository id, as in: falcon-mamba-cli download tiiuae/falcon-mamba-7b-instruct", 2);
    CoreRuntime runtime;
    HubSettings hub = HubSettings::fromEnvironment();
    if (args->has("--cache-dir")) hub.cacheDir = QString::fromStdString(args->get("--cache-dir"));
    const QString repo = QString::fromStdString(args->positional().front());
    const QString revision = QString::fromStdString(args->get("--revision", "main"));

    DownloadEngine engine(hub);
    QEventLoop loop;
    int code = 1;
    QElapsedTimer sinceLastLine;
    QObject::connect(&engine, &DownloadEngine::planReady, &loop, [&](const DownloadPlan& plan) {
        if (hub.offline) {  // no file list without the Hub: the cached snapshot is the answer
            err << repo.toStdString() << " at " << plan.revision.toStdString() << ": offline (HF_HUB_OFFLINE), commit "
                << plan.commit.toStdString() << " from the cache\n";
            return;
        }
        err << repo.toStdString() << " at " << plan.revision.toStdString() << " (commit " << plan.commit.toStdString()
            << "): " << plan.files.size() << " files, " << bytes(plan.totalBytes) << ", " << bytes(plan.neededBytes)
            << " to download into " << QDir::toNativeSeparators(hub.cacheDir).toStdString() << "\n";
        sinceLastLine.start();
    });
    QObject::connect(&engine, &DownloadEngine::progressChanged, &loop, [&](const DownloadProgress& p) {
        if (sinceLastLine.isValid() && sinceLastLine.elapsed() < 2000 && p.doneBytes < p.totalBytes) return;
        sinceLastLine.start();
        err << "  " << bytes(p.doneBytes) << " of " << bytes(p.totalBytes) << " (" << p.filesDone << "/" << p.filesTotal
            << " files)";
        if (p.bytesPerSecond > 0) err << ", " << bytes(qint64(p.bytesPerSecond)) << "/s";
        if (p.secondsLeft >= 0) err << ", " << qint64(std::ceil(p.secondsLeft)) << " s left";
        err << "\n";
    });
    QObject::connect(&engine, &DownloadEngine::notice, &loop,
                     [&](const QString& message) { err << "  " << message.toStdString() << "\n"; });
    QObject::connect(&engine, &DownloadEngine::finished, &loop, [&](const QString& snapshot) {
        out << QDir::toNativeSeparators(QDir::cleanPath(snapshot)).toStdString() << "\n";
        code = 0;
        loop.quit();
    });
    QObject::connect(&engine, &DownloadEngine::failed, &loop, [&](const QString& message, DownloadError) {
        fail(err, message.toStdString(), 1);
        code = 1;
        loop.quit();
    });
    engine.download(repo, revision);
    if (engine.state() != DownloadEngine::State::Failed && engine.state() != DownloadEngine::State::Finished)
        loop.exec();
    return code;
}

}  // namespace fm::cli
