#pragma once
// The "Get models" view's controller: a DownloadEngine on a thread of its own (network, disk
// writes and hashing never run on the GUI thread), its plan and progress as QML properties,
// and the Falcon Mamba checkpoints the view offers.

#include <QObject>
#include <QQmlEngine>
#include <QThread>
#include <QVariantList>
#include <memory>

#include "app/downloads/download_engine.h"

namespace fm::app {

class DownloadController : public QObject {
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(QString state READ state NOTIFY stateChanged)
    Q_PROPERTY(bool busy READ busy NOTIFY stateChanged)
    Q_PROPERTY(QVariantList catalog READ catalog CONSTANT)
    // The hub cache downloads go to: the environment's (HF_HUB_CACHE...) unless the app sets
    // the one its model scan uses.
    Q_PROPERTY(QString cachePath READ cachePath WRITE setCachePath NOTIFY cachePathChanged)
    Q_PROPERTY(QString repoId READ repoId NOTIFY planChanged)
    Q_PROPERTY(QString revision READ revision NOTIFY planChanged)
    Q_PROPERTY(QVariantList files READ files NOTIFY planChanged)
    Q_PROPERTY(qint64 totalBytes READ totalBytes NOTIFY planChanged)
    Q_PROPERTY(qint64 neededBytes READ neededBytes NOTIFY planChanged)
    Q_PROPERTY(qint64 availableBytes READ availableBytes NOTIFY planChanged)
    Q_PROPERTY(bool enoughSpace READ enoughSpace NOTIFY planChanged)
    Q_PROPERTY(QString spaceText READ spaceText NOTIFY planChanged)
    Q_PROPERTY(qint64 doneBytes READ doneBytes NOTIFY progressChanged)
    Q_PROPERTY(double fraction READ fraction NOTIFY progressChanged)
    Q_PROPERTY(double bytesPerSecond READ bytesPerSecond NOTIFY progressChanged)
    Q_PROPERTY(QString progressText READ progressText NOTIFY progressChanged)
    Q_PROPERTY(QString message READ message NOTIFY messageChanged)
    Q_PROPERTY(QString snapshotPath READ snapshotPath NOTIFY stateChanged)
    Q_PROPERTY(QStringList interrupted READ interrupted NOTIFY interruptedChanged)

public:
    // Hub, cache and token from the environment (HF_ENDPOINT, HF_HUB_CACHE, HF_TOKEN...).
    explicit DownloadController(QObject* parent = nullptr);
    DownloadController(fm::downloads::HubSettings hub, fm::downloads::DownloadOptions options,
                       std::shared_ptr<const fm::downloads::FreeSpace> space, QObject* parent = nullptr);
    ~DownloadController() override;

    QString state() const;
    bool busy() const;
    QVariantList catalog() const;
    QString cachePath() const { return hub_.cacheDir; }
    void setCachePath(const QString& path);
    QString repoId() const { return plan_.repoId; }
    QString revision() const { return plan_.revision; }
    QVariantList files() const;
    qint64 totalBytes() const { return plan_.totalBytes; }
    qint64 neededBytes() const { return plan_.neededBytes; }
    qint64 availableBytes() const { return plan_.availableBytes; }
    bool enoughSpace() const { return plan_.enoughSpace(); }
    QString spaceText() const;
    qint64 doneBytes() const { return progress_.doneBytes; }
    double fraction() const;
    double bytesPerSecond() const { return progress_.bytesPerSecond; }
    QString progressText() const;
    QString message() const { return message_; }
    QString snapshotPath() const { return snapshotPath_; }
    QStringList interrupted() const { return interrupted_; }

    // The file list and disk space of a repository, without downloading.
    Q_INVOKABLE void inspect(const QString& repoId, const QString& revision = QStringLiteral("main"));
    // Downloads the inspected repository, or inspects and downloads `repoId` when given.
    Q_INVOKABLE void start(const QString& repoId = QString(), const QString& revision = QStringLiteral("main"));
    Q_INVOKABLE void pause();
    Q_INVOKABLE void resume();
    Q_INVOKABLE void cancel();
    Q_INVOKABLE void refreshInterrupted();
    Q_INVOKABLE QString formatBytes(qint64 bytes) const;

signals:
    void stateChanged();
    void planChanged();
    void progressChanged();
    void messageChanged();
    void interruptedChanged();
    void cachePathChanged();
    void downloadFinished(const QString& snapshotPath);

private:
    void setMessage(const QString& message);
    void onState(fm::downloads::DownloadEngine::State state);

    fm::downloads::HubSettings hub_;
    QThread thread_;
    fm::downloads::DownloadEngine* engine_ = nullptr;  // lives on thread_
    fm::downloads::DownloadEngine::State state_ = fm::downloads::DownloadEngine::State::Idle;
    fm::downloads::DownloadPlan plan_;
    fm::downloads::DownloadProgress progress_;
    QString message_;
    QString snapshotPath_;
    QStringList interrupted_;
};

}  // namespace fm::app
