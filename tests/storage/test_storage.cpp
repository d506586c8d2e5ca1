// Conversation store: CRUD, activity ordering, the message tree, streamed replies, search,
// settings, soft delete, and all-or-nothing writes. Each test gets a fresh database file.

#include "app/storage/conversation_store.h"
#include "app/storage/database.h"
#include "app/storage/migrations.h"
#include "app/storage/search_query.h"
#include "tests/storage/storage_test_support.h"
#include "tests/tools/text_cases.h"

#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace fm;

namespace fm {
// Lets QCOMPARE print the enums (found by argument-dependent lookup).
char* toString(MessageRole role) {
    return qstrdup(qPrintable(toText(role)));
}
char* toString(MessageStatus status) {
    return qstrdup(qPrintable(toText(status)));
}
}  // namespace fm

namespace {

constexpr qint64 kStartMs = 1'750'000'000'000;

using fm::testing::addTextCases;
using fm::testing::idsOf;
using fm::testing::textCase;

NewMessage userMessage(const QString& text) {
    return fm::testing::message(MessageRole::User, text);
}

NewMessage assistantMessage(const QString& text) {
    return fm::testing::message(MessageRole::Assistant, text);
}

QStringList titlesOf(const QList<Conversation>& conversations) {
    QStringList titles;
    for (const Conversation& c : conversations) {
        titles.append(c.title);
    }
    return titles;
}

QByteArray fileHash(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    return QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256);
}

}  // namespace

class TestStorage : public QObject {
    Q_OBJECT

private:
    QString dbPath() const { return dir_->filePath(QStringLiteral("conversations.sqlite")); }
    qint64 countRows(const QString& table) {
        Result<QVariant> n = db_->scalar(QStringLiteral("SELECT count(*) FROM %1").arg(table));
        return n ? n->toLongLong() : -1;
    }
    void checkSearchIndexIntact() {
        // 'integrity-check' with rank 1 compares the external-content index to the tables.
        QVERIFY2(db_->exec(QStringLiteral("INSERT INTO messages_fts (messages_fts, rank) "
                                          "VALUES ('integrity-check', 1)")),
                 qPrintable(db_->lastError()));
        QVERIFY2(db_->exec(QStringLiteral("INSERT INTO conversations_fts (conversations_fts, "
                                          "rank) VALUES ('integrity-check', 1)")),
                 qPrintable(db_->lastError()));
    }

    std::unique_ptr<QTemporaryDir> dir_;
    std::unique_ptr<Database> db_;
    std::unique_ptr<ConversationStore> store_;
    qint64 clock_ = kStartMs;

private slots:
    void init() {
        dir_ = std::make_unique<QTemporaryDir>();
        QVERIFY(dir_->isValid());
        db_ = std::make_unique<Database>();
        const Status opened = db_->open(dbPath());
        QVERIFY2(opened, opened.error().c_str());
        store_ = std::make_unique<ConversationStore>(*db_);
        clock_ = kStartMs;
        store_->setClock([this] { return clock_ += 1000; });
    }

    void cleanup() {
        store_.reset();
        db_.reset();
        dir_.reset();
    }

    // ---- Database ------------------------------------------------------------------------

    void openSetsPragmasAndSchema() {
        QCOMPARE(db_->schemaVersion(), latestSchemaVersion());
        QCOMPARE(db_->scalar(QStringLiteral("PRAGMA user_version"))->toInt(), latestSchemaVersion());
        QCOMPARE(db_->scalar(QStringLiteral("PRAGMA journal_mode"))->toString(), QStringLiteral("wal"));
        QCOMPARE(db_->scalar(QStringLiteral("PRAGMA foreign_keys"))->toInt(), 1);
        QCOMPARE(db_->scalar(QStringLiteral("PRAGMA synchronous"))->toInt(), 1);  // NORMAL
        for (const char* table :
             {"conversations", "messages", "settings", "state_snapshots", "conversations_fts", "messages_fts"}) {
            QVERIFY2(db_->scalar(QStringLiteral("SELECT count(*) FROM sqlite_schema "
                                                "WHERE name = ?"),
                                 {QString::fromLatin1(table)})
                             ->toInt() == 1,
                     table);
        }
    }

    void openCreatesMissingFolder() {
        Database other;
        const QString nested = dir_->filePath(QStringLiteral("a/b/c/conversations.sqlite"));
        QVERIFY2(other.open(nested), qPrintable(other.lastError()));
        QVERIFY(QFile::exists(nested));
    }

    void eachDatabaseHasItsOwnConnection() {
        Database second;
        QVERIFY(second.open(dbPath()));
        QVERIFY(second.connectionName() != db_->connectionName());
        // Both work on the same file: WAL lets one read what the other committed.
        ConversationStore secondStore(second);
        QVERIFY(store_->createConversation(QStringLiteral("from first")));
        Result<QList<Conversation>> seen = secondStore.listConversations();
        QVERIFY(seen);
        QCOMPARE(titlesOf(*seen), QStringList{QStringLiteral("from first")});
    }

    void refusesDatabaseFromNewerVersion() {
        QVERIFY(db_->exec(QStringLiteral("PRAGMA user_version = %1").arg(latestSchemaVersion() + 1)));
        db_->close();
        const QByteArray before = fileHash(dbPath());

        Database reopened;
        const Status status = reopened.open(dbPath());
        QVERIFY(!status);
        QVERIFY2(errorText(status).contains(QStringLiteral("newer version")), status.error().c_str());
        QCOMPARE(reopened.lastError(), errorText(status));
        QVERIFY(!reopened.isOpen());
        QCOMPARE(fileHash(dbPath()), before);
    }

    void refusesFilesThatAreNotOurs_data() {
        QTest::addColumn<QByteArray>("setupSql");
        QTest::addColumn<QByteArray>("rawBytes");
        QTest::newRow("text file") << QByteArray() << QByteArray("hello, not a database\n");
        QTest::newRow("random bytes") << QByteArray() << QByteArray(8192, '\x5a');
        QTest::newRow("another app's sqlite") << QByteArray("CREATE TABLE notes (x)") << QByteArray();
    }

    void refusesFilesThatAreNotOurs() {
        QFETCH(QByteArray, setupSql);
        QFETCH(QByteArray, rawBytes);
        const QString path = dir_->filePath(QStringLiteral("foreign.db"));
        if (!rawBytes.isEmpty()) {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(rawBytes);
        } else {
            const QString name = QStringLiteral("foreign-setup");
            {
                QSqlDatabase raw = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
                raw.setDatabaseName(path);
                QVERIFY(raw.open());
                QSqlQuery(raw).exec(QString::fromLatin1(setupSql));
                raw.close();
            }
            QSqlDatabase::removeDatabase(name);
        }
        const QByteArray before = fileHash(path);
        Database db;
        const Status status = db.open(path);
        QVERIFY(!status);
        QVERIFY(!errorText(status).isEmpty());
        QVERIFY(!db.isOpen());
        QCOMPARE(fileHash(path), before);
    }

    void operationsOnClosedDatabaseFailCleanly() {
        db_->close();
        QVERIFY(!store_->createConversation(QStringLiteral("x")));
        QVERIFY(!store_->listConversations());
        QVERIFY(!store_->search(QStringLiteral("x")));
        QVERIFY(!store_->markInterruptedOnStartup());
        QVERIFY(!db_->lastError().isEmpty());
    }

    // ---- Conversations -------------------------------------------------------------------

    void createReadUpdate() {
        ConversationOptions options;
        options.systemPrompt = QStringLiteral("You are terse.");
        options.model = QStringLiteral("/models/falcon-mamba-7b-instruct");
        options.mode = ConversationMode::Completion;
        options.settings.temperature = 0.7;
        options.settings.topK = 40;
        options.settings.seed = 1234567890123LL;
        Result<Conversation> created = store_->createConversation(QStringLiteral("Plans"), options);
        QVERIFY2(created, created.error().c_str());
        QVERIFY(created->id > 0);
        QCOMPARE(created->createdAtMs, created->updatedAtMs);
        QCOMPARE(created->options, options);
        QCOMPARE(created->currentLeafMessageId, 0);
        QVERIFY(!created->isDeleted());

        QVERIFY(store_->renameConversation(created->id, QStringLiteral("Holiday plans")));
        ConversationOptions changed = options;
        changed.settings = {};  // back to app defaults: stored as NULL
        changed.mode = ConversationMode::Chat;
        QVERIFY(store_->setConversationOptions(created->id, changed));
        Result<Conversation> reread = store_->conversation(created->id);
        QVERIFY(reread);
        QCOMPARE(reread->title, QStringLiteral("Holiday plans"));
        QCOMPARE(reread->options, changed);
        QVERIFY(
            db_->scalar(QStringLiteral("SELECT settings FROM conversations WHERE id = ?"), {created->id})->isNull());
        // Renaming is not activity.
        QCOMPARE(reread->updatedAtMs, created->updatedAtMs);

        QVERIFY(!store_->renameConversation(999, QStringLiteral("nope")));
        QVERIFY(!store_->conversation(999));
    }

    void listOrderedByLastActivity_data() {
        QTest::addColumn<QStringList>("touchOrder");  // conversations receiving a message
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("creation order only") << QStringList{} << QStringList{"c", "b", "a"};
        QTest::newRow("oldest gets a message") << QStringList{"a"} << QStringList{"a", "c", "b"};
        QTest::newRow("several touches") << QStringList{"b", "a", "b"} << QStringList{"b", "a", "c"};
        QTest::newRow("newest touched again") << QStringList{"c"} << QStringList{"c", "b", "a"};
    }

    void listOrderedByLastActivity() {
        QFETCH(QStringList, touchOrder);
        QFETCH(QStringList, expected);
        QHash<QString, qint64> ids;
        for (const QString& title : {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}) {
            ids[title] = store_->createConversation(title)->id;
        }
        for (const QString& title : touchOrder) {
            QVERIFY(store_->appendMessage(ids[title], userMessage(QStringLiteral("hi"))));
        }
        QCOMPARE(titlesOf(*store_->listConversations()), expected);
        QCOMPARE(titlesOf(*store_->listConversations(2)), expected.mid(0, 2));
    }

    void timestampsStrictlyIncreaseWithinOneMillisecond() {
        store_->setClock([] { return kStartMs; });  // frozen clock
        const qint64 a = store_->createConversation(QStringLiteral("a"))->id;
        QVERIFY(store_->createConversation(QStringLiteral("b")));
        QVERIFY(store_->appendMessage(a, userMessage(QStringLiteral("x"))));
        QCOMPARE(titlesOf(*store_->listConversations()), (QStringList{"a", "b"}));
    }

    void softDeleteUndoAndPurge() {
        const qint64 keep = store_->createConversation(QStringLiteral("keep"))->id;
        const qint64 gone = store_->createConversation(QStringLiteral("gone"))->id;
        QVERIFY(store_->appendMessage(gone, userMessage(QStringLiteral("zebra crossing"))));
        StateSnapshot snapshot;
        snapshot.conversationId = gone;
        snapshot.messageId = store_->conversation(gone)->currentLeafMessageId;
        snapshot.kind = QStringLiteral("ssm-state");
        snapshot.fingerprint = QStringLiteral("falcon-mamba-7b/bf16");
        snapshot.filePath = QStringLiteral("snapshots/gone-1.bin");
        snapshot.byteSize = 4096;
        snapshot.checksum = QStringLiteral("abc");
        snapshot.tokenCount = 12;
        QVERIFY(store_->addStateSnapshot(snapshot));
        QCOMPARE(store_->stateSnapshots(gone)->size(), 1);

        QVERIFY(store_->deleteConversation(gone));
        QVERIFY(!store_->deleteConversation(gone));  // already deleted
        QCOMPARE(titlesOf(*store_->listConversations()), QStringList{"keep"});
        QCOMPARE(titlesOf(*store_->deletedConversations()), QStringList{"gone"});
        QVERIFY(store_->search(QStringLiteral("zebra"))->isEmpty());
        QVERIFY(store_->conversation(gone)->isDeleted());

        QVERIFY(store_->undoDeleteConversation(gone));
        QVERIFY(!store_->undoDeleteConversation(gone));
        QCOMPARE(titlesOf(*store_->listConversations()), (QStringList{"gone", "keep"}));
        QCOMPARE(store_->search(QStringLiteral("zebra"))->size(), 1);
        QCOMPARE(store_->pathToLeaf(gone)->size(), 1);

        QVERIFY(store_->deleteConversation(gone));
        Result<QStringList> files = store_->purgeConversation(gone);
        QVERIFY2(files, files.error().c_str());
        QCOMPARE(*files, QStringList{snapshot.filePath});
        QVERIFY(!store_->conversation(gone));
        QCOMPARE(countRows(QStringLiteral("messages")), 0);
        QCOMPARE(countRows(QStringLiteral("state_snapshots")), 0);
        QVERIFY(store_->conversation(keep));
        QVERIFY(!store_->purgeConversation(gone));
        checkSearchIndexIntact();
    }

    void purgeDeletedBefore() {
        const qint64 old = store_->createConversation(QStringLiteral("old"))->id;
        const qint64 recent = store_->createConversation(QStringLiteral("recent"))->id;
        QVERIFY(store_->createConversation(QStringLiteral("live")));
        QVERIFY(store_->deleteConversation(old));
        const qint64 cutoff = clock_ + 1;
        QVERIFY(store_->deleteConversation(recent));
        Result<QStringList> purged = store_->purgeDeletedBefore(cutoff);
        QVERIFY2(purged, purged.error().c_str());
        QVERIFY(!store_->conversation(old));
        QVERIFY(store_->conversation(recent));
        QCOMPARE(titlesOf(*store_->listConversations()), QStringList{"live"});
    }

    // ---- Messages and the tree -----------------------------------------------------------

    void appendBuildsLinearPath() {
        const qint64 c = store_->createConversation(QStringLiteral("chat"))->id;
        NewMessage system;
        system.role = MessageRole::System;
        system.content = QStringLiteral("Be nice.");
        const Message s = *store_->appendMessage(c, system);
        const Message u = *store_->appendMessage(c, userMessage(QStringLiteral("Hello")));
        NewMessage reply = assistantMessage(QStringLiteral("Hi!"));
        reply.tokens = {12, 3};
        reply.model = QStringLiteral("falcon-mamba-7b");
        reply.settings.temperature = 0.2;
        const Message a = *store_->appendMessage(c, reply);
        QCOMPARE(s.parentId, 0);
        QCOMPARE(u.parentId, s.id);
        QCOMPARE(a.parentId, u.id);

        Result<QList<BranchMessage>> path = store_->pathToLeaf(c);
        QVERIFY2(path, path.error().c_str());
        QCOMPARE(idsOf(*path), (QList<qint64>{s.id, u.id, a.id}));
        const Message stored = path->last().message;
        QCOMPARE(stored.role, MessageRole::Assistant);
        QCOMPARE(stored.content, QStringLiteral("Hi!"));
        QCOMPARE(stored.tokens, (TokenCounts{12, 3}));
        QCOMPARE(stored.model, QStringLiteral("falcon-mamba-7b"));
        QCOMPARE(stored.settings.temperature, std::optional<double>(0.2));
        QCOMPARE(stored.status, MessageStatus::Complete);
        for (const BranchMessage& entry : *path) {
            QCOMPARE(entry.siblingCount, 1);
            QCOMPARE(entry.siblingIndex, 0);
        }
        const Conversation conv = *store_->conversation(c);
        QCOMPARE(conv.currentLeafMessageId, a.id);
        QCOMPARE(conv.updatedAtMs, a.createdAtMs);
        QVERIFY(store_->pathToLeaf(store_->createConversation(QStringLiteral("empty"))->id)->isEmpty());
        QVERIFY(!store_->pathToLeaf(12345));
        QVERIFY(!store_->appendMessage(12345, userMessage(QStringLiteral("orphan"))));
    }

    // Branching: u1 -> a1; edit u1 -> u1' -> a2, regenerate a2 -> a3.
    void branchesSiblingsAndSwitching() {
        const qint64 c = store_->createConversation(QStringLiteral("tree"))->id;
        const Message u1 = *store_->appendMessage(c, userMessage(QStringLiteral("question")));
        const Message a1 = *store_->appendMessage(c, assistantMessage(QStringLiteral("answer 1")));
        Result<Message> u2 = store_->editMessage(u1.id, QStringLiteral("better question"));
        QVERIFY2(u2, u2.error().c_str());
        QCOMPARE(u2->parentId, 0);
        QCOMPARE(u2->role, MessageRole::User);
        QCOMPARE(store_->conversation(c)->currentLeafMessageId, u2->id);
        const Message a2 = *store_->appendMessage(c, assistantMessage(QStringLiteral("answer 2")));
        Result<Message> a3 = store_->beginAssistantMessage(c, u2->id);
        QVERIFY(a3);
        QVERIFY(store_->finishMessage(a3->id, MessageStatus::Complete, {5, 6}, QStringLiteral("answer 3")));

        QList<qint64> roots;
        for (const Message& m : *store_->siblings(u1.id)) {
            roots.append(m.id);
        }
        QCOMPARE(roots, (QList<qint64>{u1.id, u2->id}));
        QCOMPARE(store_->siblings(a2.id)->size(), 2);
        QCOMPARE(store_->siblings(a1.id)->size(), 1);

        Result<QList<BranchMessage>> path = store_->pathToLeaf(c);
        QCOMPARE(idsOf(*path), (QList<qint64>{u2->id, a3->id}));
        QCOMPARE(path->at(0).siblingIndex, 1);
        QCOMPARE(path->at(0).siblingCount, 2);
        QCOMPARE(path->at(1).siblingIndex, 1);
        QCOMPARE(path->at(1).siblingCount, 2);

        // Back to the first question: its branch ends at a1.
        QCOMPARE(*store_->switchToBranch(u1.id), a1.id);
        path = store_->pathToLeaf(c);
        QCOMPARE(idsOf(*path), (QList<qint64>{u1.id, a1.id}));
        QCOMPARE(path->at(0).siblingIndex, 0);
        QCOMPARE(path->at(1).siblingCount, 1);
        // Forward again: the latest descendant of u2 is a3.
        QCOMPARE(*store_->switchToBranch(u2->id), a3->id);
        QCOMPARE(*store_->switchToBranch(a2.id), a2.id);
        QCOMPARE(idsOf(*store_->pathTo(a2.id)), (QList<qint64>{u2->id, a2.id}));
        QVERIFY(!store_->switchToBranch(9999));
        QVERIFY(!store_->siblings(9999));
        QVERIFY(!store_->editMessage(9999, QStringLiteral("x")));
    }

    void parentFromAnotherConversationIsRejectedAtomically() {
        const qint64 a = store_->createConversation(QStringLiteral("a"))->id;
        const qint64 b = store_->createConversation(QStringLiteral("b"))->id;
        const Message inA = *store_->appendMessage(a, userMessage(QStringLiteral("in a")));
        const Conversation before = *store_->conversation(b);
        NewMessage stray = userMessage(QStringLiteral("stray"));
        stray.parentId = inA.id;
        Result<Message> rejected = store_->appendMessage(b, stray);
        QVERIFY(!rejected);
        QVERIFY2(errorText(rejected).contains(QStringLiteral("another conversation")), rejected.error().c_str());
        const Conversation after = *store_->conversation(b);
        QCOMPARE(after.updatedAtMs, before.updatedAtMs);
        QCOMPARE(after.currentLeafMessageId, 0);
        QCOMPARE(countRows(QStringLiteral("messages")), 1);
    }

    void failedImportLeavesNothing_data() {
        QTest::addColumn<int>("failAt");  // index of the message that violates a constraint
        QTest::newRow("first message") << 0;
        QTest::newRow("midway") << 2;
        QTest::newRow("last message") << 4;
    }

    void failedImportLeavesNothing() {
        QFETCH(int, failAt);
        // A test-only trigger stands in for any failure inside the transaction (constraint,
        // disk full, ...).
        QVERIFY(
            db_->exec(QStringLiteral("CREATE TEMP TRIGGER fail_on_boom BEFORE INSERT ON messages "
                                     "WHEN new.content = 'boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END")));
        QVERIFY(store_->createConversation(QStringLiteral("existing")));
        QList<NewMessage> messages;
        for (int i = 0; i < 5; ++i) {
            messages.append(i == failAt ? userMessage(QStringLiteral("boom"))
                                        : userMessage(QStringLiteral("message %1").arg(i)));
        }
        Result<Conversation> imported = store_->importConversation(QStringLiteral("import"), {}, messages);
        QVERIFY(!imported);
        QVERIFY2(errorText(imported).contains(QStringLiteral("boom refused")), imported.error().c_str());
        QCOMPARE(countRows(QStringLiteral("conversations")), 1);
        QCOMPARE(countRows(QStringLiteral("messages")), 0);
        QVERIFY(store_->search(QStringLiteral("import"))->isEmpty());
        QVERIFY(!db_->inTransaction());
        // The connection is usable afterwards.
        messages[failAt] = userMessage(QStringLiteral("fine"));
        Result<Conversation> retried = store_->importConversation(QStringLiteral("import"), {}, messages);
        QVERIFY2(retried, retried.error().c_str());
        QCOMPARE(store_->pathToLeaf(retried->id)->size(), 5);
        checkSearchIndexIntact();
    }

    // ---- Streaming -----------------------------------------------------------------------

    void streamingLifecycle_data() {
        QTest::addColumn<int>("finalStatus");
        QTest::addColumn<bool>("passFinalText");
        QTest::newRow("complete with final text") << int(MessageStatus::Complete) << true;
        QTest::newRow("complete keeps streamed text") << int(MessageStatus::Complete) << false;
        QTest::newRow("stopped by user") << int(MessageStatus::Interrupted) << false;
        QTest::newRow("engine error") << int(MessageStatus::Error) << false;
    }

    void streamingLifecycle() {
        QFETCH(int, finalStatus);
        QFETCH(bool, passFinalText);
        const qint64 c = store_->createConversation(QStringLiteral("stream"))->id;
        const Message question = *store_->appendMessage(c, userMessage(QStringLiteral("tell me")));
        Result<Message> reply = store_->beginAssistantMessage(c, 0, QStringLiteral("falcon-mamba-7b"),
                                                              GenerationSettings{0.5, {}, {}, {}, {}, 64, 7});
        QVERIFY2(reply, reply.error().c_str());
        QCOMPARE(reply->status, MessageStatus::Streaming);
        QCOMPARE(reply->parentId, question.id);
        QCOMPARE(store_->conversation(c)->currentLeafMessageId, reply->id);

        QVERIFY(store_->updateStreamingContent(reply->id, QStringLiteral("Once upon")));
        QVERIFY(store_->updateStreamingContent(reply->id, QStringLiteral("Once upon a platypus")));
        QCOMPARE(store_->message(reply->id)->content, QStringLiteral("Once upon a platypus"));
        // Not searchable while streaming.
        QVERIFY(store_->search(QStringLiteral("platypus"))->isEmpty());

        const qint64 activityBefore = store_->conversation(c)->updatedAtMs;
        const std::optional<QString> finalText =
            passFinalText ? std::optional<QString>(QStringLiteral("Once upon a platypus, the end.")) : std::nullopt;
        QVERIFY(store_->finishMessage(reply->id, MessageStatus(finalStatus), {20, 8}, finalText));
        const Message done = *store_->message(reply->id);
        QCOMPARE(int(done.status), finalStatus);
        QCOMPARE(done.tokens, (TokenCounts{20, 8}));
        QCOMPARE(done.content, finalText.value_or(QStringLiteral("Once upon a platypus")));
        QCOMPARE(done.settings.maxNewTokens, std::optional<int>(64));
        QVERIFY(store_->conversation(c)->updatedAtMs > activityBefore);
        QCOMPARE(store_->search(QStringLiteral("platypus"))->size(), 1);
        // A settled message no longer accepts streaming updates.
        QVERIFY(!store_->updateStreamingContent(reply->id, QStringLiteral("late")));
        QVERIFY(!store_->finishMessage(reply->id, MessageStatus::Streaming, {}));
        checkSearchIndexIntact();
    }

    void interruptedOnStartup() {
        const qint64 c = store_->createConversation(QStringLiteral("crash"))->id;
        QVERIFY(store_->appendMessage(c, userMessage(QStringLiteral("write an essay"))));
        const qint64 r1 = store_->beginAssistantMessage(c)->id;
        QVERIFY(store_->updateStreamingContent(r1, QStringLiteral("Essays are walruses")));
        const qint64 other = store_->createConversation(QStringLiteral("other"))->id;
        const qint64 r2 = store_->beginAssistantMessage(other)->id;
        // The process "dies": close without finishing, open again as at the next start.
        store_.reset();
        db_.reset();
        db_ = std::make_unique<Database>();
        QVERIFY(db_->open(dbPath()));
        store_ = std::make_unique<ConversationStore>(*db_);

        Result<int> marked = store_->markInterruptedOnStartup();
        QVERIFY2(marked, marked.error().c_str());
        QCOMPARE(*marked, 2);
        QCOMPARE(store_->message(r1)->status, MessageStatus::Interrupted);
        QCOMPARE(store_->message(r1)->content, QStringLiteral("Essays are walruses"));
        QCOMPARE(store_->message(r2)->status, MessageStatus::Interrupted);
        QCOMPARE(store_->search(QStringLiteral("walrus"))->size(), 1);
        QCOMPARE(*store_->markInterruptedOnStartup(), 0);
        checkSearchIndexIntact();
    }

    // ---- Search --------------------------------------------------------------------------

    void search_data() {
        QTest::addColumn<QString>("query");
        QTest::addColumn<QStringList>("expectedTitles");
        QTest::addColumn<QString>("snippetMustContain");
        QTest::newRow("title word") << "recipes" << QStringList{"Pasta recipes"} << "<b>recipes</b>";
        QTest::newRow("message word") << "carbonara" << QStringList{"Pasta recipes"} << "<b>carbonara</b>";
        QTest::newRow("prefix of last word") << "carbo" << QStringList{"Pasta recipes"} << "<b>carbonara</b>";
        QTest::newRow("case and diacritics") << "CAFE" << QStringList{"Trip to Paris"} << "<b>café</b>";
        QTest::newRow("two words anywhere in a message")
            << "tower eiffel" << QStringList{"Trip to Paris"} << "<b>Eiffel</b>";
        QTest::newRow("title before message matches")
            << "paris" << QStringList{"Trip to Paris", "Pasta recipes"} << "<b>Paris</b>";
        QTest::newRow("no match") << "xylophone" << QStringList{} << "";
        QTest::newRow("unicode") << "日本語" << QStringList{"Languages"} << "<b>日本語</b>";
        QTest::newRow("html stays text") << "script" << QStringList{"Languages"} << "&lt;<b>script</b>&gt;";
    }

    void search() {
        QFETCH(QString, query);
        QFETCH(QStringList, expectedTitles);
        QFETCH(QString, snippetMustContain);
        QVERIFY(store_->importConversation(
            QStringLiteral("Pasta recipes"), {},
            {userMessage(QStringLiteral("How do I make carbonara?")),
             assistantMessage(QStringLiteral("Use guanciale, eggs and pecorino. Some say cream, "
                                             "as served in Paris, but that is heresy."))}));
        QVERIFY(store_->importConversation(QStringLiteral("Trip to Paris"), {},
                                           {userMessage(QStringLiteral("Best café near the Eiffel Tower?")),
                                            assistantMessage(QStringLiteral("Try the small places on Rue Cler."))}));
        QVERIFY(store_->importConversation(QStringLiteral("Languages"), {},
                                           {userMessage(QStringLiteral("How do you say language in 日本語 ?")),
                                            userMessage(QStringLiteral("And what does <script> do in HTML?"))}));

        Result<QList<SearchHit>> hits = store_->search(query, 10);
        QVERIFY2(hits, hits.error().c_str());
        QStringList titles;
        for (const SearchHit& hit : *hits) {
            titles.append(hit.title);
        }
        QCOMPARE(titles, expectedTitles);
        if (!hits->isEmpty()) {
            QVERIFY2(hits->first().snippet.contains(snippetMustContain), qPrintable(hits->first().snippet));
            QVERIFY(hits->first().conversationId > 0);
        }
    }

    void searchLimitAndTitleOnlySnippet() {
        for (int i = 0; i < 5; ++i) {
            QVERIFY(store_->importConversation(QStringLiteral("Gardening %1").arg(i), {},
                                               {userMessage(QStringLiteral("tomatoes"))}));
        }
        Result<QList<SearchHit>> hits = store_->search(QStringLiteral("gardening"), 3);
        QVERIFY(hits);
        QCOMPARE(hits->size(), 3);
        // Among equally good title matches, the most recently active comes first.
        QCOMPARE(hits->first().title, QStringLiteral("Gardening 4"));
        QVERIFY(hits->first().titleMatched);
        QCOMPARE(hits->first().messageId, 0);
        QCOMPARE(hits->first().snippet, QStringLiteral("<b>Gardening</b> 4"));
        QVERIFY(store_->search(QStringLiteral("gardening"), 0)->isEmpty());
    }

    void searchRanksByLatestMention_data() {
        QTest::addColumn<int>("limit");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("all") << -1 << QStringList{"Otter pictures", "Otters", "B", "A"};
        QTest::newRow("limited") << 3 << QStringList{"Otter pictures", "Otters", "B"};
        QTest::newRow("titles only fit") << 1 << QStringList{"Otter pictures"};
    }

    void searchRanksByLatestMention() {
        QFETCH(int, limit);
        QFETCH(QStringList, expected);
        const qint64 a =
            store_->importConversation(QStringLiteral("A"), {}, {userMessage(QStringLiteral("otter facts"))})->id;
        const qint64 b =
            store_->importConversation(QStringLiteral("B"), {}, {userMessage(QStringLiteral("nothing here"))})->id;
        QVERIFY(store_->importConversation(QStringLiteral("Otters"), {}, {userMessage(QStringLiteral("unrelated"))}));
        QVERIFY(store_->importConversation(QStringLiteral("Otter pictures"), {},
                                           {userMessage(QStringLiteral("an otter, floating"))}));
        // A is the most recently active, but B mentions otters most recently.
        QVERIFY(store_->appendMessage(b, userMessage(QStringLiteral("an otter appeared"))));
        QVERIFY(store_->appendMessage(a, userMessage(QStringLiteral("more text"))));

        Result<QList<SearchHit>> hits = store_->search(QStringLiteral("otter"), limit);
        QVERIFY2(hits, hits.error().c_str());
        QStringList titles;
        for (const SearchHit& hit : *hits) {
            titles.append(hit.title);
        }
        QCOMPARE(titles, expected);
        // Title matches: the mention in the text when one was seen before the list filled
        // up, else the highlighted title.
        QVERIFY(hits->at(0).titleMatched);
        if (limit >= 0) {
            QCOMPARE(hits->at(0).snippet, QStringLiteral("<b>Otter</b> pictures"));
        } else {
            QCOMPARE(hits->at(0).snippet, QStringLiteral("an <b>otter</b>, floating"));
            QVERIFY(hits->at(0).messageId != 0);
            QCOMPARE(hits->at(1).snippet, QStringLiteral("<b>Otters</b>"));
            QCOMPARE(hits->at(1).messageId, 0);
            QCOMPARE(hits->at(2).snippet, QStringLiteral("an <b>otter</b> appeared"));
            QVERIFY(!hits->at(2).titleMatched);
        }
    }

    void weirdQueriesNeverError_data() {
        QTest::addColumn<QString>("query");
        int index = 0;
        for (const char* q : {"\"",
                              "\"\"",
                              "'",
                              "*",
                              "**",
                              "a*b",
                              "NEAR",
                              "NEAR(a b)",
                              "foo NEAR bar",
                              "AND",
                              "OR",
                              "NOT",
                              "a OR",
                              "-",
                              "-foo",
                              "^",
                              "^foo",
                              "title:foo",
                              "col:",
                              "(",
                              ")",
                              "((a)",
                              "{a b}",
                              "a + b",
                              ":",
                              "\\",
                              "%",
                              "_",
                              "' OR 1=1 --",
                              "\"; DROP TABLE messages; --",
                              "   ",
                              "",
                              "\t\n",
                              "\xe2\x80\x8b",
                              "\xf0\x9f\x98\x80",
                              "\xf0\x9f\x98\x80 emoji",
                              "na\xc3\xafve",
                              "\xd0\xbf\xd1\x80\xd0\xb8",
                              "\x02\x03",
                              "a\x01z"}) {
            // Numbered tags: some queries are control characters or whitespace.
            QTest::addRow("query %d", index++) << QString::fromUtf8(q);
        }
        QTest::newRow("very long") << QString(5000, QLatin1Char('x'));
        QTest::newRow("many words") << QStringLiteral("w ").repeated(500);
    }

    void weirdQueriesNeverError() {
        QFETCH(QString, query);
        QVERIFY(store_->importConversation(QStringLiteral("foo bar"), {},
                                           {userMessage(QStringLiteral("foo NEAR bar \"quoted\" * stars"))}));
        Result<QList<SearchHit>> hits = store_->search(query);
        QVERIFY2(hits, hits.error().c_str());
    }

    void ftsMatchExpression_data() {
        addTextCases({
            {"one word", "hello", "\"hello\"*"},
            {"two words", "hello world", "\"hello\" \"world\"*"},
            {"quotes doubled", "say \"hi\"", "\"say\" \"\"\"hi\"\"\"*"},
            {"operators literal", "a NEAR b", "\"a\" \"NEAR\" \"b\"*"},
            {"punctuation-only words dropped", "* - ( hi", "\"hi\"*"},
            {"nothing searchable", " * \" ", ""},
            {"unicode", "Ünïcödé 東京", "\"Ünïcödé\" \"東京\"*"},
        });
    }

    void ftsMatchExpression() {
        const auto [input, expected] = textCase();
        QCOMPARE(fm::ftsMatchExpression(input), expected);
    }

    // ---- Settings ------------------------------------------------------------------------

    void settings_data() {
        addTextCases({
            {"plain", "theme", "dark"},
            {"json", "defaults", R"({"temperature":0.8,"top_k":40})"},
            {"empty value", "empty", ""},
            {"unicode", "greeting", "こんにちは"},
        });
    }

    void settings() {
        const auto [key, value] = textCase();
        QCOMPARE(*store_->setting(key), std::nullopt);
        QVERIFY(store_->setSetting(key, QStringLiteral("first")));
        QVERIFY(store_->setSetting(key, value));  // overwrite
        QCOMPARE(*store_->setting(key), std::optional<QString>(value));
        QVERIFY(store_->removeSetting(key));
        QCOMPARE(*store_->setting(key), std::nullopt);
    }

    void generationSettingsJson() {
        GenerationSettings s;
        QVERIFY(s.isDefault());
        QVERIFY(s.toJsonText().isEmpty());
        s.temperature = 0.9;
        s.topP = 0.95;
        s.topK = 50;
        s.minP = 0.05;
        s.repeatPenalty = 1.1;
        s.maxNewTokens = 2048;
        s.seed = 9007199254740991LL;
        QCOMPARE(GenerationSettings::fromJsonText(s.toJsonText()), s);
        QCOMPARE(GenerationSettings::fromJsonText(QStringLiteral("not json")), GenerationSettings{});
        QCOMPARE(GenerationSettings::fromJsonText(QStringLiteral(R"({"top_k":3,"future":1})")).topK,
                 std::optional<int>(3));
    }
};

QTEST_GUILESS_MAIN(TestStorage)
#include "test_storage.moc"
