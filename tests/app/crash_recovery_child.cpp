// Helper for test_crash_recovery: the app without a window, which loads the tiny chat model,
// finishes one exchange, then streams a long, slowed reply (FM_TEST_TOKEN_DELAY_MS) and
// reports its progress on stdout until the parent kills it with SIGKILL.
//   crash_recovery_child DATA_DIR MODEL_DIR

#include <QGuiApplication>
#include <QTimer>

#include <cstdio>

#include "app/controllers/app_controller.h"
#include "app/worker/inference_worker.h"
#include "tests/app/token_pace.h"

using namespace fm::app;

int main(int argc, char* argv[]) {
    QGuiApplication application(argc, argv);
    if (argc < 3) {
        std::fprintf(stderr, "usage: crash_recovery_child DATA_DIR MODEL_DIR\n");
        return 2;
    }
    AppEnvironment env;
    env.dataDir = QString::fromLocal8Bit(argv[1]);
    env.settingsFile = env.dataDir + QStringLiteral("/settings.ini");
    env.hubCacheDir = env.dataDir + QStringLiteral("/hub");
    const QString modelDir = QString::fromLocal8Bit(argv[2]);
    AppController app(env);
    if (!app.startupError().isEmpty()) {
        std::fprintf(stderr, "startup: %s\n", qPrintable(app.startupError()));
        return 1;
    }
    auto* chat = app.chat();
    const auto say = [](const QString& line) {
        std::printf("%s\n", qPrintable(line));
        std::fflush(stdout);
    };

    int exchange = 0;
    QElapsedTimer sinceStart;
    QTimer progress;
    progress.setInterval(100);
    QObject::connect(&progress, &QTimer::timeout, [&] {
        const QString text = chat->messages()->contentOf(chat->streamingMessageId());
        say(QStringLiteral("STREAMED %1 %2").arg(text.size()).arg(sinceStart.elapsed()));
    });
    QObject::connect(chat, &ChatController::replySaved, [&](qint64 id) {
        say(QStringLiteral("SAVED %1").arg(id));
        if (++exchange == 1) {
            // The second reply: long and slow, to be cut off by the parent.
            app.worker()->setTokenPacer(
                fm::app::testing::tokenPace(qEnvironmentVariableIntValue("FM_TEST_TOKEN_DELAY_MS")));
            app.chatSettings()->change({.maxNewTokens = 100000});
            if (!chat->send(QStringLiteral("Now tell me everything, at length."))) say(QStringLiteral("SEND FAILED"));
            sinceStart.start();
            progress.start();
        }
    });
    QObject::connect(app.models(), &ModelController::modelReady, [&] {
        app.chatSettings()->change({.temperature = 0, .maxNewTokens = 20});
        // The first exchange runs at full speed: no pacer until it is saved.
        app.worker()->setTokenPacer(fm::app::testing::tokenPace(0));
        if (!chat->send(QStringLiteral("Hello, what are you?"))) say(QStringLiteral("SEND FAILED"));
    });
    QObject::connect(app.models(), &ModelController::loadFailed, [&](const QString& error) {
        say(QStringLiteral("LOAD FAILED %1").arg(error));
        QCoreApplication::exit(1);
    });
    app.models()->setBackend(QStringLiteral("cpu"));
    app.models()->load(modelDir);
    return application.exec();
}
