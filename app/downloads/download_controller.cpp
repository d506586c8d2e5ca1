#include "app/downloads/download_controller.h"

#include <QDir>
#include <QLocale>
#include <QVariantMap>
#include <cmath>

namespace fm::app {

using fm::downloads::DownloadEngine;

DownloadController::DownloadController(QObject* parent)
    // The token file is read by the engine, on its thread.
    : DownloadController(fm::downloads::HubSettings::fromEnvironment(QProcessEnvironment::systemEnvironment(), false),
                         {}, {}, parent) {}

DownloadController::DownloadController(fm::downloads::HubSettings hub, fm::downloads::DownloadOptions options,
                                       std::shared_ptr<const fm::downloads::FreeSpace> space, QObject* parent)
    : QObject(parent), hub_(hub) {
    qRegisterMetaType<DownloadEngine::State>();
    engine_ = new DownloadEngine(std::move(hub), options, std::move(space));
    engine_->moveToThread(&thread_);
    thread_.setObjectName(QStringLiteral("downloads"));
    connect(&thread_, &QThread::finished, engine_, &QObject::deleteLater);
    connect(engine_, &DownloadEngine::stateChanged, this, &DownloadController::onState);
    connect(engine_, &DownloadEngine::planReady, this, [this](const fm::downloads::DownloadPlan& plan) {
        plan_ = plan;
        progress_ = {};
        progress_.totalBytes = plan.totalBytes;
        progress_.doneBytes = plan.presentBytes;
        emit planChanged();
        emit progressChanged();
    });
    connect(engine_, &DownloadEngine::progressChanged, this, [this](const fm::downloads::DownloadProgress& progress) {
        progress_ = progress;
        emit progressChanged();
    });
    connect(engine_, &DownloadEngine::notice, this, &DownloadController::setMessage);
    connect(engine_, &DownloadEngine::failed, this,
            [this](const QString& message, fm::downloads::DownloadError) { setMessage(message); });
    connect(engine_, &DownloadEngine::finished, this, [this](const QString& snapshot) {
        snapshotPath_ = QDir::cleanPath(snapshot);
        setMessage(tr("Downloaded to %1").arg(QDir::toNativeSeparators(snapshotPath_)));
        refreshInterrupted();
        emit stateChanged();
        emit downloadFinished(snapshotPath_);
    });
    connect(engine_, &DownloadEngine::interruptedFound, this, [this](const QStringList& repos) {
        if (repos == interrupted_) return;
        interrupted_ = repos;
        emit interruptedChanged();
    });
    thread_.start();
    refreshInterrupted();
}

DownloadController::~DownloadController() {
    // The engine stops its transfers in its destructor, on its own thread; the .incomplete
    // files stay for the next start.
    thread_.quit();
    thread_.wait();
}

void DownloadController::onState(DownloadEngine::State state) {
    state_ = state;
    if (state == DownloadEngine::State::Cancelled) {
        plan_ = {};
        progress_ = {};
        setMessage(tr("Cancelled. What was downloaded stays in the cache and resumes next time."));
        refreshInterrupted();
        emit planChanged();
        emit progressChanged();
    } else if (state == DownloadEngine::State::Paused) {
        refreshInterrupted();
    }
    emit stateChanged();
}

QString DownloadController::state() const {
    switch (state_) {
    case DownloadEngine::State::Idle: return QStringLiteral("idle");
    case DownloadEngine::State::Inspecting: return QStringLiteral("inspecting");
    case DownloadEngine::State::Ready: return QStringLiteral("ready");
    case DownloadEngine::State::Downloading: return QStringLiteral("downloading");
    case DownloadEngine::State::Paused: return QStringLiteral("paused");
    case DownloadEngine::State::Finished: return QStringLiteral("finished");
    case DownloadEngine::State::Failed: return QStringLiteral("failed");
    case DownloadEngine::State::Cancelled: return QStringLiteral("cancelled");
    }
    return QStringLiteral("idle");
}

bool DownloadController::busy() const {
    return state_ == DownloadEngine::State::Inspecting || state_ == DownloadEngine::State::Downloading;
}

QVariantList DownloadController::catalog() const {
    // Sizes are the published ones, rounded; the exact size comes from the Hub on inspect.
    auto entry = [](const QString& repo, const QString& size, const QString& format, const QString& purpose) {
        return QVariantMap{{QStringLiteral("repoId"), repo},
                           {QStringLiteral("size"), size},
                           {QStringLiteral("format"), format},
                           {QStringLiteral("purpose"), purpose}};
    };
    return {
        entry(QStringLiteral("tiiuae/falcon-mamba-7b-instruct"), tr("about 14.5 GB"), tr("bf16 safetensors"),
              tr("Chat and following instructions: the one to start with on a GPU with 16 GB or more")),
        entry(QStringLiteral("tiiuae/falcon-mamba-7b-instruct-4bit"), tr("about 4 GB"), tr("4-bit bitsandbytes"),
              tr("Chat on smaller GPUs: the instruct model at a quarter of the memory")),
        entry(QStringLiteral("tiiuae/falcon-mamba-7b"), tr("about 14.5 GB"), tr("bf16 safetensors"),
              tr("The base model: continues text, for completion and fine-tuning rather than chat")),
        entry(QStringLiteral("tiiuae/falcon-mamba-7b-4bit"), tr("about 4 GB"), tr("4-bit bitsandbytes"),
              tr("The base model in 4 bits")),
    };
}

QVariantList DownloadController::files() const {
    QVariantList list;
    for (const auto& planned : plan_.files) {
        list.append(QVariantMap{{QStringLiteral("path"), planned.file.path},
                                {QStringLiteral("size"), planned.file.size},
                                {QStringLiteral("sizeText"), formatBytes(planned.file.size)},
                                {QStringLiteral("complete"), planned.complete},
                                {QStringLiteral("presentBytes"), planned.presentBytes}});
    }
    return list;
}

QString DownloadController::spaceText() const {
    if (plan_.commit.isEmpty()) return {};
    if (plan_.neededBytes == 0) return tr("All %1 are already in the cache.").arg(formatBytes(plan_.totalBytes));
    const QString free = plan_.availableBytes < 0 ? tr("unknown") : formatBytes(plan_.availableBytes);
    const QString text = tr("%1 to download (of %2); %3 free in %4")
                             .arg(formatBytes(plan_.neededBytes), formatBytes(plan_.totalBytes), free,
                                  QDir::toNativeSeparators(hub_.cacheDir));
    return plan_.enoughSpace()
               ? text
               : text + tr(": not enough, %1 are needed with the safety margin.").arg(formatBytes(plan_.requiredBytes));
}

double DownloadController::fraction() const {
    return progress_.totalBytes > 0 ? double(progress_.doneBytes) / double(progress_.totalBytes) : 0.0;
}

QString DownloadController::progressText() const {
    if (progress_.totalBytes == 0) return {};
    QString text = tr("%1 of %2").arg(formatBytes(progress_.doneBytes), formatBytes(progress_.totalBytes));
    if (state_ != DownloadEngine::State::Downloading) return text;
    if (progress_.bytesPerSecond > 0) text += tr(" · %1/s").arg(formatBytes(qint64(progress_.bytesPerSecond)));
    if (progress_.secondsLeft >= 0) {
        const qint64 seconds = qint64(std::ceil(progress_.secondsLeft));
        text += seconds >= 3600 ? tr(" · %1 h %2 min left").arg(seconds / 3600).arg((seconds % 3600) / 60)
                : seconds >= 60 ? tr(" · %1 min left").arg((seconds + 59) / 60)
                                : tr(" · %1 s left").arg(seconds);
    }
    return text;
}

void DownloadController::setCachePath(const QString& path) {
    if (path.isEmpty() || path == hub_.cacheDir || busy() || state_ == DownloadEngine::State::Paused) return;
    hub_.cacheDir = path;
    QMetaObject::invokeMethod(engine_, [engine = engine_, path] { engine->setCacheDir(path); });
    refreshInterrupted();
    emit cachePathChanged();
}

void DownloadController::inspect(const QString& repoId, const QString& revision) {
    setMessage({});
    QMetaObject::invokeMethod(engine_, [engine = engine_, repoId, revision] { engine->inspect(repoId, revision); });
}

void DownloadController::start(const QString& repoId, const QString& revision) {
    setMessage({});
    snapshotPath_.clear();
    if (repoId.isEmpty() && state_ == DownloadEngine::State::Ready) {
        QMetaObject::invokeMethod(engine_, [engine = engine_] { engine->resume(); });
        return;
    }
    const QString repo = repoId.isEmpty() ? plan_.repoId : repoId;
    QMetaObject::invokeMethod(engine_, [engine = engine_, repo, revision] { engine->download(repo, revision); });
}

void DownloadController::pause() {
    QMetaObject::invokeMethod(engine_, [engine = engine_] { engine->pause(); });
}

void DownloadController::resume() {
    setMessage({});
    QMetaObject::invokeMethod(engine_, [engine = engine_] { engine->resume(); });
}

void DownloadController::cancel() {
    QMetaObject::invokeMethod(engine_, [engine = engine_] { engine->cancel(); });
}

void DownloadController::refreshInterrupted() {
    // The cache is listed on the engine's thread: the GUI thread never waits on the disk.
    QMetaObject::invokeMethod(engine_, [engine = engine_] { engine->scanInterrupted(); });
}

QString DownloadController::formatBytes(qint64 bytes) const {
    return fm::downloads::formatBytes(bytes);
}

void DownloadController::setMessage(const QString& message) {
    if (message_ == message) return;
    message_ = message;
    emit messageChanged();
}

}  // namespace fm::app
