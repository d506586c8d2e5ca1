// Instant resume through the app's path: the inference worker on its own thread with its
// snapshot store, a conversation store on this thread playing the controller's part, and
// "quitting" by ending the worker's thread and starting a new one on the same files.
//
// Shows: a resumed conversation continues exactly as one that never quit; reopening a long
// conversation reads only the new message when its saved state fits the model and everything
// (with the reason) when it does not; regenerating restores the state before the reply;
// editing an old message restarts from the nearest earlier checkpoint; damaged saved states
// are set aside with a warning and rebuilt.

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include <memory>

#include "app/storage/conversation_store.h"
#include "app/storage/database.h"
#include "app/storage/snapshot_store.h"
#include "app/worker/inference_worker.h"
#include "inference/chat/chat_format.h"
#include "inference/text/tokenizer.h"
#include "tests/app/app_test_support.h"

using namespace fm::app;
using fm::app::testing::tinyChatDir;
using fm::app::testing::waitForSignal;
using fm::app::testing::WorkerHost;

namespace {

struct Turn {
    GenerationSummary summary;
    qint64 replyId = 0;
    QString resumeReason;
    int prefillProgressSignals = 0;
    QStringList warnings;
};

fm::GenerationParams greedy(int tokens) {
    fm::GenerationParams p;
    p.sampling.temperature = 0;
    p.max_new_tokens = tokens;
    return p;
}

}  // namespace

class TestResume : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> dir_;
    std::unique_ptr<fm::Database> db_;
    std::unique_ptr<fm::ConversationStore> store_;
    std::unique_ptr<WorkerHost> host_;
    quint64 nextRequest_ = 0;

    QString dbPath() const { return dir_->filePath(QStringLiteral("conversations.sqlite3")); }
    QString snapshotDir() const { return dir_->filePath(QStringLiteral("snapshots")); }

    // Starts a worker (as at app start) with `checkpoint` loaded and snapshots open.
    bool startWorker(const QString& checkpoint = tinyChatDir(), bool quantize = false, int retention = 20) {
        host_ = std::make_unique<WorkerHost>();
        QSignalSpy loaded(host_->worker, &InferenceWorker::modelLoaded);
        QMetaObject::invokeMethod(
            host_->worker,
            [w = host_->worker, checkpoint, quantize, db = dbPath(), dir = snapshotDir(), retention] {
                w->openSnapshots(db, dir, retention);
                w->loadModel({checkpoint, BackendChoiceKind::Cpu, quantize, 2});
            },
            Qt::QueuedConnection);
        return waitForSignal(loaded, 30000);
    }
    // Quitting: the worker's thread ends, its session and state are gone.
    void quitWorker() { host_.reset(); }

    // What the controller does for a reply under `parentId`: the visible path as the prompt,
    // an assistant message to key snapshots to, the final text saved when it is done.
    Turn reply(qint64 conversationId, qint64 parentId, const fm::GenerationParams& params, bool ignoreStops = true) {
        Turn turn;
        GenerationRequest request;
        request.requestId = ++nextRequest_;
        request.conversationId = conversationId;
        request.params = params;
        request.ignoreStopTokens = ignoreStops;
        for (const fm::BranchMessage& b : *store_->pathTo(parentId)) {
            if (b.message.role == fm::MessageRole::Assistant && b.message.content.isEmpty()) continue;
            request.messages.append({fm::toText(b.message.role), b.message.content});
            request.messageIds.append(b.message.id);
        }
        auto message = store_->beginAssistantMessage(conversationId, parentId);
        request.replyMessageId = message->id;
        turn.replyId = message->id;
        QSignalSpy finished(host_->worker, &InferenceWorker::generationFinished);
        QSignalSpy failed(host_->worker, &InferenceWorker::generationFailed);
        QSignalSpy prepared(host_->worker, &InferenceWorker::resumePrepared);
        QSignalSpy progress(host_->worker, &InferenceWorker::prefillProgress);
        QSignalSpy warnings(host_->worker, &InferenceWorker::snapshotWarning);
        QMetaObject::invokeMethod(
            host_->worker, [w = host_->worker, request] { w->generate(request); }, Qt::QueuedConnection);
        host_->sync();  // the reply and the snapshots after it
        if (!failed.isEmpty()) qWarning("generation failed: %s", qPrintable(failed.first().at(1).toString()));
        if (finished.isEmpty()) return turn;
        turn.summary = finished.first().at(1).value<GenerationSummary>();
        if (!prepared.isEmpty()) turn.resumeReason = prepared.first().at(3).toString();
        turn.prefillProgressSignals = int(progress.size());
        for (const auto& w : warnings) turn.warnings << w.at(0).toString();
        (void)store_->finishMessage(message->id, fm::MessageStatus::Complete, {}, turn.summary.text);
        return turn;
    }
    Turn send(qint64 conversationId, const QString& text, const fm::GenerationParams& params = greedy(12)) {
        fm::NewMessage m;
        m.content = text;
        auto user = store_->appendMessage(conversationId, m);
        return reply(conversationId, user->id, params);
    }
    qint64 newConversation() { return store_->createConversation(QStringLiteral("resume"))->id; }
    QList<fm::SnapshotRow> snapshotRows(qint64 conversationId) {
        fm::SnapshotStore snapshots(*db_, snapshotDir());
        return *snapshots.snapshots(conversationId);
    }
    std::optional<fm::SnapshotRow> row(qint64 conversationId, const QString& kind) {
        for (const fm::SnapshotRow& r : snapshotRows(conversationId))
            if (r.row.kind == kind) return r;
        return std::nullopt;
    }
    // Tokens of `text` as the fixture's tokenizer reads the scaffolding (specials parsed).
    static qint64 tokenCount(const std::string& text, bool special) {
        static std::shared_ptr<fm::Tokenizer> tokenizer(
            fm::Tokenizer::load_from_dir(tinyChatDir().toStdString()).value());
        return static_cast<qint64>(tokenizer->encode(text, special)->size());
    }
    // What a new user turn costs after a completed reply: the reply's closing, the message,
    // and the generation prompt (ChatML, as the fixture's template writes it).
    static qint64 newTurnTokens(const QString& message) {
        return tokenCount("<|im_end|>\n<|im_start|>user\n", true) + tokenCount(message.toStdString(), false) +
               tokenCount("<|im_end|>\n<|im_start|>assistant\n", true);
    }

private slots:
    void initTestCase() {
        qRegisterMetaType<GenerationSummary>();
        qRegisterMetaType<LoadedModelInfo>();
        qRegisterMetaType<MemoryFigures>();
    }
    void init() {
        dir_ = std::make_unique<QTemporaryDir>();
        QVERIFY(dir_->isValid());
        db_ = std::make_unique<fm::Database>();
        QVERIFY(db_->open(dbPath()));
        store_ = std::make_unique<fm::ConversationStore>(*db_);
    }
    void cleanup() {
        quitWorker();
        store_.reset();
        db_.reset();
        dir_.reset();
    }

    // 1. Determinism: save, quit, load, continue == continue without quitting, token for
    //    token; the two conversations' saved states are the same bits.
    void resumedConversationContinuesAsIfNeverQuit() {
        QVERIFY(startWorker());
        const QStringList messages{QStringLiteral("Hello there, falcon."), QStringLiteral("What do you eat?"),
                                   QStringLiteral("And where do you sleep at night?")};
        const qint64 quitting = newConversation();
        const qint64 staying = newConversation();
        for (qint64 c : {quitting, staying})
            for (const QString& m : messages) QVERIFY(!send(c, m).summary.stopReason.isEmpty());
        const auto savedQuitting = row(quitting, fm::snapshot_kind::kTurn);
        const auto savedStaying = row(staying, fm::snapshot_kind::kTurn);
        QVERIFY(savedQuitting && savedStaying);
        fm::SnapshotStore snapshots(*db_, snapshotDir());
        const fm::SnapshotLoad a = snapshots.load(savedQuitting->row);
        const fm::SnapshotLoad b = snapshots.load(savedStaying->row);
        QVERIFY(a.stored && b.stored);
        QVERIFY(a.stored->snapshot.state == b.stored->snapshot.state);  // bit for bit
        QCOMPARE(a.stored->snapshot.tokens, b.stored->snapshot.tokens);

        const QString next = QStringLiteral("Tell me one more thing.");
        const Turn neverQuit = send(staying, next, greedy(24));  // the session still has it in memory
        QCOMPARE(neverQuit.summary.resumedFrom, QStringLiteral("memory"));

        quitWorker();
        QVERIFY(startWorker());
        const Turn resumed = send(quitting, next, greedy(24));
        QCOMPARE(resumed.summary.resumedFrom, QStringLiteral("turn"));
        QVERIFY(resumed.resumeReason.isEmpty());
        QCOMPARE(resumed.summary.reusedTokens, savedQuitting->row.tokenCount);
        QCOMPARE(resumed.summary.prefilledTokens, newTurnTokens(next));
        QCOMPARE(resumed.summary.prefilledTokens, neverQuit.summary.prefilledTokens);
        QCOMPARE(resumed.summary.generatedTokens, qint64(24));
        QCOMPARE(resumed.summary.text, neverQuit.summary.text);
    }

    // 2. A conversation of 100 turns reopened: only the new message when the saved state fits
    //    this model; everything, with progress and the reason, when it does not.
    void reopeningALongConversation_data() {
        QTest::addColumn<QString>("variant");
        QTest::addColumn<bool>("matches");
        QTest::addColumn<QString>("reason");
        QTest::newRow("same model") << "same" << true << QString();
        QTest::newRow("weights now 4-bit") << "q4" << false << "different checkpoint or weight format";
        QTest::newRow("another checkpoint folder") << "copy" << false << "different checkpoint or weight format";
    }
    void reopeningALongConversation() {
        QFETCH(QString, variant);
        QFETCH(bool, matches);
        QFETCH(QString, reason);
        QList<fm::NewMessage> history;
        for (int t = 0; t < 100; ++t) {
            fm::NewMessage user, assistant;
            user.content = QStringLiteral("Question %1: how high do falcons fly over the sea?").arg(t);
            assistant.role = fm::MessageRole::Assistant;
            assistant.content = QStringLiteral("Answer %1: quite high, and fast when they dive.").arg(t);
            history << user << assistant;
        }
        const qint64 c = store_->importConversation(QStringLiteral("long"), {}, history)->id;
        QVERIFY(startWorker());
        const Turn first = send(c, QStringLiteral("Turn 101."));  // nothing saved yet: all read
        QVERIFY(first.summary.prefilledTokens > 3000);
        QCOMPARE(first.summary.prefilledTokens, first.summary.promptTokens);
        QVERIFY(first.resumeReason.contains(QStringLiteral("no saved state")));
        QVERIFY(row(c, fm::snapshot_kind::kTurn));

        quitWorker();
        QString checkpoint = tinyChatDir();
        QTemporaryDir copy;
        if (variant == QStringLiteral("copy")) {
            // The same shape and tokenizer, one weight changed: another checkpoint.
            for (const QString& name : QDir(tinyChatDir()).entryList(QDir::Files))
                QVERIFY(QFile::copy(QDir(tinyChatDir()).filePath(name), copy.filePath(name)));
            QFile weights(copy.filePath(QStringLiteral("model.safetensors")));
            QVERIFY(weights.open(QIODevice::ReadWrite));
            QVERIFY(weights.seek(weights.size() - 1));
            const char last = weights.read(1).at(0);
            QVERIFY(weights.seek(weights.size() - 1));
            weights.write(QByteArray(1, char(last ^ 0x01)));
            weights.close();
            checkpoint = copy.path();
        }
        QVERIFY(startWorker(checkpoint, variant == QStringLiteral("q4")));
        const QString message = QStringLiteral("Turn 102: what did we talk about?");
        const Turn reopened = send(c, message);
        if (matches) {
            QCOMPARE(reopened.summary.resumedFrom, QStringLiteral("turn"));
            QCOMPARE(reopened.summary.prefilledTokens, newTurnTokens(message));
            QVERIFY(reopened.summary.promptTokens > 3000);
            QVERIFY(!reopened.summary.restarted);
            QVERIFY(reopened.resumeReason.isEmpty());
        } else {
            QCOMPARE(reopened.summary.resumedFrom, QString());
            QCOMPARE(reopened.summary.prefilledTokens, reopened.summary.promptTokens);
            QVERIFY(reopened.summary.promptTokens > 3000);
            QVERIFY(reopened.summary.restarted);
            QVERIFY2(reopened.resumeReason.contains(reason), qPrintable(reopened.resumeReason));
            QCOMPARE(reopened.summary.restartReason, reopened.resumeReason);
            QVERIFY(reopened.prefillProgressSignals > 1);  // the progress bar has something to show
            // Rebuilt under the new fingerprint: the next reopen resumes again.
            quitWorker();
            QVERIFY(startWorker(checkpoint, variant == QStringLiteral("q4")));
            const Turn again = send(c, QStringLiteral("Turn 103."));
            QCOMPARE(again.summary.resumedFrom, QStringLiteral("turn"));
            QCOMPARE(again.summary.prefilledTokens, newTurnTokens(QStringLiteral("Turn 103.")));
        }
    }

    // 3. Regenerate: the state before the reply is restored; same seed, same reply; another
    //    seed, another reply; the history is never read again. Also across a restart.
    void regenerateRestoresTheStateBeforeTheReply_data() {
        QTest::addColumn<bool>("restart");
        QTest::newRow("same session") << false;
        QTest::newRow("after a restart") << true;
    }
    void regenerateRestoresTheStateBeforeTheReply() {
        QFETCH(bool, restart);
        QVERIFY(startWorker());
        const qint64 c = newConversation();
        QVERIFY(!send(c, QStringLiteral("Hi!")).summary.stopReason.isEmpty());
        fm::GenerationParams sampled;
        sampled.sampling.temperature = 0.9f;
        sampled.sampling.top_k = 0;
        sampled.sampling.top_p = 1;
        sampled.sampling.min_p = 0;
        sampled.sampling.seed = 7;
        sampled.max_new_tokens = 16;
        const Turn original = send(c, QStringLiteral("Tell me a story."), sampled);
        const qint64 question = store_->message(original.replyId)->parentId;
        if (restart) {
            quitWorker();
            QVERIFY(startWorker());
        }
        const Turn same = reply(c, question, sampled);
        QCOMPARE(same.summary.resumedFrom, QStringLiteral("before_reply"));
        QCOMPARE(same.summary.prefilledTokens, qint64(0));
        QCOMPARE(same.summary.text, original.summary.text);
        fm::GenerationParams otherSeed = sampled;
        otherSeed.sampling.seed = 8;
        const Turn other = reply(c, question, otherSeed);
        QCOMPARE(other.summary.resumedFrom, QStringLiteral("before_reply"));
        QCOMPARE(other.summary.prefilledTokens, qint64(0));
        QVERIFY(other.summary.text != original.summary.text);
        QCOMPARE(store_->siblings(original.replyId)->size(), 3);  // all three replies kept
    }

    // Editing an old message: a sibling, and the state restarts from the nearest earlier
    // checkpoint instead of the beginning. Switching back continues the visible branch.
    void editingAnOldMessageRestartsFromTheNearestCheckpoint() {
        QVERIFY(startWorker());
        const qint64 c = newConversation();
        QList<Turn> turns;
        for (int t = 1; t <= 9; ++t) turns << send(c, QStringLiteral("Message number %1.").arg(t));
        QList<qint64> checkpointTokens;
        for (const fm::SnapshotRow& r : snapshotRows(c))
            if (r.row.kind == fm::snapshot_kind::kCheckpoint) checkpointTokens << r.row.tokenCount;
        QCOMPARE(checkpointTokens.size(), 2);  // after turns 4 and 8
        const auto afterFour = row(c, fm::snapshot_kind::kCheckpoint);

        // Edit the 6th question: the 4th reply's checkpoint is the nearest earlier state.
        const qint64 sixth = store_->message(turns[5].replyId)->parentId;
        auto edited = store_->editMessage(sixth, QStringLiteral("Message number six, rephrased."));
        QVERIFY(edited);
        const Turn afterEdit = reply(c, edited->id, greedy(12));
        QCOMPARE(afterEdit.summary.resumedFrom, QStringLiteral("checkpoint"));
        QCOMPARE(afterEdit.summary.reusedTokens, afterFour->row.tokenCount);
        QCOMPARE(afterEdit.summary.prefilledTokens, afterEdit.summary.promptTokens - afterFour->row.tokenCount);
        QVERIFY(!afterEdit.summary.restarted);
        QCOMPARE(store_->siblings(edited->id)->size(), 2);

        // Back to the original branch: the model reads that branch, from its deepest state
        // (the checkpoint after turn 8; the latest "turn" belongs to the edited branch).
        QVERIFY(store_->switchToBranch(turns[8].replyId));
        QCOMPARE(store_->pathToLeaf(c)->last().message.id, turns[8].replyId);
        const Turn back = send(c, QStringLiteral("Back on the first branch."));
        QCOMPARE(back.summary.resumedFrom, QStringLiteral("checkpoint"));
        QCOMPARE(back.summary.reusedTokens, checkpointTokens.last());
        QCOMPARE(store_->message(store_->message(back.replyId)->parentId)->parentId, turns[8].replyId);
    }

    // 4. A damaged saved state is caught, set aside with a warning, and rebuilt; the
    //    conversation and its other states are untouched.
    void damagedStatesAreSetAsideAndRebuilt_data() {
        QTest::addColumn<QString>("damage");
        QTest::newRow("truncated") << "truncate";
        QTest::newRow("flipped byte") << "flip";
        QTest::newRow("deleted") << "delete";
    }
    void damagedStatesAreSetAsideAndRebuilt() {
        QFETCH(QString, damage);
        QVERIFY(startWorker());
        const qint64 c = newConversation();
        for (int t = 1; t <= 3; ++t) QVERIFY(!send(c, QStringLiteral("Turn %1.").arg(t)).summary.stopReason.isEmpty());
        quitWorker();
        const auto turn = row(c, fm::snapshot_kind::kTurn);
        QVERIFY(turn);
        const QString path = QDir(snapshotDir()).filePath(turn->row.filePath);
        if (damage == QStringLiteral("delete")) {
            QVERIFY(QFile::remove(path));
        } else {
            QFile file(path);
            QVERIFY(file.open(QIODevice::ReadWrite));
            if (damage == QStringLiteral("truncate")) {
                QVERIFY(file.resize(file.size() - 100));
            } else {
                QVERIFY(file.seek(file.size() / 2));
                const char byte = file.read(1).at(0);
                QVERIFY(file.seek(file.size() / 2));
                file.write(QByteArray(1, char(byte ^ 0x40)));
            }
        }
        const int messagesBefore = int(store_->pathToLeaf(c)->size());

        QVERIFY(startWorker());  // opening the store drops a row whose file is gone
        const Turn next = send(c, QStringLiteral("Still there?"));
        QVERIFY(!next.summary.stopReason.isEmpty());
        if (damage != QStringLiteral("delete")) {
            QCOMPARE(next.warnings.size(), 1);
            QVERIFY2(next.warnings.first().contains(QStringLiteral("damaged")), qPrintable(next.warnings.first()));
            QVERIFY(QFile::exists(path + fm::SnapshotStore::kCorruptSuffix));
            QVERIFY(next.resumeReason.contains(QStringLiteral("damaged")));
        }
        QVERIFY(!QFile::exists(path));
        // The state before the last reply still served: only that reply and the new turn read.
        QCOMPARE(next.summary.resumedFrom, QStringLiteral("before_reply"));
        QVERIFY(next.summary.prefilledTokens < next.summary.promptTokens / 2);
        // Rebuilt: the state after the new reply is saved (the 4th turn: as a checkpoint);
        // nothing else lost.
        const auto rebuilt = row(c, fm::snapshot_kind::kCheckpoint);
        QVERIFY(rebuilt);
        QCOMPARE(rebuilt->row.messageId, next.replyId);
        QVERIFY(!row(c, fm::snapshot_kind::kTurn));  // superseded
        QCOMPARE(int(store_->pathToLeaf(c)->size()), messagesBefore + 2);
    }

    // Retention: only the most recent conversations keep states; 0 keeps none; the usage
    // figure follows.
    void retentionBoundsTheSavedStates() {
        QVERIFY(startWorker(tinyChatDir(), false, 2));
        QList<qint64> conversations;
        for (int i = 0; i < 3; ++i) {
            conversations << newConversation();
            QVERIFY(!send(conversations.last(), QStringLiteral("Hello %1").arg(i)).summary.stopReason.isEmpty());
        }
        QVERIFY(snapshotRows(conversations[0]).isEmpty());
        QCOMPARE(snapshotRows(conversations[1]).size(), 2);  // turn + before_reply
        QCOMPARE(snapshotRows(conversations[2]).size(), 2);

        QSignalSpy usage(host_->worker, &InferenceWorker::snapshotUsage);
        QMetaObject::invokeMethod(
            host_->worker, [w = host_->worker] { w->setSnapshotRetention(0); }, Qt::QueuedConnection);
        host_->sync();
        QVERIFY(!usage.isEmpty());
        QCOMPARE(usage.last().at(0).toLongLong(), qint64(0));
        QCOMPARE(usage.last().at(1).toInt(), 0);
        // Nothing kept while it is 0, and replies still work.
        QVERIFY(!send(conversations[2], QStringLiteral("again")).summary.stopReason.isEmpty());
        QVERIFY(snapshotRows(conversations[2]).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestResume)
#include "test_resume.moc"
