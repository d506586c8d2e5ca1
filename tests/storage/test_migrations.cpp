// Schema migrations: a database created at every earlier version, filled with data through
// that version's own DDL, must open with the current code with its data intact and the new
// features working. Also: each step is atomic, and newer databases are refused untouched.

#include "app/storage/conversation_store.h"
#include "app/storage/database.h"
#include "app/storage/migrations.h"

#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace fm;

namespace {

constexpr qint64 kT0 = 1'700'000'000'000;

// Inserts a linear conversation using only columns that exist since v1, the way a v1/v2
// build wrote them. Returns the message ids in order.
QList<qint64> insertOldConversation(Database& db, qint64 conversationId, const QString& title, const QStringList& texts,
                                    const QString& lastStatus, qint64 deletedAt = 0) {
    const qint64 updated = kT0 + conversationId * 100 + texts.size();
    const Result<QSqlQuery> inserted = db.exec(
        QStringLiteral("INSERT INTO conversations (id, title, created_at, updated_at, "
                       "system_prompt, settings, model, mode, deleted_at) "
                       "VALUES (?, ?, ?, ?, 'Be brief.', '{\"temperature\":0.5}', 'm', "
                       "'chat', ?)"),
        {conversationId, title, kT0 + conversationId * 100, updated, deletedAt ? QVariant(deletedAt) : QVariant()});
    QList<qint64> ids;
    if (!inserted) {
        return ids;  // the caller's comparisons then fail with a clear diff
    }
    for (qsizetype i = 0; i < texts.size(); ++i) {
        const bool last = i + 1 == texts.size();
        Result<QSqlQuery> q = db.exec(
            QStringLiteral("INSERT INTO messages (conversation_id, role, content, created_at, "
                           "status, prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?, ?, ?, ?)"),
            {conversationId, i % 2 == 0 ? QStringLiteral("user") : QStringLiteral("assistant"), texts[i],
             kT0 + conversationId * 100 + i, last ? lastStatus : QStringLiteral("complete"), 10 + int(i), 20 + int(i)});
        ids.append(q ? q->lastInsertId().toLongLong() : -1);
    }
    return ids;
}

QByteArray fileHash(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256)
                                          : QByteArray();
}

}  // namespace

class TestMigrations : public QObject {
    Q_OBJECT

private slots:
    void stepsAreContiguous() {
        const auto& steps = schemaMigrations();
        QVERIFY(steps.size() >= 3);
        for (std::size_t i = 0; i < steps.size(); ++i) {
            QCOMPARE(steps[i].version, int(i) + 1);
            QVERIFY(!steps[i].statements.isEmpty());
            QVERIFY(!steps[i].summary.isEmpty());
        }
        QCOMPARE(latestSchemaVersion(), int(steps.size()));
    }

    void buildsEachVersionExactly_data() {
        QTest::addColumn<int>("version");
        for (int v = 1; v <= latestSchemaVersion(); ++v) {
            QTest::newRow(qPrintable(QStringLiteral("v%1").arg(v))) << v;
        }
    }

    void buildsEachVersionExactly() {
        QFETCH(int, version);
        QTemporaryDir dir;
        Database db;
        QVERIFY2(db.open(dir.filePath(QStringLiteral("db.sqlite")), version), qPrintable(db.lastError()));
        QCOMPARE(db.schemaVersion(), version);
        QCOMPARE(db.scalar(QStringLiteral("PRAGMA user_version"))->toInt(), version);
        const bool hasFts = db.scalar(QStringLiteral("SELECT count(*) FROM sqlite_schema "
                                                     "WHERE name = 'messages_fts'"))
                                ->toInt() == 1;
        QCOMPARE(hasFts, version >= 2);
        const bool hasTree = db.scalar(QStringLiteral("SELECT count(*) FROM pragma_table_info("
                                                      "'messages') WHERE name = 'parent_id'"))
                                 ->toInt() == 1;
        QCOMPARE(hasTree, version >= 3);
    }

    void upgradesFromEveryEarlierVersion_data() {
        QTest::addColumn<int>("fromVersion");
        for (int v = 1; v < latestSchemaVersion(); ++v) {
            QTest::newRow(qPrintable(QStringLiteral("from v%1").arg(v))) << v;
        }
    }

    void upgradesFromEveryEarlierVersion() {
        QFETCH(int, fromVersion);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("old.sqlite"));
        QList<qint64> first;
        QList<qint64> second;
        {
            Database old;
            QVERIFY2(old.open(path, fromVersion), qPrintable(old.lastError()));
            first = insertOldConversation(old, 1, QStringLiteral("Volcano questions"),
                                          {QStringLiteral("Why do volcanoes erupt?"), QStringLiteral("Magma pressure."),
                                           QStringLiteral("And geysers?"), QStringLiteral("Heated groundwater...")},
                                          QStringLiteral("streaming"));  // the old app was killed mid-reply
            second = insertOldConversation(old, 2, QStringLiteral("Recipes"), {QStringLiteral("Bread dough tips")},
                                           QStringLiteral("complete"));
            insertOldConversation(old, 3, QStringLiteral("Trashed"), {QStringLiteral("deleted text")},
                                  QStringLiteral("complete"), kT0 + 999);
            QVERIFY(
                old.exec(QStringLiteral("INSERT INTO settings (key, value) "
                                        "VALUES ('theme', 'dark')")));
        }

        Database db;
        const Status opened = db.open(path);
        QVERIFY2(opened, opened.error().c_str());
        QCOMPARE(db.schemaVersion(), latestSchemaVersion());
        ConversationStore store(db);

        // Conversations, order, options and soft delete survived.
        Result<QList<Conversation>> list = store.listConversations();
        QVERIFY2(list, list.error().c_str());
        QCOMPARE(list->size(), 2);
        QCOMPARE(list->at(0).title, QStringLiteral("Recipes"));
        QCOMPARE(list->at(1).title, QStringLiteral("Volcano questions"));
        QCOMPARE(list->at(1).options.systemPrompt, QStringLiteral("Be brief."));
        QCOMPARE(list->at(1).options.settings.temperature, std::optional<double>(0.5));
        QVERIFY(store.conversation(3)->isDeleted());
        QCOMPARE(*store.setting(QStringLiteral("theme")), std::optional<QString>(QStringLiteral("dark")));

        // The linear history became a single branch ending at the last message.
        QCOMPARE(store.conversation(1)->currentLeafMessageId, first.last());
        Result<QList<BranchMessage>> path1 = store.pathToLeaf(1);
        QVERIFY2(path1, path1.error().c_str());
        QList<qint64> ids;
        for (const BranchMessage& entry : *path1) {
            ids.append(entry.message.id);
            QCOMPARE(entry.siblingCount, 1);
            QCOMPARE(entry.message.updatedAtMs, entry.message.createdAtMs);
        }
        QCOMPARE(ids, first);
        QCOMPARE(path1->at(1).message.content, QStringLiteral("Magma pressure."));
        QCOMPARE(path1->at(1).message.tokens, (TokenCounts{11, 21}));
        QCOMPARE(path1->at(0).message.parentId, 0);

        // Search works on migrated text; the cut-off reply is not indexed until settled.
        QCOMPARE(store.search(QStringLiteral("magma"))->size(), 1);
        QCOMPARE(store.search(QStringLiteral("bread"))->first().conversationId, 2);
        QVERIFY(store.search(QStringLiteral("groundwater"))->isEmpty());
        QVERIFY(store.search(QStringLiteral("deleted"))->isEmpty());
        QCOMPARE(*store.markInterruptedOnStartup(), 1);
        QCOMPARE(store.search(QStringLiteral("groundwater"))->size(), 1);
        QVERIFY2(db.exec(QStringLiteral("INSERT INTO messages_fts (messages_fts, rank) "
                                        "VALUES ('integrity-check', 1)")),
                 qPrintable(db.lastError()));

        // New features work on old data: branching and snapshots.
        Result<Message> edited = store.editMessage(first[2], QStringLiteral("And hot springs?"));
        QVERIFY2(edited, edited.error().c_str());
        QCOMPARE(edited->parentId, first[1]);
        QCOMPARE(store.siblings(first[2])->size(), 2);
        QCOMPARE(*store.switchToBranch(first[2]), first[3]);
        StateSnapshot snapshot{0,
                               2,
                               second[0],
                               QStringLiteral("ssm"),
                               QStringLiteral("fp"),
                               QStringLiteral("s.bin"),
                               1,
                               QStringLiteral("c"),
                               3,
                               0};
        QVERIFY(store.addStateSnapshot(snapshot));
        QCOMPARE(*store.purgeConversation(2), QStringList{QStringLiteral("s.bin")});
        QVERIFY(db.exec(QStringLiteral("PRAGMA foreign_key_check"))->next() == false);
    }

    void failedStepChangesNothing() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("blocked.sqlite"));
        const int blockedStep = latestSchemaVersion();
        {
            Database old;
            QVERIFY(old.open(path, blockedStep - 1));
            insertOldConversation(old, 1, QStringLiteral("keep me"), {QStringLiteral("hi")},
                                  QStringLiteral("complete"));
            // An object with a name the last step creates makes that step fail midway,
            // after some of its statements already ran.
            QVERIFY(old.exec(QStringLiteral("CREATE TABLE state_snapshots (x)")));
        }
        Database db;
        const Status status = db.open(path);
        QVERIFY(!status);
        QVERIFY2(errorText(status).contains(QStringLiteral("v%1").arg(blockedStep)), status.error().c_str());
        QVERIFY(!db.isOpen());

        // Still exactly the previous version: the step's earlier ALTERs were rolled back.
        QVERIFY(db.open(path, blockedStep - 1));
        QCOMPARE(db.schemaVersion(), blockedStep - 1);
        QCOMPARE(db.scalar(QStringLiteral("SELECT count(*) FROM pragma_table_info('messages') "
                                          "WHERE name = 'parent_id'"))
                     ->toInt(),
                 0);
        QCOMPARE(db.scalar(QStringLiteral("SELECT title FROM conversations"))->toString(), QStringLiteral("keep me"));
    }

    void refusesNewerAndDowngrade_data() {
        QTest::addColumn<int>("storedVersion");
        QTest::addColumn<int>("requestedVersion");
        QTest::addColumn<QString>("errorMentions");
        QTest::newRow("newer app's database") << latestSchemaVersion() + 1 << -1 << "newer version";
        QTest::newRow("far newer") << 1000 << -1 << "newer version";
        QTest::newRow("downgrade request") << latestSchemaVersion() << 1 << "cannot go back";
        QTest::newRow("unknown target") << 1 << latestSchemaVersion() + 1 << "unknown";
    }

    void refusesNewerAndDowngrade() {
        QFETCH(int, storedVersion);
        QFETCH(int, requestedVersion);
        QFETCH(QString, errorMentions);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("db.sqlite"));
        {
            Database db;
            QVERIFY(db.open(path, std::min(storedVersion, latestSchemaVersion())));
            if (storedVersion > latestSchemaVersion()) {
                QVERIFY(db.exec(QStringLiteral("PRAGMA user_version = %1").arg(storedVersion)));
            }
        }
        const QByteArray before = fileHash(path);
        Database db;
        const Status status = db.open(path, requestedVersion);
        QVERIFY(!status);
        QVERIFY2(errorText(status).contains(errorMentions), status.error().c_str());
        QVERIFY(!db.isOpen());
        QCOMPARE(fileHash(path), before);
    }

    void reopeningCurrentVersionIsANoOp() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("db.sqlite"));
        {
            Database db;
            QVERIFY(db.open(path));
            ConversationStore store(db);
            QVERIFY(store.createConversation(QStringLiteral("one")));
        }
        Database db;
        QVERIFY(db.open(path));
        QCOMPARE(db.schemaVersion(), latestSchemaVersion());
        ConversationStore store(db);
        QCOMPARE(store.listConversations()->size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestMigrations)
#include "test_migrations.moc"
