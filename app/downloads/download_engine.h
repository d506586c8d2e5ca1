#pragma once
// Downloads a checkpoint from the Hugging Face Hub into the hub cache (hub_cache.h) with
// Qt Network: the file list from the model API, then the files from their resolve URLs,
// several at once, each resumed from its .incomplete file with an HTTP Range request and
// verified (LFS files by sha256, the others by git blob sha1) before it becomes a blob.
// Transient failures (timeouts, resets, 5xx, 429) are retried with exponential backoff.
//
// The engine does its own disk writes and hashing, so it must live on a thread that is not the
// GUI thread: DownloadController moves it to one; the command-line tool runs it on its main
// thread. All slots are asynchronous; results come as signals.

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QString>
#include <deque>
#include <map>
#include <memory>
#include <utility>

#include "app/downloads/hub_cache.h"
#include "app/downloads/hub_protocol.h"

class QNetworkAccessManager;
class QNetworkReply;
class QTimer;

namespace fm::downloads {

// Free space, asked before a download starts: a seam so tests can play a full disk.
class FreeSpace {
public:
    virtual ~FreeSpace() = default;
    // Bytes available to this user on the file system that holds `path` (or its nearest
    // existing parent); -1 when unknown.
    virtual qint64 bytesAvailable(const QString& path) const;
};

struct PlannedFile {
    RepoFile file;
    qint64 presentBytes = 0;  // already in the cache: the whole size when complete
    bool complete = false;
};

struct DownloadPlan {
    QString repoId;
    QString revision;
    QString commit;
    QString snapshotDir;
    QList<PlannedFile> files;
    qint64 totalBytes = 0;
    qint64 presentBytes = 0;
    qint64 neededBytes = 0;    // still to transfer
    qint64 requiredBytes = 0;  // needed plus a safety margin
    qint64 availableBytes = -1;
    bool enoughSpace() const { return neededBytes == 0 || availableBytes < 0 || availableBytes >= requiredBytes; }
};

struct DownloadProgress {
    qint64 doneBytes = 0;
    qint64 totalBytes = 0;
    double bytesPerSecond = 0;
    double secondsLeft = -1;  // -1: not known yet
    int filesDone = 0;
    int filesTotal = 0;
};

enum class DownloadError {
    None,
    InvalidRequest,
    Offline,
    Unauthorized,
    NotFound,
    NoSpace,
    Network,
    Verification,
    Disk,
    Server
};

struct DownloadOptions {
    int parallelFiles = 3;
    int maxRetries = 5;             // per file, for transient failures in a row
    int retryBaseDelayMs = 1000;    // doubled after each failure, at most 30 s
    int transferTimeoutMs = 30000;  // no byte for this long: the transfer is retried
    qint64 minimumSpaceMargin = qint64(256) << 20;
};

class DownloadEngine : public QObject {
    Q_OBJECT
public:
    enum class State { Idle, Inspecting, Ready, Downloading, Paused, Finished, Failed, Cancelled };
    Q_ENUM(State)

    explicit DownloadEngine(HubSettings hub, DownloadOptions options = {}, std::shared_ptr<const FreeSpace> space = {},
                            QObject* parent = nullptr);
    ~DownloadEngine() override;

    State state() const { return state_; }
    const DownloadPlan& plan() const { return plan_; }
    const HubSettings& hub() const { return hub_; }

public slots:
    // The file list, sizes and disk space, without downloading: planReady or failed.
    void inspect(const QString& repoId, const QString& revision);
    // inspect, then download what is missing: finished or failed.
    void download(const QString& repoId, const QString& revision);
    // Stops the transfers, keeping every .incomplete file for resume().
    void pause();
    void resume();
    // Like pause, but forgets the plan; a later download() resumes from the same files.
    void cancel();
    // Another hub cache, for the downloads that start after this; ignored while one runs.
    void setCacheDir(const QString& cacheDir);
    // Lists the repositories with interrupted downloads in the cache: interruptedFound.
    void scanInterrupted();

signals:
    void stateChanged(fm::downloads::DownloadEngine::State state);
    void planReady(const fm::downloads::DownloadPlan& plan);
    void progressChanged(const fm::downloads::DownloadProgress& progress);
    // A retry, a re-fetch after a failed check: for the log, not an error.
    void notice(const QString& message);
    void finished(const QString& snapshotDir);
    void interruptedFound(const QStringList& repoIds);
    void failed(const QString& message, fm::downloads::DownloadError kind);

private:
    struct Transfer;

    QNetworkAccessManager* network();
    void setState(State state);
    void fail(DownloadError kind, const QString& message);
    void requestInfo();
    void onInfoFinished(QNetworkReply* reply);
    void makePlan(const RepoInfo& info);
    void refreshPresentBytes();
    void beginTransfers();
    void pump();
    void startFile(int index);
    void sendFileRequest(Transfer* transfer);
    void onFileData(Transfer* transfer);
    void onFileFinished(Transfer* transfer);
    void retryFile(Transfer* transfer, DownloadError kind, const QString& reason);
    void restartFromZero(Transfer* transfer);
    void completeFile(Transfer* transfer);
    void finishSnapshot();
    void stopTransfers();
    void emitProgress();
    int retryDelayMs(int attempt) const;

    HubSettings hub_;
    DownloadOptions options_;
    std::shared_ptr<const FreeSpace> space_;
    HubCache cache_;
    QNetworkAccessManager* network_ = nullptr;
    QTimer* progressTimer_ = nullptr;
    State state_ = State::Idle;
    DownloadPlan plan_;
    bool downloadAfterPlan_ = false;
    QNetworkReply* infoReply_ = nullptr;
    QUrl infoUrl_;
    int infoAttempts_ = 0;
    int infoRedirects_ = 0;
    std::map<int, std::unique_ptr<Transfer>> active_;
    QList<int> queue_;
    quint64 generation_ = 0;  // bumped by pause and cancel: pending retries of older runs drop out
    QElapsedTimer clock_;
    qint64 receivedThisRun_ = 0;
    std::deque<std::pair<qint64, qint64>> speedSamples_;  // (ms, receivedThisRun_)
};

}  // namespace fm::downloads

Q_DECLARE_METATYPE(fm::downloads::DownloadPlan)
Q_DECLARE_METATYPE(fm::downloads::DownloadProgress)
Q_DECLARE_METATYPE(fm::downloads::DownloadError)
