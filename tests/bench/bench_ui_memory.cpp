// bench_ui_memory: the window's resident memory over a long session, offscreen, on the tiny
// chat model. Prints JSON: RSS after reply 10 and after reply 200 of one conversation, and
// before and after 50 conversation switches (after 5 to warm up). The model's own memory is
// flat by construction (a fixed-size recurrent state); this measures everything else: list
// delegates, text layouts, the SQLite cache, the allocator.
//
//   bench_ui_memory [--replies N] [--switches N]    (QT_QPA_PLATFORM=offscreen is set if unset)

#include <QDir>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQuickWindow>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <cstdio>

#include "app/controllers/app_controller.h"
#include "app/process_memory.h"
#include "app/qml_engine_setup.h"
#include "app/qml_plugins.h"

using namespace fm::app;

namespace {

double mib(qint64 bytes) {
    return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

// RSS once the window has settled (rendered, deferred deletes run).
qint64 settledResident() {
    QTest::qWait(100);
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    QTest::qWait(50);
    return residentBytes();
}

}  // namespace

int main(int argc, char* argv[]) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    int replies = 200;
    int switches = 50;
    for (int i = 1; i + 1 < argc; i += 2) {
        const QByteArray flag = argv[i];
        if (flag == "--replies")
            replies = std::max(11, std::atoi(argv[i + 1]));
        else if (flag == "--switches")
            switches = std::max(6, std::atoi(argv[i + 1]));
    }
    setUpQuickControlsStyle();
    QGuiApplication application(argc, argv);
    QStandardPaths::setTestModeEnabled(true);
    importStaticQmlPlugins();

    QTemporaryDir dir;
    AppEnvironment env;
    env.dataDir = dir.filePath(QStringLiteral("data"));
    env.settingsFile = dir.filePath(QStringLiteral("settings.ini"));
    env.hubCacheDir = dir.filePath(QStringLiteral("hub"));
    QDir().mkpath(env.hubCacheDir);

    AppController app(env);
    QQmlApplicationEngine engine;
    setUpQmlEngine(engine);
    engine.setInitialProperties({{QStringLiteral("app"), QVariant::fromValue(&app)}});
    engine.load(mainWindowUrl());
    if (engine.rootObjects().isEmpty()) {
        std::fprintf(stderr, "the window did not load\n");
        return 1;
    }
    auto* window = qobject_cast<QQuickWindow*>(engine.rootObjects().first());
    window->resize(1280, 820);
    if (!QTest::qWaitForWindowExposed(window)) std::fprintf(stderr, "the window was not exposed\n");

    QSignalSpy ready(app.models(), &ModelController::modelReady);
    app.models()->setBackend(QStringLiteral("cpu"));
    app.models()->load(QStringLiteral(FM_TEST_DATA_DIR "/tiny-chat"));
    if (!ready.wait(60000)) {
        std::fprintf(stderr, "the tiny chat model did not load\n");
        return 1;
    }
    app.chatSettings()->change({.temperature = 0, .maxNewTokens = 24});

    // One conversation, `replies` turns of Markdown-ish questions.
    QSignalSpy saved(app.chat(), &ChatController::replySaved);
    qint64 afterReply10 = 0;
    QList<qint64> conversations;
    for (int turn = 1; turn <= replies; ++turn) {
        saved.clear();
        const QString question =
            QStringLiteral(
                "Question %1: explain **state-space models** with a table\n\n| a | b |\n|---|---|\n| %1 | %2 |")
                .arg(turn)
                .arg(turn * 2);
        if (!app.chat()->send(question) || !saved.wait(60000)) {
            std::fprintf(stderr, "reply %d did not finish\n", turn);
            return 1;
        }
        if (turn == 1) conversations << app.conversations()->currentConversationId();
        if (turn == 10) afterReply10 = settledResident();
    }
    const qint64 afterLastReply = settledResident();

    // A few more conversations to switch between.
    for (int c = 0; c < 4; ++c) {
        app.conversations()->newConversation();
        for (int turn = 0; turn < 5; ++turn) {
            saved.clear();
            if (!app.chat()->send(QStringLiteral("Chat %1, turn %2").arg(c).arg(turn)) || !saved.wait(60000)) return 1;
        }
        conversations << app.conversations()->currentConversationId();
    }
    qint64 afterWarmSwitches = 0;
    for (int s = 1; s <= switches; ++s) {
        app.conversations()->selectConversation(conversations.at(s % conversations.size()));
        QTest::qWait(30);
        if (s == 5) afterWarmSwitches = settledResident();
    }
    const qint64 afterSwitches = settledResident();

    const double replyGrowth = mib(afterLastReply - afterReply10);
    const double switchGrowth = mib(afterSwitches - afterWarmSwitches);
    std::printf(
        "{\n  \"replies\": %d,\n  \"rss_after_reply_10_mib\": %.1f,\n  \"rss_after_reply_%d_mib\": %.1f,\n"
        "  \"growth_replies_mib\": %.1f,\n  \"switches\": %d,\n  \"rss_after_switch_5_mib\": %.1f,\n"
        "  \"rss_after_switch_%d_mib\": %.1f,\n  \"growth_switches_mib\": %.1f,\n  \"limit_mib\": 16,\n"
        "  \"within_limit\": %s\n}\n",
        replies, mib(afterReply10), replies, mib(afterLastReply), replyGrowth, switches, mib(afterWarmSwitches),
        switches, mib(afterSwitches), switchGrowth, replyGrowth <= 16.0 && switchGrowth <= 16.0 ? "true" : "false");
    return 0;
}
