// Storage problems say what and where and turn the composer off with the reason: a read-only
// folder, a full disk, a database locked by another program. Classification against SQLite's
// own messages; then the real app on a database another connection holds locked.

#include <QSqlQuery>

#include "app/controllers/app_controller.h"
#include "app/controllers/storage_problem.h"
#include "app/storage/database.h"
#include "tests/app/app_test_support.h"

using namespace fm::app;
using fm::app::testing::environmentIn;

Q_DECLARE_METATYPE(StorageFacts)

class TestStorageProblems : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void classify_data() {
        QTest::addColumn<QString>("error");
        QTest::addColumn<StorageFacts>("facts");
        QTest::addColumn<int>("kind");
        QTest::addColumn<QString>("mentions");
        const qint64 plenty = 10ll << 30;
        QTest::newRow("readonly database") << "attempt to write a readonly database" << StorageFacts{true, plenty}
                                           << int(StorageProblem::Kind::ReadOnly) << "read-only";
        QTest::newRow("folder not writable, open fails")
            << "cannot open /data/conversations.sqlite: unable to open database file" << StorageFacts{false, plenty}
            << int(StorageProblem::Kind::ReadOnly) << "FM_DATA_DIR";
        QTest::newRow("disk full") << "database or disk is full" << StorageFacts{true, qint64(1024)}
                                   << int(StorageProblem::Kind::DiskFull) << "full";
        QTest::newRow("I/O error on a nearly full disk")
            << "disk I/O error" << StorageFacts{true, qint64(4096)} << int(StorageProblem::Kind::DiskFull) << "free";
        QTest::newRow("I/O error with space left is not a full disk")
            << "disk I/O error" << StorageFacts{true, plenty} << int(StorageProblem::Kind::None) << "";
        QTest::newRow("locked") << "database is locked" << StorageFacts{true, plenty}
                                << int(StorageProblem::Kind::Locked) << "Another program";
        QTest::newRow("constraint is not storage")
            << "UNIQUE constraint failed: messages.id" << StorageFacts{true, plenty} << int(StorageProblem::Kind::None)
            << "";
        QTest::newRow("unknown free space")
            << "database is locked" << StorageFacts{true, qint64(-1)} << int(StorageProblem::Kind::Locked) << "locked";
    }
    void classify() {
        QFETCH(QString, error);
        QFETCH(StorageFacts, facts);
        QFETCH(int, kind);
        QFETCH(QString, mentions);
        const QString dataDir = QStringLiteral("/home/user/.local/share/falcon-mamba-chat");
        const StorageProblem problem = classifyStorageError(error, dataDir, facts);
        QCOMPARE(int(problem.kind), kind);
        if (problem.kind == StorageProblem::Kind::None) {
            QVERIFY(problem.message.isEmpty());
        } else {
            QVERIFY2(problem.message.contains(dataDir), qPrintable(problem.message));
            QVERIFY2(problem.message.contains(mentions), qPrintable(problem.message));
        }
    }

    void aLockedDatabaseDisablesTheComposerWithTheReason() {
        QTemporaryDir dir;
        const AppEnvironment env = environmentIn(dir);
        fm::Database holder;
        QVERIFY(holder.open(env.databasePath()));
        // Another program keeps the database locked: exclusive locking, and a write that takes
        // the lock for as long as the connection lives.
        QVERIFY(holder.exec(QStringLiteral("PRAGMA locking_mode=EXCLUSIVE")));
        QVERIFY(holder.exec(QStringLiteral("BEGIN EXCLUSIVE")));

        AppController app(env);  // waits out SQLite's busy timeout (5 s), then gives up
        QVERIFY(!app.chat()->canSend());
        const QString reason = app.chat()->composerDisabledReason();
        QVERIFY2(reason.contains(QStringLiteral("locked")), qPrintable(reason));
        QVERIFY2(reason.contains(QDir::toNativeSeparators(env.dataDir)), qPrintable(reason));
        QCOMPARE(app.errors()->message(), reason);
        QCOMPARE(app.startupError(), reason);
    }

    void aStoreErrorWhileRunningDisablesTheComposerUntilDismissed() {
        QTemporaryDir dir;
        AppController app(environmentIn(dir));
        QSignalSpy canSend(app.chat(), &ChatController::canSendChanged);
        app.errors()->reportStorageError(QStringLiteral("database or disk is full"));
        QVERIFY(canSend.count() >= 1);
        QVERIFY(app.chat()->composerDisabledReason().contains(QStringLiteral("full")));
        QVERIFY(!app.chat()->canSend());
        app.errors()->dismiss();
        QVERIFY(app.errors()->storageProblem().isEmpty());
        QVERIFY(app.errors()->message().isEmpty());
    }
};

QTEST_MAIN(TestStorageProblems)
#include "test_storage_problems.moc"
