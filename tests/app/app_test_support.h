#pragma once
// Shared by the app tests: the tiny chat fixture, temporary app environments, waiting helpers.

#include <QDir>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "app/startup/app_environment.h"

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

}  // namespace fm::app::testing
