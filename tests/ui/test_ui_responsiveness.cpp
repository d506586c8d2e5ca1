// While a reply of a few hundred tokens streams into the real window, the GUI event loop
// never stalls: a 5 ms timer probe measures the longest gap between its ticks.

#include <QQmlApplicationEngine>
#include <QQuickWindow>
#include <QSignalSpy>
#include <QTest>

#include "app/controllers/app_controller.h"
#include "app/qml_engine_setup.h"
#include "app/qml_plugins.h"
#include "app/worker/inference_worker.h"
#include "tests/app/app_test_support.h"
#include "tests/app/token_pace.h"

using namespace fm::app;
using fm::app::testing::environmentIn;
using fm::app::testing::tinyChatDir;

class TestUiResponsiveness : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        importStaticQmlPlugins();
    }

    void eventLoopNeverStallsWhileGenerating_data() {
        QTest::addColumn<int>("tokens");
        QTest::addColumn<int>("tokenDelayMs");
        // Paced so that the reply streams for a second or more (the tiny model alone would
        // finish in a few milliseconds, before the probe could see anything).
        QTest::newRow("300 tokens, 5 ms each") << 300 << 5;
        QTest::newRow("1500 tokens, 1 ms each") << 1500 << 1;
    }
    void eventLoopNeverStallsWhileGenerating() {
        QFETCH(int, tokens);
        QFETCH(int, tokenDelayMs);
        QTemporaryDir dir;
        AppController app(environmentIn(dir));
        QQmlApplicationEngine engine;
        setUpQmlEngine(engine);
        engine.setInitialProperties({{QStringLiteral("app"), QVariant::fromValue(&app)}});
        engine.load(mainWindowUrl());
        QVERIFY(!engine.rootObjects().isEmpty());
        auto* window = qobject_cast<QQuickWindow*>(engine.rootObjects().first());
        QVERIFY(QTest::qWaitForWindowExposed(window));

        QSignalSpy ready(app.models(), &ModelController::modelReady);
        app.models()->setBackend(QStringLiteral("cpu"));
        QVERIFY(app.models()->load(tinyChatDir()));
        QVERIFY(ready.wait(30000));
        app.chatSettings()->change({.temperature = 0, .maxNewTokens = tokens});
        app.worker()->setTokenPacer(fm::app::testing::tokenPace(tokenDelayMs));

        // Warm up: the first reply creates the delegates and compiles the bindings.
        QSignalSpy saved(app.chat(), &ChatController::replySaved);
        QVERIFY(app.chat()->send(QStringLiteral("Warm up")));
        QVERIFY(saved.wait(60000));

        QElapsedTimer clock;
        qint64 last = 0;
        qint64 worst = 0;
        int ticks = 0;
        QTimer probe;
        probe.setTimerType(Qt::PreciseTimer);
        probe.setInterval(5);
        connect(&probe, &QTimer::timeout, this, [&] {
            const qint64 now = clock.nsecsElapsed();
            worst = std::max(worst, now - last);
            last = now;
            ++ticks;
        });

        saved.clear();
        QSignalSpy finished(app.chat(), &ChatController::replyFinished);
        clock.start();
        probe.start();
        QVERIFY(app.chat()->send(QStringLiteral("Tell me a long story about the desert.")));
        QVERIFY(saved.wait(120000));
        probe.stop();
        const double worstMs = static_cast<double>(worst) / 1e6;
        const qint64 messageId = finished.first().at(0).toLongLong();
        const int replyChars = static_cast<int>(app.chat()->messages()->contentOf(messageId).size());
        qInfo("worst event-loop gap while generating: %.1f ms (%d probe ticks over %.0f ms, reply of %d characters)",
              worstMs, ticks, static_cast<double>(clock.elapsed()), replyChars);
        QVERIFY(ticks > 10);
        QVERIFY2(worstMs < 50.0, qPrintable(QStringLiteral("the GUI stalled for %1 ms").arg(worstMs)));
    }
};

QTEST_MAIN(TestUiResponsiveness)
#include "test_ui_responsiveness.moc"
