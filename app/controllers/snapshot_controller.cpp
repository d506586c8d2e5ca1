#include "app/controllers/snapshot_controller.h"

#include <QLocale>

#include "app/storage/conversation_store.h"
#include "app/storage/snapshot_store.h"
#include "app/worker/inference_worker.h"
#include "app/worker/queued_call.h"

namespace fm::app {

const QString SnapshotController::kRetentionSettingKey = QStringLiteral("snapshots.retention_conversations");

SnapshotController::SnapshotController(fm::ConversationStore* store, InferenceWorker* worker, const QString& directory,
                                       QObject* parent)
    : QObject(parent),
      store_(store),
      worker_(worker),
      directory_(directory),
      retention_(fm::SnapshotStore::kDefaultRetentionConversations) {
    if (store_) {
        if (auto saved = store_->setting(kRetentionSettingKey); saved && saved->has_value()) {
            bool ok = false;
            const int value = (*saved)->toInt(&ok);
            if (ok) retention_ = qBound(0, value, kMaxRetention);
        }
    }
    if (worker_) {
        connect(worker_, &InferenceWorker::snapshotUsage, this, &SnapshotController::onUsage, Qt::QueuedConnection);
        connect(worker_, &InferenceWorker::snapshotWarning, this, &SnapshotController::onWarning, Qt::QueuedConnection);
    }
}

void SnapshotController::start(const QString& databasePath) {
    if (!worker_ || !store_) return;
    callOnItsThread(worker_, [databasePath, directory = directory_, keep = retention_](InferenceWorker* worker) {
        worker->openSnapshots(databasePath, directory, keep);
    });
}

void SnapshotController::setRetentionConversations(int conversations) {
    conversations = qBound(0, conversations, kMaxRetention);
    if (conversations == retention_) return;
    retention_ = conversations;
    if (store_) {
        if (auto status = store_->setSetting(kRetentionSettingKey, QString::number(conversations)); !status)
            onWarning(errorText(status));
    }
    emit retentionChanged();
    if (worker_) {
        callOnItsThread(worker_,
                        [conversations](InferenceWorker* worker) { worker->setSnapshotRetention(conversations); });
    }
}

QString SnapshotController::diskUsageText() const {
    const QString size = QLocale().formattedDataSize(usageBytes_, 1, QLocale::DataSizeIecFormat);
    return fileCount_ == 1 ? tr("%1 in 1 saved state").arg(size)
                           : tr("%1 in %2 saved states").arg(size).arg(fileCount_);
}

void SnapshotController::refreshUsage() {
    if (!worker_) return;
    callOnItsThread(worker_, [](InferenceWorker* worker) { worker->reportSnapshotUsage(); });
}

void SnapshotController::dismissWarning() {
    if (lastWarning_.isEmpty()) return;
    lastWarning_.clear();
    emit warningChanged();
}

void SnapshotController::onUsage(qint64 bytes, int files) {
    if (bytes == usageBytes_ && files == fileCount_) return;
    usageBytes_ = bytes;
    fileCount_ = files;
    emit usageChanged();
}

void SnapshotController::onWarning(const QString& message) {
    lastWarning_ = message;
    emit warningChanged();
}

}  // namespace fm::app
