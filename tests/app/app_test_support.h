#pragma once
// Shared by the app tests: the tiny chat fixture, temporary app environments, waiting helpers.

#include <QAbstractItemModel>
#include <QDir>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include "app/startup/app_environment.h"
#include "app/worker/inference_worker.h"
#include "ui/models/message_list_model.h"

namespace fm::app::testing {

inline QString tinyChatDir() {
    return QStringLiteral(FM_TEST_DATA_DIR "/tiny-chat");
}

// An app environment inside `dir`: database, settings and an empty Hugging Face cache.
inline AppEnvironment environmentIn(const QTemporaryDir& dir) {
    AppEnvironment env;
    env.dataDir = dir.filePath(QStringLiteral("data"));
    env.settingsFile = dir.filePath(QStringLiteral("settings.ini"));
    env.hubCacheDir = dir.filePath(QStringLiteral("hub"));
    QDir().mkpath(env.hubCacheDir);
    return env;
}

// Waits until `spy` has at least `count` emissions in total. For signals emitted on another
// thread: QSignalSpy::wait() only waits for one more than it saw when called, so a signal
// that arrives before the call would be missed (the spy records it on the emitting thread).
inline bool waitForCount(QSignalSpy& spy, int count, int timeoutMs) {
    QElapsedTimer timer;
    timer.start();
    while (spy.count() < count && timer.elapsed() < timeoutMs) spy.wait(20);
    return spy.count() >= count;
}
inline bool waitForSignal(QSignalSpy& spy, int timeoutMs) {
    return waitForCount(spy, 1, timeoutMs);
}

// What `model` holds for `role` in `row` (a list model: column 0, no parent).
inline QVariant dataAt(const QAbstractItemModel* model, int row, int role) {
    return model->data(model->index(row, 0), role);
}

// The text of the message in `row` of a chat's message list.
inline QString messageContent(const fm::MessageListModel* messages, int row) {
    return dataAt(messages, row, fm::MessageListModel::ContentRole).toString();
}

// An inference worker on its own thread, as AppController runs it; stopped and gone with this.
struct WorkerHost {
    QThread thread;
    InferenceWorker* worker = nullptr;

    WorkerHost() {
        worker = new InferenceWorker;
        worker->moveToThread(&thread);
        QObject::connect(&thread, &QThread::finished, worker, &QObject::deleteLater);
        thread.start();
    }
    ~WorkerHost() {
        worker->requestStopAll();
        thread.quit();
        thread.wait();
    }
    // Everything queued before has run (the worker handles its queue in order).
    void sync() {
        QMetaObject::invokeMethod(
            worker, [] {}, Qt::BlockingQueuedConnection);
    }
};

}  // namespace fm::app::testing
