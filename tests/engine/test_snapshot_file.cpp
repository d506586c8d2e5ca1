// Conversation snapshots on disk: bit-exact round trips, determinism across a save/quit/load,
// and corrupt or foreign files refused with a reason.

#include <QtTest>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/cli/cli.h"
#include "inference/backends/backend.h"
#include "inference/checkpoint/weights.h"
#include "inference/session/snapshot_file.h"
#include "tests/engine/engine_test_support.h"

using namespace fm;
using json = nlohmann::json;
using fm::testing::last_json_line;

namespace {

const std::string kData = FM_TEST_DATA_DIR;

std::pair<int, std::string> run_cli(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    std::istringstream in;
    int code = fm::cli::run_cli(args, out, err, in);
    return {code, out.str() + err.str()};
}

StoredSnapshot sample_snapshot() {
    auto w = load_weights(kData + "/tiny-chat");
    auto backend = make_cpu_backend(*w, 1);
    GenerationSession session(*backend, nullptr, nullptr);
    GenerationParams p;
    p.sampling.temperature = 0;
    p.max_new_tokens = 5;
    (void)session.complete({5, 6, 7, 8}, p);
    return {snapshot_fingerprint(*backend), session.snapshot(), "{\"messages\":[]}"};
}

// What happens to a snapshot file's bytes.
enum class Damage { Truncate, FlipStateByte, BadMagic, Empty };

}  // namespace

Q_DECLARE_METATYPE(Damage)

class TestSnapshotFile : public QObject {
    Q_OBJECT
private slots:
    void round_trip_is_bit_exact() {
        const StoredSnapshot s = sample_snapshot();
        QTemporaryDir tmp;
        const auto path = tmp.filePath("s.fmstate").toStdString();
        QVERIFY(save_snapshot_file(path, s).ok());
        auto back = load_snapshot_file(path);
        QVERIFY2(back.ok(), back.error().c_str());
        QCOMPARE(back->fingerprint, s.fingerprint);
        QVERIFY(back->snapshot.state == s.snapshot.state);
        QCOMPARE(back->snapshot.tokens, s.snapshot.tokens);
        QCOMPARE(back->snapshot.text, s.snapshot.text);
        QCOMPARE(back->snapshot.last_logits, s.snapshot.last_logits);
        QCOMPARE(back->metadata, s.metadata);
        QCOMPARE(encode_snapshot(*back), encode_snapshot(s));
    }

    void damaged_files_are_refused_data() {
        QTest::addColumn<Damage>("damage");
        QTest::addColumn<QString>("expected");
        QTest::newRow("truncated") << Damage::Truncate << "checksum";
        QTest::newRow("flipped byte in the state") << Damage::FlipStateByte << "checksum";
        QTest::newRow("not a snapshot") << Damage::BadMagic << "bad magic";
        QTest::newRow("empty") << Damage::Empty << "truncated";
    }
    void damaged_files_are_refused() {
        QFETCH(Damage, damage);
        QFETCH(QString, expected);
        auto bytes = encode_snapshot(sample_snapshot());
        if (damage == Damage::Truncate) bytes.resize(bytes.size() - 100);
        if (damage == Damage::FlipStateByte) bytes[bytes.size() - 1000] ^= 0x01;
        if (damage == Damage::BadMagic) bytes[1] = 'X';
        if (damage == Damage::Empty) bytes.clear();
        auto r = decode_snapshot(bytes);
        QVERIFY(!r.ok());
        QVERIFY2(QString::fromStdString(r.error()).contains(expected), r.error().c_str());
    }

    // Greedy continuation after saving, quitting and loading equals the continuation without
    // quitting, token for token.
    void save_quit_load_is_deterministic() {
        QTemporaryDir tmp;
        const std::string state = tmp.filePath("a.fmstate").toStdString();
        const std::string model = kData + "/checkpoints/tiny-bf16";
        auto [c1, first] = run_cli({"generate", "--model", model, "--prompt-tokens", "3,1,4,1,5", "-n", "10", "--temp",
                                    "0", "--print-ids", "--save-state", state});
        QVERIFY2(c1 == 0, first.c_str());
        auto [c2, resumed] = run_cli({"generate", "--model", model, "--load-state", state, "--prompt-tokens", "9,2,6",
                                      "-n", "12", "--temp", "0", "--print-ids"});
        QVERIFY2(c2 == 0, resumed.c_str());
        QVERIFY(resumed.find("\"prefilled_tokens\":3") != std::string::npos);  // only the new tokens

        // The same without quitting: one process, one session.
        auto w = load_weights(model);
        auto backend = make_cpu_backend(*w, 1);
        GenerationSession session(*backend, nullptr, nullptr);
        GenerationParams p;
        p.sampling.temperature = 0;
        p.sampling.repeat_penalty = 1.0f;
        p.max_new_tokens = 10;
        std::vector<int32_t> prompt{3, 1, 4, 1, 5};
        auto a = session.complete(prompt, p);
        QCOMPARE(json(a->tokens), last_json_line(first));
        prompt.insert(prompt.end(), a->tokens.begin(), a->tokens.end());
        prompt.insert(prompt.end(), {9, 2, 6});
        p.max_new_tokens = 12;
        auto b = session.complete(prompt, p);
        QCOMPARE(b->prefilled_tokens, int64_t{3});
        QCOMPARE(json(b->tokens), last_json_line(resumed));
    }

    void foreign_state_is_refused() {
        QTemporaryDir tmp;
        const std::string state = tmp.filePath("b.fmstate").toStdString();
        QCOMPARE(run_cli({"generate", "--model", kData + "/checkpoints/tiny-bf16", "--prompt-tokens", "1,2", "-n", "2",
                          "--temp", "0", "--save-state", state})
                     .first,
                 0);
        auto [code, text] = run_cli({"generate", "--model", kData + "/checkpoints/tiny-f32-sharded", "--load-state",
                                     state, "--prompt-tokens", "3", "-n", "2"});
        QCOMPARE(code, 1);
        QVERIFY2(text.find("saved by another model") != std::string::npos, text.c_str());
    }
};

QTEST_GUILESS_MAIN(TestSnapshotFile)
#include "test_snapshot_file.moc"
