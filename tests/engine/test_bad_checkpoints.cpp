// Every kind of broken checkpoint gives its own clear error, never a crash (also under ASan).

#include <QtTest>

#include <cstring>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "inference/checkpoint/safetensors.h"
#include "inference/checkpoint/safetensors_writer.h"
#include "inference/checkpoint/weights.h"
#include "tests/engine/engine_test_support.h"
#include "tests/tools/checkpoint_generator.h"

using namespace fm;
namespace fs = std::filesystem;
using fm::testing::read_file;
using fm::testing::write_file;

namespace {

// Splits a safetensors file into its JSON header and data section.
std::pair<nlohmann::json, std::string> split(const std::string& file) {
    uint64_t n = 0;
    std::memcpy(&n, file.data(), 8);
    return {nlohmann::json::parse(file.substr(8, n)), file.substr(8 + n)};
}

std::string join(const nlohmann::json& header, const std::string& data) {
    std::string h = header.dump();
    uint64_t n = h.size();
    std::string out(8, '\0');
    std::memcpy(out.data(), &n, 8);
    return out + h + data;
}

using Mutation = std::function<void(const fs::path& dir)>;

void edit_header(const fs::path& file, const std::function<void(nlohmann::json&, std::string&)>& edit) {
    auto [header, data] = split(read_file(file));
    edit(header, data);
    write_file(file, join(header, data));
}

void edit_config(const fs::path& dir, const std::function<void(nlohmann::json&)>& edit) {
    auto config = nlohmann::json::parse(read_file(dir / "config.json"));
    edit(config);
    write_file(dir / "config.json", config.dump());
}

}  // namespace

class TestBadCheckpoints : public QObject {
    Q_OBJECT
private slots:
    void each_defect_has_its_own_error_data() {
        QTest::addColumn<bool>("sharded");
        QTest::addColumn<Mutation>("mutate");
        QTest::addColumn<QString>("expected");

        const std::string layer0 = "backbone.layers.0.mixer.in_proj.weight";
        QTest::newRow("truncated shard") << true << Mutation([](const fs::path& d) {
            auto f = d / "model-00001-of-00002.safetensors";
            auto bytes = read_file(f);
            write_file(f, bytes.substr(0, bytes.size() - 1000));
        }) << "truncated";
        QTest::newRow("header offsets past the end") << false << Mutation([=](const fs::path& d) {
            edit_header(d / "model.safetensors", [&](nlohmann::json& h, std::string& data) {
                uint64_t end = h[layer0]["data_offsets"][1];
                h[layer0]["data_offsets"] = {data.size() + 16,
                                             data.size() + 16 + (end - h[layer0]["data_offsets"][0].get<uint64_t>())};
            });
        }) << "past the end of the file";
        QTest::newRow("header length past the end") << false << Mutation([](const fs::path& d) {
            auto f = d / "model.safetensors";
            auto bytes = read_file(f);
            uint64_t huge = bytes.size() * 2;
            std::memcpy(bytes.data(), &huge, 8);
            write_file(f, bytes);
        }) << "runs past the end of the file";
        QTest::newRow("overlapping tensors") << false << Mutation([](const fs::path& d) {
            edit_header(d / "model.safetensors", [](nlohmann::json& h, std::string&) {
                auto a = h["backbone.layers.0.mixer.D"]["data_offsets"];
                h["backbone.layers.1.mixer.D"]["data_offsets"] = a;
            });
        }) << "overlap";
        QTest::newRow("missing tensor") << false << Mutation([](const fs::path& d) {
            edit_header(d / "model.safetensors",
                        [](nlohmann::json& h, std::string&) { h.erase("backbone.norm_f.weight"); });
        }) << "missing tensor 'backbone.norm_f.weight'";
        QTest::newRow("wrong shape") << false << Mutation([](const fs::path& d) {
            edit_config(d, [](nlohmann::json& c) { c["intermediate_size"] = 96; });
        }) << "expected shape";
        QTest::newRow("wrong dtype") << false << Mutation([](const fs::path& d) {
            edit_header(d / "model.safetensors", [](nlohmann::json& h, std::string&) {
                auto& t = h["backbone.layers.0.mixer.D"];
                // Same bytes, reinterpreted as U8: the size check passes, the dtype check must not.
                uint64_t n = t["data_offsets"][1].get<uint64_t>() - t["data_offsets"][0].get<uint64_t>();
                t["dtype"] = "U8";
                t["shape"] = {n};
            });
        }) << "expected F32, F16 or BF16";
        QTest::newRow("unknown dtype") << false << Mutation([](const fs::path& d) {
            edit_header(d / "model.safetensors",
                        [](nlohmann::json& h, std::string&) { h["backbone.layers.0.mixer.D"]["dtype"] = "F8_E4M3"; });
        }) << "unsupported dtype";
        QTest::newRow("config missing a size") << false << Mutation([](const fs::path& d) {
            edit_config(d, [](nlohmann::json& c) { c.erase("hidden_size"); });
        }) << "missing required field 'hidden_size'";
        QTest::newRow("config negative size") << false << Mutation([](const fs::path& d) {
            edit_config(d, [](nlohmann::json& c) { c["state_size"] = -16; });
        }) << "'state_size' must be positive";
        QTest::newRow("config unsupported model") << false << Mutation([](const fs::path& d) {
            edit_config(d, [](nlohmann::json& c) { c["model_type"] = "llama"; });
        }) << "unsupported model_type";
        QTest::newRow("config not json") << false << Mutation([](const fs::path& d) {
            write_file(d / "config.json", "{\"model_type\": \"falcon_mamba\", ");
        }) << "invalid JSON at byte";
        QTest::newRow("index names a missing shard")
            << true << Mutation([](const fs::path& d) { fs::remove(d / "model-00002-of-00002.safetensors"); })
            << "which is missing";
        QTest::newRow("index lies about a shard") << true << Mutation([](const fs::path& d) {
            auto index = nlohmann::json::parse(read_file(d / "model.safetensors.index.json"));
            index["weight_map"]["backbone.norm_f.weight"] = "model-00001-of-00002.safetensors";
            write_file(d / "model.safetensors.index.json", index.dump());
        }) << "but it does not";
        QTest::newRow("random bytes") << false << Mutation([](const fs::path& d) {
            std::mt19937 rng(7);
            std::string junk(4096, '\0');
            for (auto& c : junk) c = static_cast<char>(rng());
            write_file(d / "model.safetensors", junk);
        }) << "safetensors";
        QTest::newRow("empty file") << false
                                    << Mutation([](const fs::path& d) { write_file(d / "model.safetensors", ""); })
                                    << "too short";
        QTest::newRow("no weights at all")
            << false << Mutation([](const fs::path& d) { fs::remove(d / "model.safetensors"); })
            << "no model.safetensors";
    }

    void each_defect_has_its_own_error() {
        QFETCH(bool, sharded);
        QFETCH(Mutation, mutate);
        QFETCH(QString, expected);
        QTemporaryDir tmp;
        const fs::path dir = tmp.path().toStdString();
        testing::CheckpointSpec spec;
        spec.dtype = DType::F32;
        spec.shards = sharded ? 2 : 1;
        QVERIFY(testing::write_random_checkpoint(dir, spec).ok());
        QVERIFY(load_weights(dir).ok());  // the unbroken checkpoint loads
        mutate(dir);
        auto w = load_weights(dir);
        QVERIFY(!w.ok());
        qInfo("%s", w.error().c_str());
        QVERIFY2(QString::fromStdString(w.error()).contains(expected), w.error().c_str());
    }

    void cancelled_load_says_so() {
        QTemporaryDir tmp;
        QVERIFY(testing::write_random_checkpoint(tmp.path().toStdString(), {}).ok());
        std::atomic<bool> cancel{false};
        std::vector<int64_t> seen;
        LoadOptions options;
        options.cancel = &cancel;
        options.progress = [&](int64_t done, int64_t total) {
            seen.push_back(done);
            QVERIFY(done <= total);
            cancel = true;
        };
        auto w = load_weights(tmp.path().toStdString(), options);
        QVERIFY(!w.ok());
        QVERIFY(QString::fromStdString(w.error()).contains("cancelled"));
        QCOMPARE(seen.size(), size_t{1});
    }

    void progress_reaches_total() {
        QTemporaryDir tmp;
        QVERIFY(testing::write_random_checkpoint(tmp.path().toStdString(), {}).ok());
        int64_t last = 0, total_seen = -1;
        LoadOptions options;
        options.progress = [&](int64_t done, int64_t total) {
            QVERIFY(done > last);
            last = done;
            total_seen = total;
        };
        QVERIFY(load_weights(tmp.path().toStdString(), options).ok());
        QCOMPARE(last, total_seen);
    }
    // The in-memory way in (fuzzing reads inputs through it) checks exactly what the file path
    // checks, and its pages are never released as if they were a mapping of the file.
    void bytes_in_memory_read_like_the_file() {
        QTemporaryDir tmp;
        const fs::path file = fs::path(tmp.path().toStdString()) / "model.safetensors";
        const std::vector<TensorToWrite> tensors{
            TensorToWrite::from_floats("a", {2, 3}, {1, 2, 3, 4, 5, 6}),
            TensorToWrite::from_bytes("b", DType::U8, {5}, {9, 8, 7, 6, 5}),
            TensorToWrite::from_bytes("empty", DType::U8, {0}, {}),  // no data pointer (was UB in fill)
        };
        QVERIFY(write_safetensors(file, tensors, {{"format", "pt"}}).ok());
        const std::string on_disk = read_file(file);
        const std::vector<uint8_t> bytes = safetensors_bytes(tensors, {{"format", "pt"}});
        QVERIFY(std::string(bytes.begin(), bytes.end()) == on_disk);

        auto mapped = TensorStore::open_file(file);
        auto memory = TensorStore::from_bytes(bytes, file);
        QVERIFY(mapped.ok() && memory.ok());
        QVERIFY(mapped->files()[0]->mapped());
        QVERIFY(!memory->files()[0]->mapped());
        QCOMPARE(memory->tensors().size(), mapped->tensors().size());
        for (const auto& [name, t] : mapped->tensors()) {
            const TensorInfo* m = memory->find(name);
            QVERIFY(m && m->dtype == t.dtype && m->shape == t.shape && m->byte_size == t.byte_size);
            QVERIFY(std::memcmp(m->data, t.data, t.byte_size) == 0);
        }

        // A truncated file: the same error either way.
        const std::string cut = on_disk.substr(0, on_disk.size() - 3);
        write_file(file, cut);
        auto cut_mapped = TensorStore::open_file(file);
        auto cut_memory = TensorStore::from_bytes(std::vector<uint8_t>(cut.begin(), cut.end()), file);
        QVERIFY(!cut_mapped.ok() && !cut_memory.ok());
        QCOMPARE(QString::fromStdString(cut_memory.error()), QString::fromStdString(cut_mapped.error()));
        QVERIFY2(cut_memory.error().find("runs past the end of the file") != std::string::npos,
                 cut_memory.error().c_str());
    }

    // open_index is what open does with model.safetensors.index.json once it has read it.
    void index_text_opens_like_the_folder() {
        QTemporaryDir tmp;
        const fs::path dir = tmp.path().toStdString();
        testing::CheckpointSpec spec;
        spec.dtype = DType::F32;
        spec.shards = 2;
        QVERIFY(testing::write_random_checkpoint(dir, spec).ok());
        const fs::path index = dir / "model.safetensors.index.json";
        auto from_folder = TensorStore::open(dir);
        auto from_text = TensorStore::open_index(read_file(index), index, dir);
        QVERIFY(from_folder.ok() && from_text.ok());
        QCOMPARE(from_text->tensors().size(), from_folder->tensors().size());
        for (const auto& [name, t] : from_folder->tensors()) QVERIFY(from_text->find(name));

        auto escaping = TensorStore::open_index("{\"weight_map\": {\"x\": \"../model.safetensors\"}}", index, dir);
        QVERIFY(!escaping.ok());
        QVERIFY2(escaping.error().find("must be a plain file name") != std::string::npos, escaping.error().c_str());
        auto not_json = TensorStore::open_index("{\"weight_map\": ", index, dir);
        QVERIFY(!not_json.ok());
        QVERIFY2(not_json.error().find(index.string()) != std::string::npos, not_json.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestBadCheckpoints)
#include "test_bad_checkpoints.moc"
