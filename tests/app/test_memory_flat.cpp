// 5,000 generated tokens in one conversation leave the weights and the recurrent state the
// same size and the process's resident memory within a few MiB: the fixed-size state of a
// state-space model, measured through the worker with the tiny chat model.

#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include "app/process_memory.h"
#include "app/worker/inference_worker.h"
#include "tests/app/app_test_support.h"

using namespace fm::app;

class TestMemoryFlat : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<fm::app::testing::WorkerHost> host_;
    InferenceWorker* worker_ = nullptr;
    quint64 nextId_ = 0;

    QList<ChatTurn> history_;

    // The next turn of one growing conversation (one session, one state throughout).
    GenerationSummary generate(int tokens, QList<MemoryFigures>* reports = nullptr) {
        history_.append({QStringLiteral("user"), QStringLiteral("Talk for a very long time.")});
        GenerationRequest r;
        r.requestId = ++nextId_;
        r.conversationId = 1;
        r.messages = history_;
        r.params.sampling.temperature = 0.8f;
        r.params.sampling.seed = 1;
        r.params.max_new_tokens = tokens;
        r.ignoreStopTokens = true;
        QSignalSpy finished(worker_, &InferenceWorker::generationFinished);
        QSignalSpy memory(worker_, &InferenceWorker::memoryReported);
        QMetaObject::invokeMethod(
            worker_, [w = worker_, r] { w->generate(r); }, Qt::QueuedConnection);
        if (!fm::app::testing::waitForSignal(finished, 300000)) return {};
        QTest::qWait(20);  // the report after the reply
        if (reports)
            for (const auto& signal : memory) reports->append(signal.at(0).value<MemoryFigures>());
        const auto summary = finished.first().at(1).value<GenerationSummary>();
        history_.append({QStringLiteral("assistant"), summary.text});
        return summary;
    }

    MemoryFigures currentMemory() {
        QSignalSpy memory(worker_, &InferenceWorker::memoryReported);
        QMetaObject::invokeMethod(
            worker_, [w = worker_] { w->reportMemory(); }, Qt::QueuedConnection);
        if (!fm::app::testing::waitForSignal(memory, 5000)) return {};
        return memory.first().at(0).value<MemoryFigures>();
    }

private slots:
    void initTestCase() {
        qRegisterMetaType<GenerationSummary>();
        qRegisterMetaType<MemoryFigures>();
        host_ = std::make_unique<fm::app::testing::WorkerHost>();
        worker_ = host_->worker;
        QSignalSpy loaded(worker_, &InferenceWorker::modelLoaded);
        QMetaObject::invokeMethod(
            worker_,
            [w = worker_] {
                w->loadModel({fm::app::testing::tinyChatDir(), BackendChoiceKind::Cpu, false, 2});
            },
            Qt::QueuedConnection);
        QVERIFY(fm::app::testing::waitForSignal(loaded, 30000));
    }
    void cleanupTestCase() { host_.reset(); }

    void fiveThousandTokensKeepMemoryFlat() {
        // Warm up: first-use allocations (thread pools, arenas, tokenizer caches) happen here.
        QCOMPARE(generate(200).generatedTokens, qint64(200));
        const MemoryFigures before = currentMemory();
        const qint64 rssBefore = residentBytes();
        QVERIFY(rssBefore > 0);

        QList<MemoryFigures> during;
        const GenerationSummary summary = generate(5000, &during);
        QCOMPARE(summary.generatedTokens, qint64(5000));
        const MemoryFigures after = currentMemory();
        const qint64 rssAfter = residentBytes();

        const double growthMiB = static_cast<double>(rssAfter - rssBefore) / (1024.0 * 1024.0);
        qInfo(
            "tokens in the conversation: %lld -> %lld; state %lld -> %lld bytes; weights %lld -> %lld bytes; "
            "workspace %lld -> %lld bytes; RSS %.1f -> %.1f MiB (%+.2f MiB); %.0f tokens/s",
            before.tokensProcessed, after.tokensProcessed, qint64(before.backend.state_bytes),
            qint64(after.backend.state_bytes), qint64(before.backend.weight_bytes), qint64(after.backend.weight_bytes),
            qint64(before.backend.workspace_bytes), qint64(after.backend.workspace_bytes), rssBefore / 1048576.0,
            rssAfter / 1048576.0, growthMiB, summary.tokensPerSecond);
        QVERIFY2(!summary.restarted, qPrintable(summary.restartReason));
        QVERIFY(after.tokensProcessed >= before.tokensProcessed + 5000);
        QCOMPARE(after.backend.state_bytes, before.backend.state_bytes);
        QCOMPARE(after.backend.weight_bytes, before.backend.weight_bytes);
        // The workspace holds activations for one prefill chunk: it may grow to fit a longer
        // prompt chunk, never with the number of tokens generated.
        for (const MemoryFigures& f : during) {
            QCOMPARE(f.backend.state_bytes, before.backend.state_bytes);
            QCOMPARE(f.backend.weight_bytes, before.backend.weight_bytes);
            if (f.tokensProcessed > before.tokensProcessed + 300)
                QCOMPARE(f.backend.workspace_bytes, after.backend.workspace_bytes);
        }
        QVERIFY(after.backend.workspace_bytes < 1024 * 1024);
        // Another 5,000 tokens: now nothing may change at all.
        const qint64 rssMiddle = residentBytes();
        QCOMPARE(generate(5000).generatedTokens, qint64(5000));
        const MemoryFigures last = currentMemory();
        QCOMPARE(last.backend.state_bytes, after.backend.state_bytes);
        QCOMPARE(last.backend.weight_bytes, after.backend.weight_bytes);
        QVERIFY(last.backend.workspace_bytes <= after.backend.workspace_bytes + 16 * 1024);
        const double secondGrowthMiB = static_cast<double>(residentBytes() - rssMiddle) / (1024.0 * 1024.0);
        qInfo("second 5,000 tokens: %lld tokens in the conversation, RSS %+.2f MiB", last.tokensProcessed,
              secondGrowthMiB);
        QVERIFY(secondGrowthMiB < 4.0);
        QVERIFY2(growthMiB < 4.0, qPrintable(QStringLiteral("resident memory grew by %1 MiB").arg(growthMiB)));
    }
};

QTEST_GUILESS_MAIN(TestMemoryFlat)
#include "test_memory_flat.moc"
