// Snapshot store: files referenced by state_snapshots rows. Bit-exact round trips, which
// snapshots a prompt can start from, superseding and checkpoint thinning, corruption caught
// and set aside without touching anything else, retention, and tidying at open.
// Synthetic states (no model needed): the file format itself is tested in test_snapshot_file.

#include "app/storage/conversation_store.h"
#include "app/storage/database.h"
#include "app/storage/snapshot_store.h"
#include "tests/storage/storage_test_support.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace fm;

namespace {

// A small, valid snapshot whose contents depend on `seed` and that has read `tokens` tokens.
StoredSnapshot syntheticSnapshot(int tokens, int seed, const std::string& fingerprint = "fp-a/cpu-fp32-v1/chat") {
    StoredSnapshot s;
    s.fingerprint = fingerprint;
    RecurrentState& st = s.snapshot.state;
    st.layers = 2;
    st.inner = 8;
    st.conv_width = 3;
    st.state_size = 4;
    st.tokens_seen = static_cast<uint64_t>(tokens);
    st.conv.resize(2 * 8 * 3);
    st.ssm.resize(2 * 8 * 4);
    for (size_t i = 0; i < st.conv.size(); ++i) st.conv[i] = float(seed) * 0.5f + float(i) * 0.25f;
    for (size_t i = 0; i < st.ssm.size(); ++i) st.ssm[i] = -float(seed) + float(i) * 1e-3f;
    for (int i = 0; i < tokens; ++i) s.snapshot.tokens.push_back((i * 7 + seed) % 512);
    s.snapshot.text = "text of " + std::to_string(tokens) + " tokens";
    s.snapshot.last_logits = {0.5f, -1.0f, float(seed)};
    s.metadata = "{}";
    return s;
}

using fm::testing::message;

// What happens to a snapshot file behind the store's back.
enum class Damage { Truncate, FlipStateByte, RewriteChecksum, SwapForAnother, Empty, Delete };

}  // namespace

Q_DECLARE_METATYPE(Damage)

class TestSnapshotStore : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<fm::testing::StoreFixture> fixture_;
    ConversationStore* store_ = nullptr;
    std::unique_ptr<SnapshotStore> snapshots_;

    QString snapshotDir() const { return fixture_->dir.filePath(QStringLiteral("snapshots")); }

    // A conversation of `turns` user/assistant exchanges; returns the message ids in order.
    QList<qint64> conversation(int turns, qint64* conversationId) {
        auto c = store_->createConversation(QStringLiteral("c"));
        *conversationId = c->id;
        QList<qint64> ids;
        for (int t = 0; t < turns; ++t) {
            ids.append(store_->appendMessage(c->id, message(MessageRole::User, QStringLiteral("q%1").arg(t)))->id);
            ids.append(store_->appendMessage(c->id, message(MessageRole::Assistant, QStringLiteral("a%1").arg(t)))->id);
        }
        return ids;
    }
    QStringList filesIn(const QString& path) const { return QDir(path).entryList(QDir::Files, QDir::Name); }
    QStringList kindsOf(qint64 conversationId) {
        QStringList kinds;
        for (const SnapshotRow& r : *snapshots_->snapshots(conversationId)) kinds.append(r.row.kind);
        kinds.sort();
        return kinds;
    }

private slots:
    void init() {
        fixture_ = std::make_unique<fm::testing::StoreFixture>();
        QVERIFY(fixture_->open(QStringLiteral("conversations.sqlite3")));
        store_ = fixture_->store.get();
        snapshots_ = std::make_unique<SnapshotStore>(fixture_->db, snapshotDir());
        QVERIFY(snapshots_->open());
    }
    void cleanup() {
        snapshots_.reset();
        store_ = nullptr;
        fixture_.reset();
    }

    void savedSnapshotsLoadBackBitExactly() {
        qint64 c = 0;
        const QList<qint64> ids = conversation(1, &c);
        const StoredSnapshot original = syntheticSnapshot(40, 3);
        auto row = snapshots_->save(c, ids[1], snapshot_kind::kTurn, original);
        QVERIFY2(row, row.error().c_str());
        QCOMPARE(row->tokenCount, qint64(40));
        QCOMPARE(row->byteSize, QFileInfo(snapshots_->absolutePath(*row)).size());
        QVERIFY(row->checksum.startsWith(QStringLiteral("crc32:")));
        QVERIFY(!QDir::isAbsolutePath(row->filePath));  // relative: the data folder can move

        // Another connection, another store object: as after a restart.
        Database other;
        QVERIFY(other.open(fixture_->dir.filePath(QStringLiteral("conversations.sqlite3"))));
        SnapshotStore reopened(other, snapshotDir());
        QVERIFY(reopened.open());
        auto rows = reopened.snapshots(c);
        QCOMPARE(rows->size(), 1);
        SnapshotLoad loaded = reopened.load(rows->first().row);
        QVERIFY2(loaded.stored, qPrintable(loaded.error));
        QVERIFY(loaded.stored->snapshot.state == original.snapshot.state);
        QCOMPARE(loaded.stored->snapshot.tokens, original.snapshot.tokens);
        QCOMPARE(loaded.stored->snapshot.last_logits, original.snapshot.last_logits);
        QCOMPARE(encode_snapshot(*loaded.stored), encode_snapshot(original));
    }

    // Which snapshots can start a prompt: the path is what the prompt contains.
    void applicability_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<qint64>("messageId");
        QTest::addColumn<qint64>("parentId");
        QTest::addColumn<QString>("pathSpec");  // "id:role" items, role u or a
        QTest::addColumn<int>("covered");       // -1: not applicable
        QTest::newRow("turn on the path") << "turn" << qint64(4) << qint64(3) << "1:u 2:a 3:u 4:a 5:u" << 4;
        QTest::newRow("turn off the path (other branch)")
            << "turn" << qint64(9) << qint64(3) << "1:u 2:a 3:u 4:a 5:u" << -1;
        QTest::newRow("checkpoint on the path") << "checkpoint" << qint64(2) << qint64(1) << "1:u 2:a 3:u 4:a 5:u" << 2;
        QTest::newRow("before_reply: regenerate (path ends at its parent)")
            << "before_reply" << qint64(6) << qint64(5) << "1:u 2:a 3:u 4:a 5:u" << 5;
        QTest::newRow("before_reply: prompt goes on through a sibling reply")
            << "before_reply" << qint64(9) << qint64(3) << "1:u 2:a 3:u 4:a 5:u" << 3;
        QTest::newRow("before_reply: parent not on the path (edited question)")
            << "before_reply" << qint64(6) << qint64(7) << "1:u 2:a 3:u 4:a 5:u" << -1;
        QTest::newRow("before_reply: the reply was left out (empty), a user turn follows")
            << "before_reply" << qint64(2) << qint64(1) << "1:u 3:u" << -1;
        QTest::newRow("unknown kind") << "something" << qint64(4) << qint64(3) << "1:u 2:a 3:u 4:a 5:u" << -1;
    }
    void applicability() {
        QFETCH(QString, kind);
        QFETCH(qint64, messageId);
        QFETCH(qint64, parentId);
        QFETCH(QString, pathSpec);
        QFETCH(int, covered);
        QList<PromptMessage> path;
        for (const QString& item : pathSpec.split(QLatin1Char(' '))) {
            const QStringList parts = item.split(QLatin1Char(':'));
            path.append(
                {parts[0].toLongLong(), parts[1] == QStringLiteral("a") ? MessageRole::Assistant : MessageRole::User});
        }
        SnapshotRow row;
        row.row.id = 1;
        row.row.kind = kind;
        row.row.messageId = messageId;
        row.messageParentId = parentId;
        const QList<SnapshotCandidate> found = SnapshotStore::applicable({row}, path);
        QCOMPARE(found.isEmpty() ? -1 : found.first().messagesCovered, covered);
    }

    void candidatesAreDeepestFirst() {
        qint64 c = 0;
        const QList<qint64> ids = conversation(3, &c);  // q0 a0 q1 a1 q2 a2
        QVERIFY(snapshots_->save(c, ids[1], snapshot_kind::kCheckpoint, syntheticSnapshot(10, 1)));
        QVERIFY(snapshots_->save(c, ids[3], snapshot_kind::kTurn, syntheticSnapshot(20, 2)));
        QVERIFY(snapshots_->save(c, ids[5], snapshot_kind::kBeforeReply, syntheticSnapshot(25, 3)));
        // The prompt of a new question after a1 (as on another branch from q2 on).
        QList<PromptMessage> path;
        for (int i = 0; i < 4; ++i) path.append({ids[i], i % 2 ? MessageRole::Assistant : MessageRole::User});
        auto found = snapshots_->candidates(c, path);
        QVERIFY(found);
        QCOMPARE(found->size(), 2);  // before_reply of a2 is under q2, not on this path
        QCOMPARE(found->at(0).row.tokenCount, qint64(20));
        QCOMPARE(found->at(0).messagesCovered, 4);
        QCOMPARE(found->at(1).row.tokenCount, qint64(10));
    }

    void newSnapshotsSupersedeOldOnes() {
        qint64 c = 0;
        const QList<qint64> ids = conversation(3, &c);
        auto first = snapshots_->save(c, ids[1], snapshot_kind::kTurn, syntheticSnapshot(10, 1));
        QVERIFY(snapshots_->save(c, ids[1], snapshot_kind::kBeforeReply, syntheticSnapshot(8, 1)));
        QCOMPARE(kindsOf(c), (QStringList{QStringLiteral("before_reply"), QStringLiteral("turn")}));
        auto second = snapshots_->save(c, ids[3], snapshot_kind::kTurn, syntheticSnapshot(20, 2));
        QCOMPARE(kindsOf(c), (QStringList{QStringLiteral("before_reply"), QStringLiteral("turn")}));
        QVERIFY(!QFile::exists(snapshots_->absolutePath(*first)));  // its file went with its row
        // A checkpoint is also the latest turn: the previous "turn" goes.
        QVERIFY(snapshots_->save(c, ids[5], snapshot_kind::kCheckpoint, syntheticSnapshot(30, 3)));
        QCOMPARE(kindsOf(c), (QStringList{QStringLiteral("before_reply"), QStringLiteral("checkpoint")}));
        QVERIFY(!QFile::exists(snapshots_->absolutePath(*second)));
        QCOMPARE(snapshots_->fileCount(), 2);
    }

    void checkpointsAreThinnedButStaySpread() {
        qint64 c = 0;
        const QList<qint64> ids = conversation(12, &c);
        for (int t = 0; t < 12; ++t)
            QVERIFY(
                snapshots_->save(c, ids[2 * t + 1], snapshot_kind::kCheckpoint, syntheticSnapshot(100 * (t + 1), t)));
        QList<qint64> kept;
        for (const SnapshotRow& r : *snapshots_->snapshots(c)) kept.append(r.row.tokenCount);
        std::sort(kept.begin(), kept.end());
        QCOMPARE(kept.size(), SnapshotStore::kMaxCheckpointsPerConversation);
        QCOMPARE(kept.last(), qint64(1200));  // the newest is always kept
        // Spread over the whole conversation, not bunched at the end: no gap above half.
        qint64 previous = 0;
        for (qint64 k : kept) {
            QVERIFY2(k - previous <= 600, qPrintable(QStringLiteral("gap %1").arg(k - previous)));
            previous = k;
        }
        QCOMPARE(snapshots_->fileCount(), SnapshotStore::kMaxCheckpointsPerConversation);
    }

    // Damage of every kind is caught, the file set aside and its row removed; the other
    // snapshots (this conversation's and another's) are untouched.
    void corruptionIsCaughtAndSetAside_data() {
        QTest::addColumn<Damage>("damage");
        QTest::addColumn<QString>("expected");
        QTest::addColumn<bool>("keptAside");
        QTest::newRow("truncated") << Damage::Truncate << "bytes instead of" << true;
        QTest::newRow("flipped byte in the state") << Damage::FlipStateByte << "checksum" << true;
        QTest::newRow("trailing checksum rewritten") << Damage::RewriteChecksum << "checksum" << true;
        QTest::newRow("replaced by another valid snapshot") << Damage::SwapForAnother << "checksum" << true;
        QTest::newRow("emptied") << Damage::Empty << "bytes instead of" << true;
        QTest::newRow("deleted") << Damage::Delete << "missing" << false;
    }
    void corruptionIsCaughtAndSetAside() {
        QFETCH(Damage, damage);
        QFETCH(QString, expected);
        QFETCH(bool, keptAside);
        qint64 c = 0, other = 0;
        const QList<qint64> ids = conversation(2, &c);
        const QList<qint64> otherIds = conversation(1, &other);
        auto victim = snapshots_->save(c, ids[3], snapshot_kind::kTurn, syntheticSnapshot(30, 1));
        auto sibling = snapshots_->save(c, ids[3], snapshot_kind::kBeforeReply, syntheticSnapshot(25, 2));
        auto elsewhere = snapshots_->save(other, otherIds[1], snapshot_kind::kTurn, syntheticSnapshot(12, 3));
        QVERIFY(victim && sibling && elsewhere);
        const QString path = snapshots_->absolutePath(*victim);
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadWrite));
        QByteArray bytes = file.readAll();
        if (damage == Damage::Truncate) {
            QVERIFY(file.resize(bytes.size() / 2));
        } else if (damage == Damage::FlipStateByte) {
            bytes[bytes.size() - 40] = char(bytes[bytes.size() - 40] ^ 0x10);
        } else if (damage == Damage::RewriteChecksum) {
            bytes[bytes.size() - 1] = char(bytes[bytes.size() - 1] ^ 0x01);
        } else if (damage == Damage::SwapForAnother) {
            // Same length, valid on its own, but not the snapshot the row recorded.
            const std::vector<uint8_t> same = encode_snapshot(syntheticSnapshot(30, 9));
            bytes = QByteArray(reinterpret_cast<const char*>(same.data()), qsizetype(same.size()));
        } else if (damage == Damage::Empty) {
            QVERIFY(file.resize(0));
        }
        if (damage == Damage::FlipStateByte || damage == Damage::RewriteChecksum || damage == Damage::SwapForAnother) {
            QVERIFY(file.seek(0));
            QCOMPARE(file.write(bytes), bytes.size());
        }
        file.close();
        if (damage == Damage::Delete) QVERIFY(QFile::remove(path));

        const SnapshotLoad loaded = snapshots_->load(*victim);
        QVERIFY(!loaded.stored);
        QVERIFY(loaded.corrupt);
        QVERIFY2(loaded.error.contains(expected), qPrintable(loaded.error));
        QVERIFY(!QFile::exists(path));
        QCOMPARE(QFile::exists(path + SnapshotStore::kCorruptSuffix), keptAside);
        QCOMPARE(kindsOf(c), QStringList{QStringLiteral("before_reply")});  // only the victim's row went
        QVERIFY(snapshots_->load(*sibling).stored);
        QVERIFY(snapshots_->load(*elsewhere).stored);
        QCOMPARE(store_->pathToLeaf(c)->size(), 4);  // the conversation itself is untouched
    }

    void retentionKeepsTheMostRecentConversations_data() {
        QTest::addColumn<int>("keep");
        QTest::newRow("keep 2 of 4") << 2;
        QTest::newRow("keep all") << 20;
        QTest::newRow("keep none") << 0;
    }
    void retentionKeepsTheMostRecentConversations() {
        QFETCH(int, keep);
        QList<qint64> conversations;
        for (int i = 0; i < 4; ++i) {
            qint64 c = 0;
            const QList<qint64> ids = conversation(1, &c);
            QVERIFY(snapshots_->save(c, ids[1], snapshot_kind::kTurn, syntheticSnapshot(10 + i, i)));
            conversations.append(c);
        }
        // The oldest one becomes the most recent; a soft-deleted one never counts.
        QVERIFY(store_->appendMessage(conversations[0], message(MessageRole::User, QStringLiteral("back again"))));
        QVERIFY(store_->deleteConversation(conversations[3]));
        const qint64 before = snapshots_->diskUsageBytes();
        QVERIFY(before > 0);
        auto report = snapshots_->enforceRetention(keep);
        QVERIFY2(report, report.error().c_str());
        QList<qint64> withSnapshots;
        for (qint64 c : conversations)
            if (!snapshots_->snapshots(c)->isEmpty()) withSnapshots.append(c);
        const QList<qint64> expected = keep == 0 ? QList<qint64>{}
                                       : keep == 2
                                           ? QList<qint64>{conversations[0], conversations[2]}
                                           : QList<qint64>{conversations[0], conversations[1], conversations[2]};
        QCOMPARE(withSnapshots, expected);
        QCOMPARE(report->removedSnapshots, 4 - int(expected.size()));
        QCOMPARE(snapshots_->fileCount(), int(expected.size()));
        QCOMPARE(snapshots_->diskUsageBytes(), before - report->removedBytes);
    }

    // After a crash: a half-written temporary file, a file whose row was never written, a row
    // whose file is gone, and many set-aside corrupt files.
    void openTidiesTheFolder() {
        qint64 c = 0;
        const QList<qint64> ids = conversation(2, &c);
        auto good = snapshots_->save(c, ids[1], snapshot_kind::kTurn, syntheticSnapshot(10, 1));
        auto lost = snapshots_->save(c, ids[3], snapshot_kind::kBeforeReply, syntheticSnapshot(12, 2));
        QVERIFY(good && lost);
        QVERIFY(QFile::remove(snapshots_->absolutePath(*lost)));
        const QDir dir(snapshotDir());
        auto touch = [&](const QString& name) {
            QFile f(dir.filePath(name));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("x");
        };
        touch(QStringLiteral("c1-m2-turn-abc.fmstate.tmp"));
        touch(QStringLiteral("c1-m2-turn-orphan.fmstate"));
        for (int i = 0; i < SnapshotStore::kCorruptFilesKept + 2; ++i)
            touch(QStringLiteral("c1-m%1-turn-x.fmstate.corrupt").arg(i));
        touch(QStringLiteral("notes.txt"));  // not ours: left alone

        QVERIFY(snapshots_->open());
        const QStringList files = filesIn(snapshotDir());
        QVERIFY(files.contains(good->filePath));
        QVERIFY(files.contains(QStringLiteral("notes.txt")));
        QVERIFY(!files.contains(QStringLiteral("c1-m2-turn-orphan.fmstate")));
        QVERIFY(!files.contains(QStringLiteral("c1-m2-turn-abc.fmstate.tmp")));
        QCOMPARE(files.filter(SnapshotStore::kCorruptSuffix).size(), SnapshotStore::kCorruptFilesKept);
        QCOMPARE(kindsOf(c), QStringList{QStringLiteral("turn")});  // the row without a file went
    }

    // Purging a conversation removes its rows (ON DELETE CASCADE); the next open removes the
    // files they referenced.
    void purgedConversationsLeaveNoFiles() {
        qint64 c = 0;
        const QList<qint64> ids = conversation(1, &c);
        QVERIFY(snapshots_->save(c, ids[1], snapshot_kind::kTurn, syntheticSnapshot(10, 1)));
        QCOMPARE(snapshots_->fileCount(), 1);
        QVERIFY(store_->purgeConversation(c));
        QVERIFY(snapshots_->open());
        QCOMPARE(snapshots_->fileCount(), 0);
        QCOMPARE(snapshots_->diskUsageBytes(), qint64(0));
    }

    void saveToAnUnwritableFolderFailsCleanly() {
        qint64 c = 0;
        const QList<qint64> ids = conversation(1, &c);
        // A file where the folder should be.
        QFile blocker(fixture_->dir.filePath(QStringLiteral("blocked")));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        SnapshotStore blocked(fixture_->db, fixture_->dir.filePath(QStringLiteral("blocked")));
        QVERIFY(!blocked.open());
        auto saved = blocked.save(c, ids[1], snapshot_kind::kTurn, syntheticSnapshot(10, 1));
        QVERIFY(!saved);
        QVERIFY(!errorText(saved).isEmpty());
        QVERIFY(snapshots_->snapshots(c)->isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestSnapshotStore)
#include "test_snapshot_store.moc"
