// 4-bit weights end to end (inference/quant4.h): the official bitsandbytes layouts (fp4, nf4 with
// double quantization) used in place (test_forward_golden checks them against golden.json),
// quantize-on-load of the bf16 checkpoint (agreement with bf16, memory), quantize_q4 itself, and
// broken 4-bit files, each with its own clear error naming the tensor and the file.

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include <nlohmann/json.hpp>

#include "inference/backends/backend.h"
#include "inference/checkpoint/config.h"
#include "inference/checkpoint/quant4.h"
#include "inference/checkpoint/safetensors.h"
#include "inference/checkpoint/safetensors_writer.h"
#include "inference/checkpoint/weights.h"
#include "kernels/common/numerics.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/thread_pool.h"
#include "tests/engine/golden_support.h"

using namespace fm;
using fm::testing::first_argmax;
using fm::testing::golden;
using fm::testing::ids_of;
namespace fs = std::filesystem;

namespace {

const std::string kCheckpoints = std::string(FM_TEST_DATA_DIR) + "/checkpoints/";

std::shared_ptr<ModelWeights> load(const std::string& folder, const LoadOptions& options = {}) {
    auto w = load_weights(kCheckpoints + folder, options);
    if (!w) qFatal("%s", w.error().c_str());
    return *w;
}

std::vector<float> all_logits(const std::shared_ptr<ModelWeights>& w, const std::vector<int32_t>& tokens,
                              int chunk = 256, int threads = 2) {
    auto backend = make_cpu_backend(w, threads);
    std::vector<float> logits;
    ForwardOptions options;
    options.chunk_size = chunk;
    auto n = backend->forward(tokens, LogitsMode::All, logits, options);
    if (!n) qFatal("%s", n.error().c_str());
    return logits;
}

int64_t mixer_bytes(const ModelWeights& w) {
    int64_t total = 0;
    for (const auto& l : w.layers)
        total += l.in_proj.bytes() + l.x_proj.bytes() + l.dt_proj.bytes() + l.out_proj.bytes();
    return total;
}

// One tensor of a safetensors file, held in memory so a test can change it and write it back.
struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
};
using Tensors = std::vector<Entry>;

Tensors read_tensors(const fs::path& file) {
    auto store = TensorStore::open_file(file);
    if (!store) qFatal("%s", store.error().c_str());
    Tensors out;
    for (const auto& [name, t] : store->tensors())
        out.push_back({name, t.dtype, t.shape, std::vector<uint8_t>(t.data, t.data + t.byte_size)});
    return out;
}

void write_tensors(const fs::path& file, const Tensors& tensors) {
    std::vector<TensorToWrite> out;
    for (const auto& e : tensors) out.push_back(TensorToWrite::from_bytes(e.name, e.dtype, e.shape, e.bytes));
    if (auto s = write_safetensors(file, out, {{"format", "pt"}}); !s) qFatal("%s", s.error().c_str());
}

Entry& find(Tensors& t, const std::string& name) {
    for (auto& e : t)
        if (e.name == name) return e;
    qFatal("no tensor %s in the fixture", name.c_str());
    return t.front();
}

void erase(Tensors& t, const std::string& name) {
    auto it = std::find_if(t.begin(), t.end(), [&](const Entry& e) { return e.name == name; });
    if (it == t.end()) qFatal("no tensor %s in the fixture", name.c_str());
    t.erase(it);
}

// Rewrites the quant-state JSON of a tensor.
void edit_state(Tensors& t, const std::string& state_name, const std::function<void(nlohmann::json&)>& edit) {
    Entry& e = find(t, state_name);
    auto j = nlohmann::json::parse(std::string(e.bytes.begin(), e.bytes.end()));
    edit(j);
    const std::string text = j.dump();
    e.bytes.assign(text.begin(), text.end());
    e.shape = {static_cast<int64_t>(text.size())};
}

void truncate(Entry& e, int64_t elements) {
    e.bytes.resize(static_cast<size_t>(elements * dtype_size_bits(e.dtype) / 8));
    e.shape = {elements};
}

using Mutation = std::function<void(Tensors&)>;

const std::string kW = "backbone.layers.0.mixer.in_proj.weight";
const std::string kFp4State = kW + ".quant_state.bitsandbytes__fp4";
const std::string kNf4State = kW + ".quant_state.bitsandbytes__nf4";

}  // namespace

Q_DECLARE_METATYPE(Mutation)

class TestQuant4 : public QObject {
    Q_OBJECT
private slots:
    // --- 1. bitsandbytes checkpoints -----------------------------------------------------------
    // Their logits and greedy continuations are checked against golden.json with every other
    // format's, in test_forward_golden.

    // The codes are used in place in the mapping; scales (expanded from double quantization)
    // are fp32 and are what the file says.
    void bnb_layout_is_used_in_place() {
        auto w = load("tiny-bnb-nf4-double");
        const TensorInfo* codes = w->store.find(kW);
        QVERIFY(codes);
        const MatrixView& m = w->layers[0].in_proj;
        QCOMPARE(static_cast<const void*>(m.q4.codes), static_cast<const void*>(codes->data));
        QCOMPARE(m.q4.block, 64);
        QCOMPARE(m.rows, w->config.intermediate_size * 2);
        QCOMPARE(m.cols, w->config.hidden_size);
        const TensorInfo* qmap = w->store.find(kW + ".quant_map");
        for (int k = 0; k < 16; ++k) {
            float v;
            std::memcpy(&v, qmap->data + 4 * k, 4);
            QCOMPARE(m.q4.codebook[k], v);
        }
        // The 4-bit view is ~3.5x smaller than bf16 would be.
        QVERIFY(m.bytes() * 3 < m.elements() * 2);
    }

    // --- 2. quantize-on-load ------------------------------------------------------------------
    void quantize_on_load_tracks_bf16() {
        const auto& g = golden()["tiny-bf16"];
        const auto tokens = ids_of(g["tokens"]);
        auto native = load("tiny-bf16");
        LoadOptions options;
        options.quantize_4bit = true;
        auto q = load("tiny-bf16", options);
        QCOMPARE(q->format, WeightFormat::Q4);
        for (const auto& l : q->layers)
            for (const MatrixView* m : {&l.in_proj, &l.x_proj, &l.dt_proj, &l.out_proj}) QCOMPARE(m->dtype, DType::Q4);
        QCOMPARE(q->embedding.dtype, DType::BF16);
        QCOMPARE(q->lm_head.dtype, DType::BF16);

        const auto ref = all_logits(native, tokens);
        const size_t V = static_cast<size_t>(q->config.vocab_size), T = tokens.size();
        // Top-1 agreement with the bf16 logits and the largest absolute difference.
        auto compare = [&](const std::vector<float>& got, int& agree, double& worst) {
            agree = 0;
            worst = 0;
            for (size_t t = 0; t < T; ++t) {
                agree += first_argmax(ref.data() + t * V, V) == first_argmax(got.data() + t * V, V);
                for (size_t v = 0; v < V; ++v)
                    worst = std::max(worst, double(std::abs(ref[t * V + v] - got[t * V + v])));
            }
        };
        int agree = 0;
        double worst = 0, spread = 0;
        compare(all_logits(q, tokens), agree, worst);
        for (float v : ref) spread = std::max(spread, double(std::abs(v)));
        // For scale: the bitsandbytes fixtures are this same checkpoint quantized by bitsandbytes.
        for (const char* folder : {"tiny-bnb-fp4", "tiny-bnb-nf4-double"}) {
            int a = 0;
            double d = 0;
            compare(all_logits(load(folder), tokens), a, d);
            qInfo("  for comparison, %s: top-1 agreement %d/%zu, max |logit diff| %.4f", folder, a, T, d);
        }
        const int64_t native_mixer = mixer_bytes(*native), q_mixer = mixer_bytes(*q);
        qInfo("quantize-on-load of tiny-bf16: top-1 agreement %d/%zu, max |logit diff| %.4f (max |logit| %.3f)", agree,
              T, worst, spread);
        qInfo("mixer matrices: bf16 %lld bytes, 4-bit %lld bytes (%.2fx smaller); whole model %lld -> %lld bytes",
              static_cast<long long>(native_mixer), static_cast<long long>(q_mixer),
              double(native_mixer) / double(q_mixer), static_cast<long long>(native->weight_bytes()),
              static_cast<long long>(q->weight_bytes()));
        QVERIFY2(agree >= 14, qPrintable(QString("top-1 agreement %1/%2").arg(agree).arg(T)));
        QVERIFY2(worst <= 0.45, qPrintable(QString("max abs logit diff %1").arg(worst)));
        QVERIFY(native_mixer >= 3 * q_mixer);
        QVERIFY(q->weight_bytes() < native->weight_bytes());

        // With the embeddings and lm_head quantized too, the whole model is >3x smaller.
        options.quantize_embeddings = true;
        auto all = load("tiny-bf16", options);
        QCOMPARE(all->embedding.dtype, DType::Q4);
        QCOMPARE(all->lm_head.dtype, DType::Q4);
        const auto got_all = all_logits(all, tokens);
        int agree_all = 0;
        double worst_all = 0;
        for (size_t t = 0; t < T; ++t) {
            agree_all += first_argmax(ref.data() + t * V, V) == first_argmax(got_all.data() + t * V, V);
            for (size_t v = 0; v < V; ++v)
                worst_all = std::max(worst_all, double(std::abs(ref[t * V + v] - got_all[t * V + v])));
        }
        // All matrices (mixers, embedding, lm_head) >= 3x smaller; the fp32 per-channel vectors
        // (norms, conv, A, D) stay as they are, and weigh a lot in a model this small.
        auto matrix_bytes = [](const ModelWeights& m) {
            return mixer_bytes(m) + m.embedding.bytes() + m.lm_head.bytes();
        };
        qInfo(
            "with embeddings quantized: top-1 agreement %d/%zu, max |logit diff| %.4f; all matrices %lld -> %lld bytes "
            "(%.2fx), whole model %lld -> %lld bytes (%.2fx)",
            agree_all, T, worst_all, static_cast<long long>(matrix_bytes(*native)),
            static_cast<long long>(matrix_bytes(*all)), double(matrix_bytes(*native)) / double(matrix_bytes(*all)),
            static_cast<long long>(native->weight_bytes()), static_cast<long long>(all->weight_bytes()),
            double(native->weight_bytes()) / double(all->weight_bytes()));
        QVERIFY(matrix_bytes(*native) >= 3 * matrix_bytes(*all));
        QVERIFY(native->weight_bytes() >= 2.5 * double(all->weight_bytes()));
        QVERIFY2(agree_all >= 13, qPrintable(QString("top-1 agreement %1/%2").arg(agree_all).arg(T)));
        QVERIFY2(worst_all <= 0.75, qPrintable(QString("max abs logit diff %1").arg(worst_all)));
    }

    // Prefill in chunks, token by token and across thread counts: bit-identical on 4-bit.
    void quantized_forward_is_deterministic() {
        LoadOptions options;
        options.quantize_4bit = true;
        auto q = load("tiny-bf16", options);
        const auto tokens = ids_of(golden()["tiny-bf16"]["tokens"]);
        const auto whole = all_logits(q, tokens, 256, 1);
        for (int chunk : {1, 3, 16})
            for (int threads : {1, 2, 3}) {
                const auto other = all_logits(q, tokens, chunk, threads);
                QVERIFY2(std::memcmp(other.data(), whole.data(), whole.size() * 4) == 0,
                         qPrintable(QString("chunk %1, threads %2").arg(chunk).arg(threads)));
            }
    }

    void quantize_q4_direct_data() {
        QTest::addColumn<int>("dtype_int");
        QTest::newRow("F32") << int(DType::F32);
        QTest::newRow("F16") << int(DType::F16);
        QTest::newRow("BF16") << int(DType::BF16);
    }
    void quantize_q4_direct() {
        QFETCH(int, dtype_int);
        const DType dtype = static_cast<DType>(dtype_int);
        const int64_t rows = 37, cols = 200;  // blocks straddle rows; partial last block
        std::mt19937 rng(4);
        std::normal_distribution<float> g(0.0f, 0.02f);
        std::vector<float> w(static_cast<size_t>(rows * cols));
        for (auto& x : w) x = g(rng);
        std::vector<uint16_t> half(w.size());
        MatrixView src;
        src.dtype = dtype;
        src.rows = rows;
        src.cols = cols;
        if (dtype == DType::F32) {
            src.data = w.data();
        } else {
            for (size_t i = 0; i < w.size(); ++i) {
                half[i] = dtype == DType::BF16 ? num::float_to_bf16(w[i]) : num::float_to_f16(w[i]);
                w[i] = dtype == DType::BF16 ? num::bf16_to_float(half[i]) : num::f16_to_float(half[i]);
            }
            src.data = half.data();
        }
        Q4Storage serial, threaded;
        auto a = quantize_q4(src, serial, nullptr);
        QVERIFY2(a.ok(), a.error().c_str());
        ThreadPool pool(3);
        auto b = quantize_q4(src, threaded, &pool);
        QVERIFY2(b.ok(), b.error().c_str());
        QCOMPARE(serial.codes, threaded.codes);
        QCOMPARE(serial.scales, threaded.scales);
        QCOMPARE(a->dtype, DType::Q4);
        QCOMPARE(a->q4.block, kQ4Block);
        QCOMPARE(serial.scales.size(), size_t((rows * cols + 63) / 64));
        for (int k = 0; k < 16; ++k) QCOMPARE(serial.codebook[k], kNf4Codebook[k]);
        // Relative RMS error of a 4-bit NF4 code on normal weights: about 9 %.
        std::vector<float> row(static_cast<size_t>(cols));
        double err = 0, energy = 0;
        for (int64_t r = 0; r < rows; ++r) {
            cpu::matrix_row(*a, r, row.data());
            for (int64_t c = 0; c < cols; ++c) {
                const double d = row[static_cast<size_t>(c)] - w[static_cast<size_t>(r * cols + c)];
                err += d * d;
                energy += double(w[static_cast<size_t>(r * cols + c)]) * w[static_cast<size_t>(r * cols + c)];
            }
        }
        qInfo("relative RMS error %.4f", std::sqrt(err / energy));
        QVERIFY(std::sqrt(err / energy) < 0.095);
    }

    void quantize_q4_rejects_bad_input() {
        std::vector<float> w(64 * 3, 0.5f);
        w[70] = std::numeric_limits<float>::quiet_NaN();
        MatrixView src;
        src.dtype = DType::F32;
        src.rows = 3;
        src.cols = 64;
        src.data = w.data();
        Q4Storage s;
        auto r = quantize_q4(src, s, nullptr, "backbone.layers.0.mixer.x_proj.weight");
        QVERIFY(!r.ok());
        QVERIFY2(QString::fromStdString(r.error()).contains("row 1, column 6"), r.error().c_str());
        QVERIFY2(QString::fromStdString(r.error()).contains("x_proj"), r.error().c_str());
        QVERIFY(QString::fromStdString(r.error()).contains("not finite"));
        src.dtype = DType::U8;
        auto u = quantize_q4(src, s, nullptr, "m");
        QVERIFY(!u.ok());
        QVERIFY2(QString::fromStdString(u.error()).contains("U8"), u.error().c_str());
    }

    // --- 3. broken 4-bit files -----------------------------------------------------------------
    void bad_files_give_clear_errors_data() {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<Mutation>("mutate");
        QTest::addColumn<QString>("expected");
        QTest::addColumn<QString>("tensor");  // named in the error

        const QString fp4 = "tiny-bnb-fp4", nf4 = "tiny-bnb-nf4-double";
        QTest::newRow("quant-state JSON missing") << fp4 << Mutation([](Tensors& t) { erase(t, kFp4State); })
                                                  << "quant state is missing" << QString::fromStdString(kW);
        QTest::newRow("quant-state JSON garbled") << fp4 << Mutation([](Tensors& t) {
            Entry& e = find(t, kFp4State);
            e.bytes[0] = '#';  // '{' -> '#'
            e.bytes[10] = 0xff;
        }) << "invalid JSON at byte" << QString::fromStdString(kFp4State);
        QTest::newRow("quant-state JSON not an object") << fp4 << Mutation([](Tensors& t) {
            edit_state(t, kFp4State, [](nlohmann::json& j) { j = nlohmann::json::array({1, 2}); });
        }) << "JSON but not an object" << QString::fromStdString(kFp4State);
        QTest::newRow("absmax too short") << fp4 << Mutation([](Tensors& t) { truncate(find(t, kW + ".absmax"), 255); })
                                          << "absmax too short: 255 scales" << QString::fromStdString(kW + ".absmax");
        QTest::newRow("absmax missing") << fp4 << Mutation([](Tensors& t) { erase(t, kW + ".absmax"); })
                                        << "missing tensor '" + QString::fromStdString(kW) + ".absmax'"
                                        << QString::fromStdString(kW);
        QTest::newRow("blocksize 0") << fp4 << Mutation([](Tensors& t) {
            edit_state(t, kFp4State, [](nlohmann::json& j) { j["blocksize"] = 0; });
        }) << "\"blocksize\" in the quant-state JSON must be a positive integer, got 0"
                                     << QString::fromStdString(kFp4State);
        QTest::newRow("blocksize negative")
            << fp4
            << Mutation([](Tensors& t) { edit_state(t, kFp4State, [](nlohmann::json& j) { j["blocksize"] = -64; }); })
            << "must be a positive integer, got -64" << QString::fromStdString(kFp4State);
        QTest::newRow("blocksize not a number")
            << fp4
            << Mutation([](Tensors& t) { edit_state(t, kFp4State, [](nlohmann::json& j) { j["blocksize"] = "64"; }); })
            << "must be a positive integer, got \"64\"" << QString::fromStdString(kFp4State);
        QTest::newRow("blocksize missing") << fp4 << Mutation([](Tensors& t) {
            edit_state(t, kFp4State, [](nlohmann::json& j) { j.erase("blocksize"); });
        }) << "has no \"blocksize\"" << QString::fromStdString(kFp4State);
        QTest::newRow("unknown quant type") << fp4 << Mutation([](Tensors& t) {
            edit_state(t, kFp4State, [](nlohmann::json& j) { j["quant_type"] = "int3"; });
        }) << "unknown quant type \"int3\"" << QString::fromStdString(kFp4State);
        QTest::newRow("quant type contradicts the tensor name") << fp4 << Mutation([](Tensors& t) {
            edit_state(t, kFp4State, [](nlohmann::json& j) { j["quant_type"] = "nf4"; });
        }) << "contradicts the tensor name" << QString::fromStdString(kFp4State);
        QTest::newRow("shape disagrees with config") << fp4 << Mutation([](Tensors& t) {
            edit_state(t, kFp4State, [](nlohmann::json& j) { j["shape"] = {128, 128}; });
        }) << "disagrees with config.json" << QString::fromStdString(kFp4State);
        QTest::newRow("codes too short") << fp4 << Mutation([](Tensors& t) {
            Entry& e = find(t, kW);
            e.bytes.resize(4096);
            e.shape = {4096, 1};
        }) << "codes too short: 4096 bytes"
                                         << QString::fromStdString(kW);
        QTest::newRow("codes not U8") << fp4 << Mutation([](Tensors& t) {
            Entry& e = find(t, kW);
            e.dtype = DType::F16;
            e.shape = {4096, 1};
        }) << "must be U8 packed codes"
                                      << QString::fromStdString(kW);
        QTest::newRow("code book wrong size")
            << fp4 << Mutation([](Tensors& t) { truncate(find(t, kW + ".quant_map"), 8); })
            << "code book must hold 16 floats, got 8" << QString::fromStdString(kW + ".quant_map");
        QTest::newRow("code book missing")
            << fp4 << Mutation([](Tensors& t) { erase(t, kW + ".quant_map"); })
            << "missing tensor '" + QString::fromStdString(kW) + ".quant_map'" << QString::fromStdString(kW);
        QTest::newRow("absmax not finite") << fp4 << Mutation([](Tensors& t) {
            Entry& e = find(t, kW + ".absmax");
            const float nan = std::numeric_limits<float>::quiet_NaN();
            std::memcpy(e.bytes.data() + 4 * 17, &nan, 4);
        }) << "the scale of block 17 is not finite"
                                           << QString::fromStdString(kW + ".absmax");
        QTest::newRow("double quant: nested absmax missing")
            << nf4 << Mutation([](Tensors& t) { erase(t, kW + ".nested_absmax"); })
            << "missing tensor '" + QString::fromStdString(kW) + ".nested_absmax'" << QString::fromStdString(kW);
        QTest::newRow("double quant: nested code book wrong size")
            << nf4 << Mutation([](Tensors& t) { truncate(find(t, kW + ".nested_quant_map"), 255); })
            << "nested code book must hold 256 floats" << QString::fromStdString(kW + ".nested_quant_map");
        QTest::newRow("double quant: nested_blocksize 0") << nf4 << Mutation([](Tensors& t) {
            edit_state(t, kNf4State, [](nlohmann::json& j) { j["nested_blocksize"] = 0; });
        }) << "\"nested_blocksize\" in the quant-state JSON must be a positive integer, got 0"
                                                          << QString::fromStdString(kNf4State);
        QTest::newRow("double quant: nested_offset missing") << nf4 << Mutation([](Tensors& t) {
            edit_state(t, kNf4State, [](nlohmann::json& j) { j.erase("nested_offset"); });
        }) << "no numeric \"nested_offset\"" << QString::fromStdString(kNf4State);
        QTest::newRow("double quant: absmax too short")
            << nf4 << Mutation([](Tensors& t) { truncate(find(t, kW + ".absmax"), 100); })
            << "absmax too short: 100 scales" << QString::fromStdString(kW + ".absmax");
    }
    void bad_files_give_clear_errors() {
        QFETCH(QString, folder);
        QFETCH(Mutation, mutate);
        QFETCH(QString, expected);
        QFETCH(QString, tensor);
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const fs::path dir = tmp.path().toStdString();
        const fs::path src = kCheckpoints + folder.toStdString();
        fs::copy_file(src / "config.json", dir / "config.json");
        Tensors tensors = read_tensors(src / "model.safetensors");
        mutate(tensors);
        write_tensors(dir / "model.safetensors", tensors);

        auto w = load_weights(dir);
        QVERIFY2(!w.ok(), "a broken 4-bit file loaded");
        const QString error = QString::fromStdString(w.error());
        qInfo("%s", qPrintable(error));
        QVERIFY2(error.contains(expected), qPrintable("expected \"" + expected + "\" in: " + error));
        QVERIFY2(error.contains("'" + tensor + "'"), qPrintable("the error does not name " + tensor + ": " + error));
        QVERIFY2(error.contains("model.safetensors"), qPrintable("the error does not name the file: " + error));
        QVERIFY2(!errors_seen_.contains(error), qPrintable("two defects give the same error: " + error));
        errors_seen_.insert(error);
    }

    // The unmodified copy loads and computes exactly what the original does: the rewriting
    // itself breaks nothing, so the defects above are what the errors are about.
    void rewritten_copy_still_loads() {
        for (const char* folder : {"tiny-bnb-fp4", "tiny-bnb-nf4-double"}) {
            QTemporaryDir tmp;
            const fs::path dir = tmp.path().toStdString();
            const fs::path src = kCheckpoints + folder;
            fs::copy_file(src / "config.json", dir / "config.json");
            write_tensors(dir / "model.safetensors", read_tensors(src / "model.safetensors"));
            auto copy = load_weights(dir);
            QVERIFY2(copy.ok(), copy.error().c_str());
            auto original = load_weights(src);
            QVERIFY2(original.ok(), original.error().c_str());
            QCOMPARE((*copy)->format, WeightFormat::Q4);
            const std::vector<int32_t> tokens = ids_of(golden()[folder]["tokens"]);
            std::vector<float> from_copy, from_original;
            QVERIFY(make_cpu_backend(*copy, 1)->forward(tokens, LogitsMode::All, from_copy).ok());
            QVERIFY(make_cpu_backend(*original, 1)->forward(tokens, LogitsMode::All, from_original).ok());
            QCOMPARE(from_copy, from_original);
            QVERIFY(fm::testing::max_abs_diff_to_golden(from_copy, golden()[folder]["logits"],
                                                        (*copy)->config.vocab_size) < 1e-3);
        }
    }

    // --- quantize-on-load cache ------------------------------------------------------------------
    void q4_cache_round_trip() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const fs::path ckpt = fs::path(tmp.path().toStdString()) / "checkpoint";
        const fs::path cache = fs::path(tmp.path().toStdString()) / "app-data" / "q4-cache";
        fs::create_directories(ckpt);
        for (const char* f : {"config.json", "model.safetensors"})
            fs::copy_file(kCheckpoints + "tiny-bf16/" + f, ckpt / f);
        const auto tokens = ids_of(golden()["tiny-bf16"]["tokens"]);
        auto logits_of = [&](const std::shared_ptr<ModelWeights>& w) { return all_logits(w, tokens); };
        auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
            return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
        };

        LoadOptions o;
        o.quantize_4bit = true;
        auto direct = load_weights(ckpt, o);
        QVERIFY(direct.ok());
        const auto expected = logits_of(*direct);

        auto first = load_weights_q4_cached(ckpt, o, cache);
        QVERIFY2(first.ok(), first.error().c_str());
        qInfo("%s", first->note.c_str());
        QVERIFY(!first->from_cache);
        QVERIFY(fs::exists(first->cache_file));
        QCOMPARE(first->cache_file.parent_path(), cache);
        QVERIFY(same(logits_of(first->weights), expected));

        auto second = load_weights_q4_cached(ckpt, o, cache);
        QVERIFY2(second.ok(), second.error().c_str());
        qInfo("%s", second->note.c_str());
        QVERIFY(second->from_cache);
        QCOMPARE(second->weights->format, WeightFormat::Q4);
        QCOMPARE(second->weights->fingerprint(), (*direct)->fingerprint());
        QCOMPARE(second->weights->weight_bytes(), (*direct)->weight_bytes());
        QVERIFY(same(logits_of(second->weights), expected));

        // Nothing was written next to the checkpoint.
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(ckpt)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        QCOMPARE(names, (std::vector<std::string>{"config.json", "model.safetensors"}));

        // Embeddings quantized too: another file; the first one stays.
        LoadOptions oe = o;
        oe.quantize_embeddings = true;
        auto direct_e = load_weights(ckpt, oe);
        QVERIFY(direct_e.ok());
        const auto expected_e = logits_of(*direct_e);
        auto third = load_weights_q4_cached(ckpt, oe, cache);
        QVERIFY(third.ok() && !third->from_cache);
        QVERIFY(third->cache_file != first->cache_file);
        QVERIFY(fs::exists(first->cache_file));
        auto fourth = load_weights_q4_cached(ckpt, oe, cache);
        QVERIFY(fourth.ok() && fourth->from_cache);
        QCOMPARE(fourth->weights->embedding.dtype, DType::Q4);
        QVERIFY(same(logits_of(fourth->weights), expected_e));

        // A truncated cache file is noticed, replaced, and the load still succeeds.
        fs::resize_file(third->cache_file, fs::file_size(third->cache_file) / 2);
        auto fifth = load_weights_q4_cached(ckpt, oe, cache);
        QVERIFY2(fifth.ok(), fifth.error().c_str());
        qInfo("%s", fifth->note.c_str());
        QVERIFY(!fifth->from_cache);
        QVERIFY(QString::fromStdString(fifth->note).contains("broken"));
        QVERIFY(same(logits_of(fifth->weights), expected_e));
        auto sixth = load_weights_q4_cached(ckpt, oe, cache);
        QVERIFY(sixth.ok() && sixth->from_cache);

        // The checkpoint changes (new modification time): new file, the stale ones are removed.
        fs::last_write_time(ckpt / "model.safetensors",
                            fs::last_write_time(ckpt / "model.safetensors") + std::chrono::seconds(5));
        auto seventh = load_weights_q4_cached(ckpt, o, cache);
        QVERIFY(seventh.ok() && !seventh->from_cache);
        QVERIFY(seventh->cache_file != first->cache_file);
        QVERIFY(!fs::exists(first->cache_file));
        QVERIFY(!fs::exists(third->cache_file));
        QVERIFY(fs::exists(seventh->cache_file));
    }

    void q4_cache_refuses_the_checkpoint_folder() {
        LoadOptions o;
        o.quantize_4bit = true;
        auto r = load_weights_q4_cached(kCheckpoints + "tiny-bf16", o, kCheckpoints + "tiny-bf16/cache");
        QVERIFY(!r.ok());
        QVERIFY2(QString::fromStdString(r.error()).contains("inside the checkpoint folder"), r.error().c_str());
        QVERIFY(!fs::exists(kCheckpoints + "tiny-bf16/cache"));
        // bitsandbytes checkpoints are already 4-bit: loaded as they are, nothing cached.
        QTemporaryDir tmp;
        auto b = load_weights_q4_cached(kCheckpoints + "tiny-bnb-fp4", o, tmp.path().toStdString());
        QVERIFY2(b.ok(), b.error().c_str());
        QVERIFY(!b->from_cache);
        QCOMPARE(b->weights->layers[0].in_proj.dtype, DType::Q4);
        QVERIFY(fs::is_empty(tmp.path().toStdString()));
    }

private:
    QSet<QString> errors_seen_;
};

QTEST_GUILESS_MAIN(TestQuant4)
#include "test_quant4.moc"
