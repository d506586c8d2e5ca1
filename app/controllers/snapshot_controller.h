#pragma once
// Saved conversation states ("instant resume") as the settings and memory panels show them:
// how many recent conversations keep their state (a setting, remembered in the database), the
// disk space the states use, and the last warning about one. The states themselves are read
// and written by the inference worker (SessionResumer); this object only sends it the setting
// and hears back the usage, through queued calls and signals.

#include <QtQml/qqmlregistration.h>
#include <QObject>
#include <QPointer>
#include <QString>

namespace fm {
class ConversationStore;
}

namespace fm::app {

class InferenceWorker;

class SnapshotController : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("SnapshotController is provided by AppController")
    // States are kept for this many of the most recently active conversations; 0 keeps none.
    Q_PROPERTY(
        int retentionConversations READ retentionConversations WRITE setRetentionConversations NOTIFY retentionChanged)
    Q_PROPERTY(qint64 diskUsageBytes READ diskUsageBytes NOTIFY usageChanged)
    Q_PROPERTY(int fileCount READ fileCount NOTIFY usageChanged)
    Q_PROPERTY(QString diskUsageText READ diskUsageText NOTIFY usageChanged)
    Q_PROPERTY(QString directory READ directory CONSTANT)
    Q_PROPERTY(QString lastWarning READ lastWarning NOTIFY warningChanged)

public:
    static constexpr int kMaxRetention = 1000;
    static const QString kRetentionSettingKey;

    // `store` (GUI thread) keeps the setting; may be null (no database: nothing is kept).
    SnapshotController(fm::ConversationStore* store, InferenceWorker* worker, const QString& directory,
                       QObject* parent = nullptr);

    // Tells the worker to open its snapshot store on `databasePath` (its own connection).
    void start(const QString& databasePath);

    int retentionConversations() const { return retention_; }
    void setRetentionConversations(int conversations);
    qint64 diskUsageBytes() const { return usageBytes_; }
    int fileCount() const { return fileCount_; }
    QString diskUsageText() const;
    QString directory() const { return directory_; }
    QString lastWarning() const { return lastWarning_; }

    Q_INVOKABLE void refreshUsage();
    Q_INVOKABLE void dismissWarning();

signals:
    void retentionChanged();
    void usageChanged();
    void warningChanged();

private:
    void onUsage(qint64 bytes, int files);
    void onWarning(const QString& message);

    fm::ConversationStore* store_;
    QPointer<InferenceWorker> worker_;
    QString directory_;
    int retention_;
    qint64 usageBytes_ = 0;
    int fileCount_ = 0;
    QString lastWarning_;
};

}  // namespace fm::app
