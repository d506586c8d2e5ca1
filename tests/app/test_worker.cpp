// The inference worker on its own thread, observed only through its queued signals.

#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include "app/worker/inference_worker.h"
#include "tests/app/app_test_support.h"
#include "tests/app/token_pace.h"

using namespace fm::app;
using fm::app::testing::tinyChatDir;

class TestWorker : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<fm::app::testing::WorkerHost> host_;
    InferenceWorker* worker_ = nullptr;
    quint64 nextId_ = 100;

    void load(const QString& dir) {
        QMetaObject::invokeMethod(
            worker_,
            [w = worker_, dir] {
                w->loadModel({dir, BackendChoiceKind::Cpu, false, 2});
            },
            Qt::QueuedConnection);
    }
    GenerationRequest request(const QString& prompt, int maxTokens, bool ignoreStops = false) {
        GenerationRequest r;
        r.requestId = ++nextId_;
        r.conversationId = 1;
        r.messages = {{QStringLiteral("user"), prompt}};
        r.params.sampling.temperature = 0;  // greedy: deterministic
        r.params.max_new_tokens = maxTokens;
        r.ignoreStopTokens = ignoreStops;
        return r;
    }
    void generate(const GenerationRequest& r) {
        QMetaObject::invokeMethod(
            worker_, [w = worker_, r] { w->generate(r); }, Qt::QueuedConnection);
    }

private slots:
    void initTestCase() {
        qRegisterMetaType<GenerationSummary>();
        qRegisterMetaType<LoadedModelInfo>();
        qRegisterMetaType<MemoryFigures>();
        host_ = std::make_unique<fm::app::testing::WorkerHost>();
        worker_ = host_->worker;
    }
    void cleanupTestCase() { host_.reset(); }

    void generationBeforeLoadFailsAsSignal() {
        QSignalSpy failed(worker_, &InferenceWorker::generationFailed);
        const GenerationRequest r = request(QStringLiteral("hello"), 8);
        generate(r);
        QVERIFY(fm::app::testing::waitForSignal(failed, 5000));
        QCOMPARE(failed.first().at(0).toULongLong(), r.requestId);
        QVERIFY(failed.first().at(1).toString().contains(QStringLiteral("No model")));
    }

    void loadErrorsArriveAsSignals_data() {
        QTest::addColumn<QString>("dir");
        QTest::addColumn<QString>("expected");
        QTest::newRow("missing folder") << QStringLiteral(FM_TEST_DATA_DIR "/does-not-exist")
                                        << QStringLiteral("does not exist");
        QTest::newRow("no config.json") << QStringLiteral(FM_TEST_DATA_DIR "/tokenizers")
                                        << QStringLiteral("config.json");
        QTest::newRow("config without weights")
            << QStringLiteral(FM_TEST_DATA_DIR "/falcon-mamba-7b-config") << QStringLiteral("No weights");
        QTest::newRow("weights without tokenizer")
            << QStringLiteral(FM_TEST_DATA_DIR "/checkpoints/tiny-bf16") << QStringLiteral("tokenizer");
    }
    void loadErrorsArriveAsSignals() {
        QFETCH(QString, dir);
        QFETCH(QString, expected);
        QSignalSpy failed(worker_, &InferenceWorker::loadFailed);
        QSignalSpy loaded(worker_, &InferenceWorker::modelLoaded);
        load(dir);
        QVERIFY(fm::app::testing::waitForSignal(failed, 10000));
        QCOMPARE(loaded.count(), 0);
        QVERIFY2(failed.first().at(0).toString().contains(expected), qPrintable(failed.first().at(0).toString()));
        QCOMPARE(failed.first().at(1).toBool(), false);  // not a cancellation
    }

    void loadsTheFixture() {
        QSignalSpy loaded(worker_, &InferenceWorker::modelLoaded);
        QSignalSpy progress(worker_, &InferenceWorker::loadProgress);
        load(tinyChatDir());
        QVERIFY(fm::app::testing::waitForSignal(loaded, 30000));
        const auto info = loaded.first().at(0).value<LoadedModelInfo>();
        QVERIFY(info.backendName.startsWith(QStringLiteral("cpu")));
        QVERIFY(info.chatTemplate);
        QVERIFY(info.weightBytes > 0);
        QVERIFY(info.stateBytes > 0);
        QVERIFY(!progress.isEmpty());
        QCOMPARE(progress.last().at(0).toDouble(), 1.0);
    }

    void tokensArriveInOrderAndConcatenateToTheReply_data() {
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<int>("maxTokens");
        QTest::addColumn<bool>("ignoreStops");
        QTest::newRow("short") << QStringLiteral("Hello there") << 16 << false;
        QTest::newRow("long, stops ignored") << QStringLiteral("Tell me a long story about falcons.") << 400 << true;
        QTest::newRow("unicode prompt") << QStringLiteral("Grüße, 日本語 and emoji 🦅") << 64 << true;
    }
    void tokensArriveInOrderAndConcatenateToTheReply() {
        QFETCH(QString, prompt);
        QFETCH(int, maxTokens);
        QFETCH(bool, ignoreStops);
        QSignalSpy started(worker_, &InferenceWorker::generationStarted);
        QSignalSpy tokens(worker_, &InferenceWorker::tokensGenerated);
        QSignalSpy finished(worker_, &InferenceWorker::generationFinished);
        const GenerationRequest r = request(prompt, maxTokens, ignoreStops);
        generate(r);
        QVERIFY(fm::app::testing::waitForSignal(finished, 60000));
        QCOMPARE(started.count(), 1);
        QString streamed;
        qint64 tokenCount = 0;
        for (const QList<QVariant>& signal : tokens) {
            QCOMPARE(signal.at(0).toULongLong(), r.requestId);
            streamed += signal.at(1).toString();
            tokenCount += signal.at(2).toInt();
        }
        const auto summary = finished.first().at(1).value<GenerationSummary>();
        QCOMPARE(streamed, summary.text);
        QCOMPARE(tokenCount, summary.generatedTokens);
        if (ignoreStops) {
            QCOMPARE(summary.generatedTokens, qint64(maxTokens));
            QCOMPARE(summary.stopReason, QStringLiteral("length"));
            // Batching: far fewer signals than tokens for a fast model, never more.
            QVERIFY(tokens.count() <= maxTokens);
        }
        // Greedy decoding is deterministic: the same request gives the same reply.
        QSignalSpy again(worker_, &InferenceWorker::generationFinished);
        GenerationRequest repeat = r;
        repeat.requestId = ++nextId_;
        repeat.conversationId = 2;  // another conversation: a fresh session
        generate(repeat);
        QVERIFY(fm::app::testing::waitForSignal(again, 60000));
        QCOMPARE(again.first().at(1).value<GenerationSummary>().text, summary.text);
    }

    void stopWorksMidGeneration() {
        worker_->setTokenPacer(fm::app::testing::tokenPace(5));
        QSignalSpy tokens(worker_, &InferenceWorker::tokensGenerated);
        QSignalSpy finished(worker_, &InferenceWorker::generationFinished);
        const GenerationRequest r = request(QStringLiteral("Keep going"), 100000, true);
        generate(r);
        QVERIFY(fm::app::testing::waitForSignal(tokens, 10000));
        QElapsedTimer timer;
        timer.start();
        worker_->requestStop(r.requestId);
        QVERIFY(fm::app::testing::waitForSignal(finished, 5000));
        const qint64 stopMs = timer.elapsed();
        worker_->setTokenPacer(fm::app::testing::tokenPace(0));
        const auto summary = finished.first().at(1).value<GenerationSummary>();
        QCOMPARE(summary.stopReason, QStringLiteral("cancelled"));
        QVERIFY(summary.generatedTokens < 100000);
        QVERIFY2(stopMs < 1000, qPrintable(QStringLiteral("stop took %1 ms").arg(stopMs)));
        qInfo("stopped after %lld tokens, %lld ms after asking", summary.generatedTokens, stopMs);
    }

    void stopBeforeStartCancelsAtOnce() {
        QSignalSpy finished(worker_, &InferenceWorker::generationFinished);
        const GenerationRequest r = request(QStringLiteral("never mind"), 1000, true);
        worker_->requestStop(r.requestId);  // still queued, not started
        generate(r);
        QVERIFY(fm::app::testing::waitForSignal(finished, 5000));
        const auto summary = finished.first().at(1).value<GenerationSummary>();
        QCOMPARE(summary.stopReason, QStringLiteral("cancelled"));
        QCOMPARE(summary.generatedTokens, qint64(0));
    }

    void memoryIsReported() {
        QSignalSpy finished(worker_, &InferenceWorker::generationFinished);
        generate(request(QStringLiteral("count me"), 8, true));
        QVERIFY(fm::app::testing::waitForSignal(finished, 10000));
        QSignalSpy memory(worker_, &InferenceWorker::memoryReported);
        QMetaObject::invokeMethod(
            worker_, [w = worker_] { w->reportMemory(); }, Qt::QueuedConnection);
        QVERIFY(fm::app::testing::waitForSignal(memory, 5000));
        const auto figures = memory.first().at(0).value<MemoryFigures>();
        QVERIFY(figures.backend.weight_bytes > 0);
        QVERIFY(figures.backend.state_bytes > 0);
        QVERIFY(figures.tokensProcessed > 0);
    }

    void unloadThenGenerateFails() {
        QSignalSpy unloaded(worker_, &InferenceWorker::modelUnloaded);
        QMetaObject::invokeMethod(
            worker_, [w = worker_] { w->unloadModel(); }, Qt::QueuedConnection);
        QVERIFY(fm::app::testing::waitForSignal(unloaded, 5000));
        QSignalSpy failed(worker_, &InferenceWorker::generationFailed);
        generate(request(QStringLiteral("anyone?"), 4));
        QVERIFY(fm::app::testing::waitForSignal(failed, 5000));
    }
};

QTEST_GUILESS_MAIN(TestWorker)
#include "test_worker.moc"
