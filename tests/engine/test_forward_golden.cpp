// The CPU forward pass against golden.json: logits from an independent float64 implementation of
// Hugging Face's FalconMambaForCausalLM, and its greedy continuation, for every weight format
// (bf16, f32 in shards, bitsandbytes fp4 and nf4 with double quantization).

#include <QtTest>

#include <fstream>

#include <nlohmann/json.hpp>

#include "inference/backends/backend.h"
#include "inference/checkpoint/config.h"
#include "inference/checkpoint/weights.h"
#include "tests/engine/golden_support.h"

using namespace fm;
using fm::testing::golden;
using fm::testing::ids_of;

namespace {

std::shared_ptr<ModelWeights> load(const QString& folder) {
    auto w = load_weights(std::string(FM_TEST_DATA_DIR) + "/checkpoints/" + folder.toStdString());
    if (!w) qFatal("%s", w.error().c_str());
    return *w;
}

}  // namespace

class TestForwardGolden : public QObject {
    Q_OBJECT
private slots:
    // bf16 and f32 in shards on two threads; the bitsandbytes 4-bit layouts on one and two.
    void logits_match_golden_data() {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<int>("chunk");
        QTest::addColumn<int>("threads");
        for (const char* f : {"tiny-bf16", "tiny-f32-sharded"})
            for (int chunk : {1, 5, 256})
                QTest::newRow(qPrintable(QString("%1/chunk%2").arg(f).arg(chunk))) << QString(f) << chunk << 2;
        for (const char* f : {"tiny-bnb-fp4", "tiny-bnb-nf4-double"})
            for (int chunk : {1, 5, 256})
                for (int threads : {1, 2})
                    QTest::newRow(qPrintable(QString("%1/chunk%2/threads%3").arg(f).arg(chunk).arg(threads)))
                        << QString(f) << chunk << threads;
    }
    void logits_match_golden() {
        QFETCH(QString, folder);
        QFETCH(int, chunk);
        QFETCH(int, threads);
        const auto& g = golden()[folder.toStdString()];
        const auto weights = load(folder);
        if (folder.startsWith("tiny-bnb")) {  // used as stored: 4-bit, not expanded
            QCOMPARE(weights->format, WeightFormat::Q4);
            QCOMPARE(weights->layers[0].in_proj.dtype, DType::Q4);
        }
        auto backend = make_cpu_backend(weights, threads);
        const auto tokens = ids_of(g["tokens"]);
        std::vector<float> logits;
        ForwardOptions options;
        options.chunk_size = chunk;
        auto n = backend->forward(tokens, LogitsMode::All, logits, options);
        QVERIFY2(n.ok(), n.error().c_str());
        QCOMPARE(*n, static_cast<int64_t>(tokens.size()));
        const double worst =
            testing::max_abs_diff_to_golden(logits, g["logits"], static_cast<size_t>(backend->config().vocab_size));
        qInfo("%s: max |logit - golden| = %.3g", qPrintable(folder), worst);
        QVERIFY2(worst <= 1e-3, qPrintable(QString("max abs diff %1").arg(worst)));
    }

    // Every weight format: bf16, f32 in shards, and the two bitsandbytes 4-bit layouts.
    void greedy_continuation_matches_data() {
        QTest::addColumn<QString>("folder");
        for (const char* f : {"tiny-bf16", "tiny-f32-sharded", "tiny-bnb-fp4", "tiny-bnb-nf4-double"})
            QTest::newRow(f) << QString(f);
    }
    void greedy_continuation_matches() {
        QFETCH(QString, folder);
        const auto& g = golden()[folder.toStdString()];
        auto backend = make_cpu_backend(load(folder), 2);
        const auto expected = ids_of(g["greedy_continuation"]);
        auto generated = testing::greedy_continuation(*backend, ids_of(g["greedy_prompt"]), expected.size());
        QVERIFY2(generated.ok(), generated.error().c_str());
        QCOMPARE(*generated, expected);
    }

    // Whole, token by token and in chunks of 1, 3, 7, 16: the same logits (docs/model.md, The recurrent state).
    void chunking_is_invisible_data() {
        QTest::addColumn<int>("chunk");
        for (int c : {1, 3, 7, 16}) QTest::newRow(qPrintable(QString("chunk%1").arg(c))) << c;
    }
    void chunking_is_invisible() {
        QFETCH(int, chunk);
        auto weights = load("tiny-f32-sharded");
        const auto tokens = ids_of(golden()["tiny-f32-sharded"]["tokens"]);
        auto whole = make_cpu_backend(weights, 1);
        std::vector<float> reference;
        ForwardOptions all_at_once;
        all_at_once.chunk_size = 1 << 20;
        QVERIFY(whole->forward(tokens, LogitsMode::All, reference, all_at_once).ok());

        auto chunked = make_cpu_backend(weights, 2);
        std::vector<float> logits;
        ForwardOptions options;
        options.chunk_size = chunk;
        QVERIFY(chunked->forward(tokens, LogitsMode::All, logits, options).ok());
        QCOMPARE(logits.size(), reference.size());
        for (size_t i = 0; i < logits.size(); ++i) QVERIFY(std::abs(logits[i] - reference[i]) <= 1e-5f);

        // One token per call, carrying the state between calls.
        auto stepwise = make_cpu_backend(weights, 2);
        const size_t V = reference.size() / tokens.size();
        for (size_t t = 0; t < tokens.size(); ++t) {
            std::vector<float> row;
            QVERIFY(stepwise->forward(std::span<const int32_t>(&tokens[t], 1), LogitsMode::Last, row).ok());
            for (size_t v = 0; v < V; ++v) QVERIFY(std::abs(row[v] - reference[t * V + v]) <= 1e-5f);
        }
        QCOMPARE(stepwise->state(), chunked->state());
    }

    void out_of_vocabulary_token_is_an_error() {
        auto backend = make_cpu_backend(load("tiny-bf16"), 1);
        std::vector<int32_t> bad{1, 512};
        std::vector<float> logits;
        auto r = backend->forward(bad, LogitsMode::Last, logits);
        QVERIFY(!r.ok());
        QVERIFY(QString::fromStdString(r.error()).contains("outside the vocabulary"));
    }

    void cancel_stops_between_chunks() {
        auto backend = make_cpu_backend(load("tiny-bf16"), 1);
        std::atomic<bool> cancel{false};
        ForwardOptions options;
        options.chunk_size = 4;
        options.cancel = &cancel;
        options.progress = [&](int64_t done, int64_t) {
            if (done >= 8) cancel = true;
        };
        std::vector<int32_t> tokens(16, 5);
        std::vector<float> logits;
        auto n = backend->forward(tokens, LogitsMode::Last, logits, options);
        QVERIFY(n.ok());
        QCOMPARE(*n, int64_t{8});
        QCOMPARE(backend->state().tokens_seen, uint64_t{8});
    }
};

QTEST_GUILESS_MAIN(TestForwardGolden)
#include "test_forward_golden.moc"
