// Instant resume driven the way the window drives it: AppController with its real worker
// thread, the tiny chat fixture, and app restarts (a new AppController on the same data
// folder). Regenerate and "< 1/2 >" navigation keep siblings and the model reads the branch
// on screen; the reason for reading history again is shown; retention and disk usage.

#include <QSignalSpy>
#include <QTest>

#include "app/controllers/app_controller.h"
#include "app/storage/conversation_store.h"
#include "app/worker/inference_worker.h"
#include "tests/app/app_test_support.h"

using namespace fm::app;
using namespace fm::app::testing;

class TestResumeApp : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    std::unique_ptr<AppController> app_;
    GenerationSummary last_;
    QStringList notices_;

    bool startApp(bool quantize = false) {
        app_ = std::make_unique<AppController>(environmentIn(dir_));
        if (!app_->startupError().isEmpty()) return false;
        connect(
            app_->worker(), &InferenceWorker::generationFinished, this,
            [this](quint64, const GenerationSummary& s) { last_ = s; }, Qt::QueuedConnection);
        connect(app_->chat(), &ChatController::resumeNoticeChanged, this, [this] {
            if (!app_->chat()->resumeNotice().isEmpty()) notices_ << app_->chat()->resumeNotice();
        });
        QSignalSpy ready(app_->models(), &ModelController::modelReady);
        app_->models()->setBackend(QStringLiteral("cpu"));
        app_->models()->setQuantize4bit(quantize);
        return app_->models()->load(tinyChatDir()) && ready.wait(30000);
    }
    // Waits until the reply is saved and the worker has written the states after it.
    bool waitForReply(const std::function<bool()>& action) {
        QSignalSpy saved(app_->chat(), &ChatController::replySaved);
        QSignalSpy usage(app_->worker(), &InferenceWorker::snapshotUsage);
        notices_.clear();
        if (!action()) return false;
        if (!waitForSignal(saved, 30000)) return false;
        return app_->snapshots()->retentionConversations() == 0 || waitForSignal(usage, 30000);
    }
    bool send(const QString& text) {
        return waitForReply([&] { return app_->chat()->send(text); });
    }
    int siblingIndexAt(int row) {
        return dataAt(app_->chat()->messages(), row, fm::MessageListModel::SiblingIndexRole).toInt();
    }
    int siblingCountAt(int row) {
        return dataAt(app_->chat()->messages(), row, fm::MessageListModel::SiblingCountRole).toInt();
    }
    QString contentAt(int row) { return messageContent(app_->chat()->messages(), row); }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(dir_.isValid());
        QVERIFY(startApp());
        auto* settings = app_->chatSettings();
        settings->change({.temperature = 0.9, .maxNewTokens = 16, .seed = 42});
        settings->saveAsDefaults();
    }
    void cleanupTestCase() { app_.reset(); }

    void repliesSaveStatesAndUsageIsShown() {
        QCOMPARE(app_->snapshots()->retentionConversations(), 20);
        for (const QString& text : {QStringLiteral("Hello, falcon."), QStringLiteral("Where do you live?"),
                                    QStringLiteral("What do you hunt?")})
            QVERIFY(send(text));
        QTRY_VERIFY(app_->snapshots()->diskUsageBytes() > 0);
        QCOMPARE(app_->snapshots()->fileCount(), 2);  // the latest turn and the state before it
        QVERIFY(app_->snapshots()->diskUsageText().contains(QStringLiteral("2 saved states")));
        QVERIFY(QFileInfo(app_->snapshots()->directory()).isDir());
        QCOMPARE(last_.resumedFrom, QStringLiteral("memory"));
    }

    // Regenerate: a sibling "2/2" from the state before the reply, nothing re-read; the same
    // seed gives the same reply.
    void regenerateKeepsSiblingsAndReadsNothing() {
        const int last = app_->chat()->messages()->count() - 1;
        const QString original = contentAt(last);
        QVERIFY(waitForReply([&] { return app_->chat()->regenerate(); }));
        QCOMPARE(last_.resumedFrom, QStringLiteral("before_reply"));
        QCOMPARE(last_.prefilledTokens, qint64(0));
        QCOMPARE(siblingCountAt(last), 2);
        QCOMPARE(siblingIndexAt(last), 1);
        QCOMPARE(contentAt(last), original);  // seed 42 both times
    }

    // "< 1/2 >": back to the first reply, then a new message: the model reads that branch,
    // resuming from the state before the replies (shared by both) rather than from scratch.
    void switchingBranchesFeedsTheVisibleBranch() {
        const int last = app_->chat()->messages()->count() - 1;
        app_->chatSettings()->change({.seed = 7});
        QVERIFY(waitForReply([&] { return app_->chat()->regenerate(); }));
        QCOMPARE(siblingCountAt(last), 3);
        QVERIFY(app_->chat()->showSibling(last, -2));
        QCOMPARE(siblingIndexAt(last), 0);
        const qint64 shownReply = app_->chat()->messages()->idAt(last);
        QVERIFY(send(QStringLiteral("Go on from there.")));
        QCOMPARE(last_.resumedFrom, QStringLiteral("before_reply"));
        QVERIFY(last_.prefilledTokens < last_.promptTokens / 2);
        QVERIFY(notices_.isEmpty());
        // The new question hangs under the reply that was on screen.
        auto question = app_->store()->message(app_->chat()->messages()->idAt(last + 1));
        QCOMPARE(question->parentId, shownReply);
    }

    // Quit and start again: the conversation resumes from its saved state.
    void restartResumesTheSavedState() {
        const qint64 conversation = app_->conversations()->currentConversationId();
        app_.reset();
        QVERIFY(startApp());
        QCOMPARE(app_->conversations()->currentConversationId(), conversation);  // the most recent one
        QVERIFY(send(QStringLiteral("Still with me after the restart?")));
        // The state after the 4th reply: a checkpoint (every 4 turns), which is also the turn.
        QCOMPARE(last_.resumedFrom, QStringLiteral("checkpoint"));
        QVERIFY(last_.prefilledTokens < 40);
        QVERIFY(!last_.restarted);
        QVERIFY(notices_.isEmpty());
    }

    // Another weight format: the saved state does not fit; the history is read again and the
    // window says why.
    void mismatchIsExplained() {
        app_.reset();
        QVERIFY(startApp(true));
        QVERIFY(send(QStringLiteral("And with 4-bit weights?")));
        QCOMPARE(last_.resumedFrom, QString());
        QCOMPARE(last_.prefilledTokens, last_.promptTokens);
        QCOMPARE(notices_.size(), 1);
        QVERIFY2(notices_.first().startsWith(QStringLiteral("Reading the conversation again:")),
                 qPrintable(notices_.first()));
        QVERIFY(notices_.first().contains(QStringLiteral("weight format")));
        QVERIFY(app_->errors()->message().isEmpty());  // an explanation, not an error
    }

    // The retention setting is kept in the database, applies at once, and 0 keeps nothing.
    void retentionSettingAppliesAndPersists() {
        QSignalSpy usage(app_->snapshots(), &SnapshotController::usageChanged);
        app_->snapshots()->setRetentionConversations(0);
        QVERIFY(waitForSignal(usage, 10000));
        QTRY_COMPARE(app_->snapshots()->diskUsageBytes(), qint64(0));
        QCOMPARE(app_->snapshots()->fileCount(), 0);
        app_.reset();
        QVERIFY(startApp());
        QCOMPARE(app_->snapshots()->retentionConversations(), 0);
        QVERIFY(send(QStringLiteral("Nothing is kept now.")));
        QCOMPARE(app_->snapshots()->fileCount(), 0);
        app_->snapshots()->setRetentionConversations(5);
        QVERIFY(send(QStringLiteral("Kept again.")));
        QTRY_VERIFY(app_->snapshots()->fileCount() > 0);
    }
};

QTEST_MAIN(TestResumeApp)
#include "test_resume_app.moc"
