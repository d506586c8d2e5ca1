#pragma once
// Shared by the app tests: the tiny chat fixture, temporary app environments, waiting helpers.

#include <QDir>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "app/app_environment.h"

namespace fm::app::testing {

inline QString tinyChatDir() { return QStringLiteral(FM_TEST_DATA_DIR "/tiny-chat"); }

// An app environment inside `dir`: database, settings and an empty Hugging Face cache.
inline AppEnvironment environmentIn(const QTemporaryDir& dir) {
    AppEnvironment env;
    env.dataDir = dir.filePath(QStringLiteral("data"));
    env.settingsFile = dir.filePath(QStringLiteral("settings.ini"));
    env.hubCacheDir = dir.filePath(QStringLiteral("hub"));
    QDir().mkpath(env.hubCacheDir);
    return env;
}

// Waits for at least `count` emissions in total (QSignalSpy::wait only waits for one more).
inline bool waitForCount(QSignalSpy& spy, int count, int timeoutMs) {
    QElapsedTimer timer;
    timer.start();
    while (spy.count() < count && timer.elapsed() < timeoutMs) spy.wait(std::max<int>(1, timeoutMs - int(timer.elapsed())));
    return spy.count() >= count;
}

}  // namespace fm::app::testing
