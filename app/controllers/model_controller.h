#pragma once
// The model page: choosing a checkpoint (checked before loading), the backend and the weight
// format, loading with progress and cancel, and what is loaded now. Loading runs on the
// inference worker; this object only sends requests and shows the answers.

#include <QtQml/qqmlregistration.h>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QVariantMap>

#include "app/controllers/checkpoint_list_model.h"
#include "app/worker/inference_types.h"

namespace fm::app {

class InferenceWorker;
class UiSettings;

class ModelController : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("ModelController is provided by AppController")
    Q_PROPERTY(Status status READ status NOTIFY statusChanged)
    Q_PROPERTY(bool loaded READ isLoaded NOTIFY statusChanged)
    Q_PROPERTY(bool loading READ isLoading NOTIFY statusChanged)
    Q_PROPERTY(double progress READ progress NOTIFY progressChanged)
    Q_PROPERTY(QString errorMessage READ errorMessage NOTIFY statusChanged)
    Q_PROPERTY(QString loadingPath READ loadingPath NOTIFY statusChanged)

    Q_PROPERTY(QString modelName READ modelName NOTIFY modelChanged)
    Q_PROPERTY(QString modelPath READ modelPath NOTIFY modelChanged)
    Q_PROPERTY(QString backendName READ backendName NOTIFY modelChanged)
    Q_PROPERTY(QString fallbackReason READ fallbackReason NOTIFY modelChanged)
    Q_PROPERTY(bool checkpointIsChat READ checkpointIsChat NOTIFY modelChanged)
    Q_PROPERTY(bool quantizedModel READ quantizedModel NOTIFY modelChanged)
    Q_PROPERTY(qint64 parameterCount READ parameterCount NOTIFY modelChanged)

    Q_PROPERTY(bool cudaAvailable READ cudaAvailable CONSTANT)
    Q_PROPERTY(QString cudaReason READ cudaReason CONSTANT)
    Q_PROPERTY(QString cudaDevice READ cudaDevice CONSTANT)
    // "auto", "cpu" or "cuda", and bf16 vs 4-bit: used by the next load, remembered.
    Q_PROPERTY(QString backend READ backend WRITE setBackend NOTIFY optionsChanged)
    Q_PROPERTY(bool quantize4bit READ quantize4bit WRITE setQuantize4bit NOTIFY optionsChanged)
    // CPU threads for the next load: 0 = one per physical core (defaultCpuThreads).
    Q_PROPERTY(int cpuThreads READ cpuThreads WRITE setCpuThreads NOTIFY optionsChanged)
    Q_PROPERTY(int defaultCpuThreads READ defaultCpuThreads CONSTANT)

    Q_PROPERTY(CheckpointListModel* recentModels READ recentModels CONSTANT)
    Q_PROPERTY(CheckpointListModel* hubModels READ hubModels CONSTANT)
    Q_PROPERTY(QString hubCachePath READ hubCachePath CONSTANT)
    Q_PROPERTY(bool scanning READ scanning NOTIFY scanningChanged)

public:
    enum class Status { NoModel, Loading, Ready, Failed };
    Q_ENUM(Status)

    ModelController(InferenceWorker* worker, UiSettings* settings, const QString& hubCachePath,
                    QObject* parent = nullptr);

    Status status() const { return status_; }
    bool isLoaded() const { return status_ == Status::Ready; }
    bool isLoading() const { return status_ == Status::Loading; }
    double progress() const { return progress_; }
    QString errorMessage() const { return errorMessage_; }
    QString loadingPath() const { return loadingPath_; }

    QString modelName() const { return info_.displayName; }
    QString modelPath() const { return info_.checkpointDir; }
    QString backendName() const { return info_.backendName; }
    QString fallbackReason() const { return info_.fallbackReason; }
    bool checkpointIsChat() const { return info_.chatTemplate; }
    bool quantizedModel() const { return info_.quantized4bit; }
    qint64 parameterCount() const { return info_.parameterCount; }
    const LoadedModelInfo& info() const { return info_; }

    bool cudaAvailable() const { return cudaAvailable_; }
    QString cudaReason() const { return cudaReason_; }
    QString cudaDevice() const { return cudaDevice_; }
    QString backend() const { return backend_; }
    void setBackend(const QString& backend);
    bool quantize4bit() const { return quantize4bit_; }
    void setQuantize4bit(bool on);
    int cpuThreads() const { return cpuThreads_; }
    void setCpuThreads(int threads);
    static int defaultCpuThreads();

    CheckpointListModel* recentModels() { return &recentModels_; }
    CheckpointListModel* hubModels() { return &hubModels_; }
    QString hubCachePath() const { return hubCachePath_; }
    bool scanning() const { return scanning_; }

    // {ok: bool, message: string}: what is wrong with a folder (a path or a file:// URL).
    Q_INVOKABLE QVariantMap checkFolder(const QString& pathOrUrl) const;
    // Checks, then asks the worker to load. False (with errorMessage set) if the check failed.
    Q_INVOKABLE bool load(const QString& pathOrUrl);
    Q_INVOKABLE void cancelLoad();
    Q_INVOKABLE void unload();
    Q_INVOKABLE void refreshHubModels();
    Q_INVOKABLE void forgetRecent(const QString& path);
    Q_INVOKABLE void dismissError();

    static QString localPath(const QString& pathOrUrl);

signals:
    void statusChanged();
    void progressChanged();
    void modelChanged();
    void optionsChanged();
    void scanningChanged();
    void modelReady();
    void loadFailed(const QString& error);

private:
    void onLoadProgress(double fraction);
    void onModelLoaded(const fm::app::LoadedModelInfo& info);
    void onLoadFailed(const QString& error, bool cancelled);
    void onModelUnloaded();
    void updateRecentModels();
    void setStatus(Status status, const QString& error = {});

    QPointer<InferenceWorker> worker_;
    UiSettings* settings_;
    Status status_ = Status::NoModel;
    double progress_ = 0;
    QString errorMessage_;
    QString loadingPath_;
    LoadedModelInfo info_;
    bool cudaAvailable_ = false;
    QString cudaReason_;
    QString cudaDevice_;
    QString backend_ = QStringLiteral("auto");
    bool quantize4bit_ = false;
    int cpuThreads_ = 0;
    CheckpointListModel recentModels_;
    CheckpointListModel hubModels_;
    QString hubCachePath_;
    bool scanning_ = false;
};

}  // namespace fm::app
