// Kills the app with SIGKILL while it streams a reply. On the next start every committed
// message is there and the partial reply is kept, marked interrupted, with at most about a
// second of text lost.

#include <QProcess>
#include <QRegularExpression>
#include <QTest>

#include <csignal>

#include "app/controllers/app_controller.h"
#include "app/storage/conversation_store.h"
#include "tests/app/app_test_support.h"

using namespace fm::app;
using fm::app::testing::tinyChatDir;

class TestCrashRecovery : public QObject {
    Q_OBJECT

private slots:
    void killedWhileStreaming_data() {
        QTest::addColumn<int>("tokenDelayMs");
        QTest::addColumn<int>("streamMs");  // how long the reply streams before the kill
        QTest::newRow("slow stream, killed after 2.5 s") << 20 << 2500;
        QTest::newRow("fast stream, killed after 1.6 s") << 2 << 1600;
    }
    void killedWhileStreaming() {
        QFETCH(int, tokenDelayMs);
        QFETCH(int, streamMs);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString dataDir = dir.filePath(QStringLiteral("data"));

        QProcess child;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("FM_TEST_TOKEN_DELAY_MS"), QString::number(tokenDelayMs));
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        child.setProcessEnvironment(env);
        child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        child.start(QStringLiteral(FM_CRASH_CHILD), {dataDir, tinyChatDir()});
        QVERIFY(child.waitForStarted());

        // Follow the child's reports until it has streamed for streamMs.
        QString buffer;
        int streamedAtKill = 0;
        QList<QPair<int, int>> history;  // (elapsed ms, chars streamed)
        QElapsedTimer deadline;
        deadline.start();
        bool killed = false;
        while (!killed && deadline.elapsed() < 60000 && child.state() == QProcess::Running) {
            child.waitForReadyRead(200);
            buffer += QString::fromUtf8(child.readAllStandardOutput());
            qsizetype newline;
            while ((newline = buffer.indexOf(QLatin1Char('\n'))) >= 0) {
                const QString line = buffer.left(newline).trimmed();
                buffer.remove(0, newline + 1);
                QVERIFY2(!line.contains(QStringLiteral("FAILED")), qPrintable(line));
                static const QRegularExpression streamed(QStringLiteral("^STREAMED (\\d+) (\\d+)$"));
                const auto match = streamed.match(line);
                if (!match.hasMatch()) continue;
                const int chars = match.captured(1).toInt();
                const int ms = match.captured(2).toInt();
                history.append({ms, chars});
                if (ms >= streamMs && chars > 0) {
                    ::kill(static_cast<pid_t>(child.processId()), SIGKILL);
                    streamedAtKill = chars;
                    killed = true;
                    break;
                }
            }
        }
        QVERIFY2(killed, "the child never streamed long enough");
        QVERIFY(child.waitForFinished(5000));
        QCOMPARE(child.exitStatus(), QProcess::CrashExit);

        // What had streamed a bit more than a second before the kill must be on disk.
        int mustHave = 0;
        for (const auto& [ms, chars] : history)
            if (ms <= streamMs - 1300) mustHave = chars;

        // The next start.
        AppEnvironment appEnv;
        appEnv.dataDir = dataDir;
        appEnv.settingsFile = dataDir + QStringLiteral("/settings.ini");
        appEnv.hubCacheDir = dataDir + QStringLiteral("/hub");
        AppController app(appEnv);
        QVERIFY2(app.startupError().isEmpty(), qPrintable(app.startupError()));
        QCOMPARE(app.interruptedReplies(), 1);
        auto conversations = app.store()->listConversations();
        QVERIFY(conversations.ok());
        QCOMPARE(conversations->size(), 1);
        auto branch = app.store()->pathToLeaf(conversations->first().id);
        QVERIFY(branch.ok());
        QCOMPARE(branch->size(), 4);
        QCOMPARE(branch->at(0).message.content, QStringLiteral("Hello, what are you?"));
        QCOMPARE(branch->at(1).message.status, fm::MessageStatus::Complete);
        QVERIFY(!branch->at(1).message.content.isEmpty());
        QCOMPARE(branch->at(2).message.content, QStringLiteral("Now tell me everything, at length."));
        const fm::Message& partial = branch->at(3).message;
        QCOMPARE(partial.role, fm::MessageRole::Assistant);
        QCOMPARE(partial.status, fm::MessageStatus::Interrupted);
        QVERIFY(!partial.content.isEmpty());
        qInfo("streamed %d characters before the kill; %lld were saved (at least %d expected)", streamedAtKill,
              static_cast<long long>(partial.content.size()), mustHave);
        QVERIFY(partial.content.size() >= mustHave);
        // And the window's model shows it that way.
        auto* messages = app.chat()->messages();
        QCOMPARE(messages->count(), 4);
        QCOMPARE(messages->data(messages->index(3), fm::MessageListModel::StatusRole).toString(),
                 QStringLiteral("interrupted"));
    }
};

QTEST_MAIN(TestCrashRecovery)
#include "test_crash_recovery.moc"
