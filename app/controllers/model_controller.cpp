#include "app/controllers/model_controller.h"

#include "kernels/cpu/thread_pool.h"

#include <algorithm>

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QThreadPool>
#include <QUrl>

#include "app/controllers/ui_settings.h"
#include "app/worker/inference_worker.h"
#include "app/worker/queued_call.h"
#include "inference/backends/backend.h"

namespace fm::app {
namespace {
const QString kBackend = QStringLiteral("models/backend");
const QString kQuantize = QStringLiteral("models/quantize4bit");
const QString kCpuThreads = QStringLiteral("models/cpuThreads");
constexpr int kMaxCpuThreads = 256;

BackendChoiceKind backendKind(const QString& name) {
    if (name == QStringLiteral("cpu")) return BackendChoiceKind::Cpu;
    if (name == QStringLiteral("cuda")) return BackendChoiceKind::Cuda;
    return BackendChoiceKind::Auto;
}
}  // namespace

ModelController::ModelController(InferenceWorker* worker, UiSettings* settings, const QString& hubCachePath,
                                 QObject* parent)
    : QObject(parent), worker_(worker), settings_(settings), hubCachePath_(hubCachePath) {
    const fm::CudaAvailability cuda = fm::cuda_availability();
    cudaAvailable_ = cuda.available;
    cudaReason_ = QString::fromStdString(cuda.reason);
    cudaDevice_ = QString::fromStdString(cuda.device_name);
    backend_ = settings_->settings().value(kBackend, QStringLiteral("auto")).toString();
    if (backend_ != QStringLiteral("cpu") && backend_ != QStringLiteral("cuda")) backend_ = QStringLiteral("auto");
    quantize4bit_ = settings_->settings().value(kQuantize, false).toBool();
    cpuThreads_ = std::clamp(settings_->settings().value(kCpuThreads, 0).toInt(), 0, kMaxCpuThreads);

    if (worker_) {
        // Queued: the worker lives on its own thread; these run on ours.
        connect(worker_, &InferenceWorker::loadProgress, this, &ModelController::onLoadProgress, Qt::QueuedConnection);
        connect(worker_, &InferenceWorker::modelLoaded, this, &ModelController::onModelLoaded, Qt::QueuedConnection);
        connect(worker_, &InferenceWorker::loadFailed, this, &ModelController::onLoadFailed, Qt::QueuedConnection);
        connect(worker_, &InferenceWorker::modelUnloaded, this, &ModelController::onModelUnloaded,
                Qt::QueuedConnection);
    }
    connect(settings_, &UiSettings::recentModelsChanged, this, &ModelController::updateRecentModels);
    updateRecentModels();
}

QString ModelController::localPath(const QString& pathOrUrl) {
    const QUrl url(pathOrUrl);
    if (url.isLocalFile()) return QDir::cleanPath(url.toLocalFile());
    if (pathOrUrl.isEmpty()) return {};
    return QDir::cleanPath(QDir::current().absoluteFilePath(pathOrUrl));
}

QVariantMap ModelController::checkFolder(const QString& pathOrUrl) const {
    const CheckpointCheck check = checkCheckpointFolder(localPath(pathOrUrl));
    return {{QStringLiteral("ok"), check.ok}, {QStringLiteral("message"), check.message}};
}

void ModelController::setStatus(Status status, const QString& error) {
    status_ = status;
    errorMessage_ = error;
    emit statusChanged();
}

bool ModelController::load(const QString& pathOrUrl) {
    const QString path = localPath(pathOrUrl);
    const CheckpointCheck check = checkCheckpointFolder(path);
    if (!check.ok) {
        // A model that is loaded stays loaded: only say what is wrong with the new folder.
        setStatus(status_ == Status::Ready || status_ == Status::Loading ? status_ : Status::Failed, check.message);
        emit loadFailed(check.message);
        return false;
    }
    if (!worker_) {
        setStatus(Status::Failed, QStringLiteral("The inference thread is not running."));
        return false;
    }
    ModelLoadRequest request;
    request.checkpointDir = path;
    request.backend = backendKind(backend_);
    request.quantize4bit = quantize4bit_;
    request.cpuThreads = cpuThreads_;
    progress_ = 0;
    emit progressChanged();
    loadingPath_ = path;
    // The worker drops the old model before loading: the app shows "no model" until done.
    if (!info_.checkpointDir.isEmpty()) {
        info_ = {};
        emit modelChanged();
    }
    setStatus(Status::Loading);
    callOnItsThread(worker_, [request](InferenceWorker* worker) { worker->loadModel(request); });
    return true;
}

void ModelController::cancelLoad() {
    if (worker_ && status_ == Status::Loading) worker_->requestCancelLoad();  // thread-safe
}

void ModelController::unload() {
    if (!worker_) return;
    callOnItsThread(worker_, [](InferenceWorker* worker) { worker->unloadModel(); });
}

void ModelController::dismissError() {
    if (errorMessage_.isEmpty()) return;
    setStatus(status_ == Status::Failed ? Status::NoModel : status_);
}

void ModelController::onLoadProgress(double fraction) {
    progress_ = fraction;
    emit progressChanged();
}

void ModelController::onModelLoaded(const LoadedModelInfo& info) {
    info_ = info;
    loadingPath_.clear();
    settings_->addRecentModel(info.checkpointDir);
    emit modelChanged();
    setStatus(Status::Ready);
    emit modelReady();
}

void ModelController::onLoadFailed(const QString& error, bool cancelled) {
    loadingPath_.clear();
    info_ = {};
    emit modelChanged();
    setStatus(cancelled ? Status::NoModel : Status::Failed, cancelled ? QString() : error);
    if (!cancelled) emit loadFailed(error);
}

void ModelController::onModelUnloaded() {
    info_ = {};
    emit modelChanged();
    setStatus(Status::NoModel);
}

void ModelController::setBackend(const QString& backend) {
    const QString valid =
        (backend == QStringLiteral("cpu") || backend == QStringLiteral("cuda")) ? backend : QStringLiteral("auto");
    if (valid == backend_) return;
    backend_ = valid;
    settings_->settings().setValue(kBackend, backend_);
    emit optionsChanged();
}

void ModelController::setQuantize4bit(bool on) {
    if (on == quantize4bit_) return;
    quantize4bit_ = on;
    settings_->settings().setValue(kQuantize, on);
    emit optionsChanged();
}

void ModelController::setCpuThreads(int threads) {
    threads = std::clamp(threads, 0, kMaxCpuThreads);
    if (threads == cpuThreads_) return;
    cpuThreads_ = threads;
    settings_->settings().setValue(kCpuThreads, threads);
    emit optionsChanged();
}

int ModelController::defaultCpuThreads() {
    return fm::ThreadPool::default_threads();
}

void ModelController::forgetRecent(const QString& path) {
    settings_->removeRecentModel(path);
}

void ModelController::updateRecentModels() {
    QList<FoundCheckpoint> rows;
    for (const QString& path : settings_->recentModels()) {
        // Folders that vanished (a deleted cache entry) are still listed: the load check says why.
        rows.append(
            {path, checkpointDisplayName(path), QFileInfo::exists(path) ? QString() : QStringLiteral("missing")});
    }
    recentModels_.setCheckpoints(rows);
}

void ModelController::refreshHubModels() {
    if (scanning_) return;
    scanning_ = true;
    emit scanningChanged();
    // A big cache means many directory listings and config reads: not on the GUI thread.
    QPointer<ModelController> self(this);
    const QString cache = hubCachePath_;
    QThreadPool::globalInstance()->start([self, cache] {
        QList<FoundCheckpoint> found = findHubCheckpoints(cache);
        // Hop back through the application object (alive until exit); `self` is only
        // looked at on the GUI thread, where it may have been destroyed meanwhile.
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, found] {
                if (!self) return;
                self->hubModels_.setCheckpoints(found);
                self->scanning_ = false;
                emit self->scanningChanged();
            },
            Qt::QueuedConnection);
    });
}

}  // namespace fm::app
