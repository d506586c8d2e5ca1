// falcon-mamba-cli, driven through run_cli with in-memory streams.

#include <QtTest>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/cli/cli.h"
#include "tests/engine/engine_test_support.h"
#include "tests/engine/golden_support.h"

using json = nlohmann::json;
using fm::testing::golden;
using fm::testing::last_json_line;

namespace {

const std::string kData = FM_TEST_DATA_DIR;

struct Run {
    int code = 0;
    std::string out, err;
};

Run cli(const std::vector<std::string>& args, const std::string& input = "") {
    std::ostringstream out, err;
    std::istringstream in(input);
    Run r;
    r.code = fm::cli::run_cli(args, out, err, in);
    r.out = out.str();
    r.err = err.str();
    return r;
}

std::string ids_csv(const json& ids) {
    std::string s;
    for (const auto& id : ids) s += (s.empty() ? "" : ",") + std::to_string(id.get<int>());
    return s;
}

}  // namespace

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void info_reports_sizes() {
        auto r = cli({"info", "--model", kData + "/checkpoints/tiny-bf16"});
        QCOMPARE(r.code, 0);
        auto j = json::parse(r.out);
        // embeddings + lm_head 2*512*64; per layer: norm 64, in_proj 256*64, conv 128*4+128,
        // x_proj 36*128, dt_proj 128*4+128, A_log 128*16, D 128, out_proj 64*128; norm_f 64.
        const int64_t per_layer = 64 + 256 * 64 + 128 * 4 + 128 + 36 * 128 + 128 * 4 + 128 + 128 * 16 + 128 + 64 * 128;
        QCOMPARE(j["parameters"].get<int64_t>(), 2 * 512 * 64 + 2 * per_layer + 64);
        QCOMPARE(j["state_bytes"].get<int64_t>(), int64_t{2 * 128 * (3 + 16) * 4});
        QCOMPARE(j["weight_dtype"].get<std::string>(), std::string("BF16"));
        QVERIFY(j["cuda"].contains("available"));
    }

    void logits_npy_matches_golden_data() {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<int>("chunk");
        QTest::newRow("bf16 whole") << "tiny-bf16" << 64;
        QTest::newRow("f32 sharded chunk 3") << "tiny-f32-sharded" << 3;
    }
    void logits_npy_matches_golden() {
        QFETCH(QString, folder);
        QFETCH(int, chunk);
        QTemporaryDir tmp;
        const std::string out = tmp.path().toStdString() + "/logits.npy";
        const auto& g = golden()[folder.toStdString()];
        auto r = cli({"logits", "--model", kData + "/checkpoints/" + folder.toStdString(), "--tokens",
                      ids_csv(g["tokens"]), "--out", out, "--chunk", std::to_string(chunk), "--threads", "2"});
        QVERIFY2(r.code == 0, r.err.c_str());
        std::ifstream in(out, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), {});
        QCOMPARE(bytes.substr(0, 6), std::string("\x93NUMPY"));
        const uint16_t header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
        const std::string header = bytes.substr(10, header_len);
        QVERIFY(header.find("'descr': '<f4'") != std::string::npos);
        QVERIFY(header.find("'shape': (16, 512)") != std::string::npos);
        QCOMPARE((10 + header_len) % 64, 0);
        QCOMPARE(bytes.size(), size_t{10} + header_len + 16 * 512 * 4);
        const float* data = reinterpret_cast<const float*>(bytes.data() + 10 + header_len);
        for (int t = 0; t < 16; ++t)
            for (int v = 0; v < 512; ++v)
                QVERIFY(std::abs(data[t * 512 + v] - g["logits"][t][v].get<double>()) <= 1e-3);
    }

    void greedy_generate_reproduces_golden() {
        const auto& g = golden()["tiny-bf16"];
        auto r = cli({"generate", "--model", kData + "/checkpoints/tiny-bf16", "--prompt-tokens",
                      ids_csv(g["greedy_prompt"]), "-n", "20", "--temp", "0", "--print-ids"});
        QVERIFY2(r.code == 0, r.err.c_str());
        QCOMPARE(last_json_line(r.out), g["greedy_continuation"]);
    }

    void seeds_make_runs_reproducible() {
        auto run = [](const std::string& seed) {
            auto r = cli({"generate", "--model", kData + "/tiny-chat", "-p", "Hello, how are", "-n", "24", "--temp",
                          "1.0", "--top-k", "0", "--top-p", "1", "--min-p", "0", "--seed", seed, "--print-ids"});
            return last_json_line(r.out);
        };
        const json a = run("7"), b = run("7"), c = run("8");
        QCOMPARE(a.size(), size_t{24});
        QCOMPARE(a, b);
        QVERIFY(a != c);
    }

    void bench_prints_json() {
        auto r = cli({"bench", "--model", kData + "/checkpoints/tiny-bf16", "--prompt-tokens", "32", "--generate", "16",
                      "--threads", "1,2", "--bandwidth-mib", "8"});
        QVERIFY2(r.code == 0, r.err.c_str());
        // One JSON object per line, one line per thread count.
        std::vector<json> runs;
        std::istringstream lines(r.out);
        for (std::string line; std::getline(lines, line);) runs.push_back(json::parse(line));
        QCOMPARE(runs.size(), size_t{2});
        for (size_t i = 0; i < runs.size(); ++i) {
            const json& j = runs[i];
            QCOMPARE(j["threads"].get<int>(), int(i + 1));
            QCOMPARE(j["generated_tokens"].get<int>(), 16);
            QCOMPARE(j["prompt_tokens"].get<int>(), 32);
            for (const char* key :
                 {"load_seconds", "prefill_tokens_per_second", "decode_tokens_per_second",
                  "time_to_first_token_seconds", "peak_resident_bytes", "resident_weight_bytes",
                  "decode_bytes_per_token", "read_bandwidth_bytes_per_second", "decode_bandwidth_share"})
                QVERIFY2(j[key].get<double>() > 0, key);
            // A token reads every weight but the embedding table (one row of it) and the state twice.
            const auto w = j["weight_bytes"].get<int64_t>(), st = j["state_bytes"].get<int64_t>();
            const int64_t table = 512 * 64 * 2, row = 64 * 2;  // tiny-bf16: vocab 512, hidden 64, bf16
            QCOMPARE(j["decode_bytes_per_token"].get<int64_t>(), w - table + row + 2 * st);
            QVERIFY(j["time_to_first_token_seconds"].get<double>() >= j["prefill_seconds"].get<double>());
        }
        // --flat: decode after prompts of two lengths, alternating in one process.
        auto flat = cli({"bench", "--model", kData + "/checkpoints/tiny-bf16", "--flat", "3,40", "--rounds", "3",
                         "--generate", "4"});
        QVERIFY2(flat.code == 0, flat.err.c_str());
        const json f = json::parse(flat.out);
        QCOMPARE(f["prompt_tokens"], json::parse("[3, 40]"));
        QCOMPARE(f["decode_tokens_per_second"].size(), size_t{2});
        QCOMPARE(f["decode_tokens_per_second"][1].size(), size_t{3});
        for (const auto& m : f["median_decode_tokens_per_second"]) QVERIFY(m.get<double>() > 0);

        auto bad = cli({"bench", "--model", kData + "/checkpoints/tiny-bf16", "--threads", "1,x"});
        QCOMPARE(bad.code, 1);
        QVERIFY(bad.err.find("--threads") != std::string::npos);
    }

    void tokenize_and_detokenize() {
        const std::string tok = kData + "/tokenizers/falcon-tokenizer/tokenizer.json";
        auto r = cli({"tokenize", "--tokenizer", tok, "--parse-special", "--text", "Hello world<|endoftext|>"});
        QVERIFY2(r.code == 0, r.err.c_str());
        auto ids = json::parse(r.out).get<std::vector<int>>();
        QCOMPARE(ids.back(), 11);
        auto plain = cli({"tokenize", "--tokenizer", tok, "--text", "Hello world<|endoftext|>"});
        QVERIFY(json::parse(plain.out).get<std::vector<int>>().back() != 11);
        std::string csv;
        for (int id : ids) csv += (csv.empty() ? "" : ",") + std::to_string(id);
        auto d = cli({"detokenize", "--tokenizer", tok, "--ids", csv});
        QCOMPARE(d.out, std::string("Hello world<|endoftext|>"));
        auto skipped = cli({"detokenize", "--tokenizer", tok, "--ids", csv, "--skip-special"});
        QCOMPARE(skipped.out, std::string("Hello world"));
    }

    void render_prints_the_prompt_exactly() {
        QTemporaryDir tmp;
        const std::string path = tmp.path().toStdString() + "/messages.json";
        std::ofstream(path) << R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi <b>"}])";
        auto r = cli({"render", "--model", kData + "/tiny-chat", "--messages", path, "--add-generation-prompt"});
        QVERIFY2(r.code == 0, r.err.c_str());
        QCOMPARE(r.out, std::string("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi "
                                    "<b><|im_end|>\n<|im_start|>assistant\n"));
    }

    void chat_prefills_only_new_turns() {
        auto r = cli({"chat", "--model", kData + "/tiny-chat", "--temp", "0", "-n", "6", "--system", "Be brief."},
                     "Hello there\nAnd again\nOnce more\n");
        QVERIFY2(r.code == 0, r.err.c_str());
        // One status line per turn: the history is never prefilled again.
        std::istringstream lines(r.err);
        std::string line;
        std::vector<int> prefilled, total;
        while (std::getline(lines, line)) {
            int p = 0, t = 0;
            if (std::sscanf(line.c_str(), "[prefilled %d new tokens of %d", &p, &t) == 2) {
                prefilled.push_back(p);
                total.push_back(t);
            }
        }
        QCOMPARE(prefilled.size(), size_t{3});
        QCOMPARE(prefilled[0], total[0]);
        for (size_t i = 1; i < 3; ++i) QVERIFY(prefilled[i] < total[i] - total[i - 1] + 8);
        QVERIFY(r.err.find("restarted") == std::string::npos);
    }

    void errors_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown command") << QStringList{"frobnicate"} << 2 << "unknown command";
        QTest::newRow("no model") << QStringList{"info"} << 1 << "--model DIR is required";
        QTest::newRow("missing folder") << QStringList{"info", "--model", "/nonexistent"} << 1 << "cannot open";
        QTest::newRow("bad ids") << QStringList{"logits", "--model", "x", "--tokens", "1,a", "--out", "y"} << 1
                                 << "not a token id";
        QTest::newRow("unknown option") << QStringList{"bench", "--frob"} << 1 << "unknown option";
        QTest::newRow("both prompts") << QStringList{"generate", "--model", "x", "-p", "a", "--prompt-tokens", "1"} << 1
                                      << "either";
    }
    void errors() {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QFETCH(QString, message);
        std::vector<std::string> a;
        for (const auto& s : args) a.push_back(s.toStdString());
        auto r = cli(a);
        QCOMPARE(r.code, code);
        QVERIFY2(QString::fromStdString(r.err).contains(message), r.err.c_str());
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
