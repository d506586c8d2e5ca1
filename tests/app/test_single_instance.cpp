// One app per data folder: a second start on the same folder hands its arguments to the first
// and exits, within 2 s, without opening the database; the first keeps streaming its reply
// and nothing gets marked interrupted. A lock left by a dead process is taken over.

#include <QElapsedTimer>
#include <QLockFile>
#include <QProcess>
#include <QSignalSpy>

#include <sstream>

#include "app/cli/cli.h"
#include "app/controllers/app_controller.h"
#include "app/startup/single_instance.h"
#include "app/storage/conversation_store.h"
#include "app/storage/database.h"
#include "app/worker/inference_worker.h"
#include "tests/app/app_test_support.h"
#include "tests/app/token_pace.h"

using namespace fm::app;
using namespace fm::app::testing;

class TestSingleInstance : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void secondClaimHandsOverItsArguments_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::newRow("nothing to open") << QStringList{};
        QTest::newRow("a checkpoint") << QStringList{QStringLiteral("/models/falcon-mamba-7b")};
        QTest::newRow("unicode path") << QStringList{QStringLiteral("/modèles/ファルコン")};
    }
    void secondClaimHandsOverItsArguments() {
        QFETCH(QStringList, arguments);
        QTemporaryDir dir;
        SingleInstance first(dir.filePath(QStringLiteral("data")));
        QCOMPARE(first.claim({}), SingleInstance::Role::Primary);
        QVERIFY(first.unguardedReason().isEmpty());
        QSignalSpy activated(&first, &SingleInstance::activationRequested);

        SingleInstance second(dir.filePath(QStringLiteral("data")));
        QCOMPARE(second.claim(arguments), SingleInstance::Role::Secondary);
        QVERIFY(activated.wait(2000));
        QCOMPARE(activated.count(), 1);
        QCOMPARE(activated.first().first().toStringList(), arguments);
    }

    void otherFoldersAreIndependent() {
        QTemporaryDir dir;
        SingleInstance a(dir.filePath(QStringLiteral("a")));
        SingleInstance b(dir.filePath(QStringLiteral("b")));
        QCOMPARE(a.claim({}), SingleInstance::Role::Primary);
        QCOMPARE(b.claim({}), SingleInstance::Role::Primary);
        QVERIFY(SingleInstance::serverName(dir.filePath(QStringLiteral("a"))) !=
                SingleInstance::serverName(dir.filePath(QStringLiteral("b"))));
    }

    void aLockWithoutAWindowIsBusy() {
        QTemporaryDir dir;
        const QString dataDir = dir.filePath(QStringLiteral("data"));
        QDir().mkpath(dataDir);
        QLockFile cliLock(SingleInstance::lockFilePath(dataDir));  // what the CLI's import holds
        QVERIFY(cliLock.tryLock(0));
        SingleInstance instance(dataDir);
        QElapsedTimer clock;
        clock.start();
        QCOMPARE(instance.claim({}), SingleInstance::Role::Busy);
        QVERIFY(clock.elapsed() < 2000);
    }

    void aDeadOwnersLockIsTakenOver() {
        QTemporaryDir dir;
        const QString dataDir = dir.filePath(QStringLiteral("data"));
        QDir().mkpath(dataDir);
        {
            // QLockFile's format: PID, application name, host name. No process has this PID
            // (above Linux's pid_max limit of 2^22).
            QFile stale(SingleInstance::lockFilePath(dataDir));
            QVERIFY(stale.open(QIODevice::WriteOnly));
            stale.write(QByteArray("4194305\nfalcon-mamba-chat\n") + QSysInfo::machineHostName().toUtf8() + "\n");
        }
        SingleInstance instance(dataDir);
        QCOMPARE(instance.claim({}), SingleInstance::Role::Primary);
    }

    void theCliRefusesToImportIntoAnOpenFolder() {
        QTemporaryDir dir;
        const AppEnvironment env = environmentIn(dir);
        SingleInstance instance(env.dataDir);
        QCOMPARE(instance.claim({}), SingleInstance::Role::Primary);
        std::ostringstream out, err;
        std::istringstream in;
        const int code = fm::cli::run_cli({"import", "--db", env.databasePath().toStdString(), "--in",
                                           dir.filePath(QStringLiteral("export.json")).toStdString()},
                                          out, err, in);
        QCOMPARE(code, 1);
        QVERIFY2(QString::fromStdString(err.str()).contains(QStringLiteral("close the app first")), err.str().c_str());
        QVERIFY(!QFileInfo::exists(env.databasePath()));
    }

    void aSecondLaunchLeavesTheStreamingReplyAlone() {
        QTemporaryDir dir;
        const AppEnvironment env = environmentIn(dir);
        SingleInstance instance(env.dataDir);
        QCOMPARE(instance.claim({}), SingleInstance::Role::Primary);
        QSignalSpy activated(&instance, &SingleInstance::activationRequested);

        AppController app(env);
        QSignalSpy ready(app.models(), &ModelController::modelReady);
        app.models()->setBackend(QStringLiteral("cpu"));
        QVERIFY(app.models()->load(tinyChatDir()));
        QVERIFY(ready.wait(30000));
        app.chatSettings()->change({.temperature = 0, .maxNewTokens = 400});
        app.worker()->setTokenPacer(fm::app::testing::tokenPace(10));  // about 4 s of streaming
        QSignalSpy saved(app.chat(), &ChatController::replySaved);
        QVERIFY(app.chat()->send(QStringLiteral("Tell me a story")));
        const qint64 replyId = app.chat()->streamingMessageId();
        QTRY_VERIFY_WITH_TIMEOUT(!app.chat()->messages()->contentOf(replyId).isEmpty(), 10000);

        // The real program, started a second time on the same folder.
        QProcess second;
        QProcessEnvironment processEnv = QProcessEnvironment::systemEnvironment();
        processEnv.insert(QStringLiteral("FM_DATA_DIR"), env.dataDir);
        processEnv.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        second.setProcessEnvironment(processEnv);
        QElapsedTimer clock;
        clock.start();
        second.start(QStringLiteral(FM_APP_EXECUTABLE), {QStringLiteral("--model"), tinyChatDir()});
        QVERIFY(second.waitForStarted(2000));
        // The event loop runs while waiting: the first process answers the second's request.
        QTRY_VERIFY_WITH_TIMEOUT(second.state() == QProcess::NotRunning, 2000);
        const qint64 exitMs = clock.elapsed();
        qInfo("the second process exited after %lld ms", exitMs);
        QCOMPARE(second.exitStatus(), QProcess::NormalExit);
        QCOMPARE(second.exitCode(), 0);
        QVERIFY(activated.wait(1000) || activated.count() == 1);
        QCOMPARE(activated.first().first().toStringList(), QStringList{QFileInfo(tinyChatDir()).absoluteFilePath()});

        // Still streaming, and it ends as a complete reply.
        QVERIFY2(app.chat()->isGenerating(), "the reply stopped when the second process started");
        QCOMPARE(app.chat()->streamingMessageId(), replyId);
        QVERIFY(waitForSignal(saved, 60000));
        QCOMPARE(saved.first().first().toLongLong(), replyId);
        fm::Database db;
        QVERIFY(db.open(env.databasePath()));
        fm::ConversationStore store(db);
        const auto reply = store.message(replyId);
        QVERIFY(reply);
        QCOMPARE(reply->status, fm::MessageStatus::Complete);
        QVERIFY(!reply->content.isEmpty());
        QVERIFY(app.errors()->message().isEmpty());
    }
};

QTEST_MAIN(TestSingleInstance)
#include "test_single_instance.moc"
