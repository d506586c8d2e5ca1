// The recurrent state is a plain value: copy, compare, serialize, and refuse corrupt bytes.

#include <QtTest>

#include "inference/backends/backend.h"
#include "inference/backends/state.h"
#include "inference/checkpoint/config.h"
#include "inference/checkpoint/weights.h"

using namespace fm;

namespace {

RecurrentState state_after(const std::vector<int32_t>& tokens) {
    auto w = load_weights(std::string(FM_TEST_DATA_DIR) + "/checkpoints/tiny-bf16");
    auto backend = make_cpu_backend(*w, 1);
    std::vector<float> logits;
    (void)backend->forward(tokens, LogitsMode::None, logits);
    return backend->state();
}

}  // namespace

class TestState : public QObject {
    Q_OBJECT
private slots:
    void zeros_have_the_config_shape() {
        auto c = ModelConfig::load(std::string(FM_TEST_DATA_DIR) + "/falcon-mamba-7b-config");
        QVERIFY2(c.ok(), c.error().c_str());
        // docs/model.md, The recurrent state: 64 x 8192 x (3 + 16) x 4 bytes, about 38 MiB, whatever the length.
        QCOMPARE(c->state_bytes(), int64_t{64} * 8192 * 19 * 4);
        QCOMPARE(c->intermediate_size, int64_t{8192});  // not expand * hidden
    }

    void round_trip_is_bit_exact() {
        RecurrentState s = state_after({1, 2, 3, 4, 5});
        QCOMPARE(s.tokens_seen, uint64_t{5});
        auto bytes = s.serialize();
        auto back = RecurrentState::deserialize(bytes);
        QVERIFY2(back.ok(), back.error().c_str());
        QVERIFY(*back == s);
        QVERIFY(std::memcmp(back->ssm.data(), s.ssm.data(), s.ssm.size() * 4) == 0);
    }

    void copies_are_independent() {
        RecurrentState a = state_after({7, 8});
        RecurrentState b = a;
        QVERIFY(a == b);
        b.ssm[0] += 1.0f;
        QVERIFY(!(a == b));
    }

    void corrupt_bytes_are_refused_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<QString>("expected");
        QTest::newRow("truncated") << 0 << "truncated";
        QTest::newRow("flipped bit") << 1 << "checksum";
        QTest::newRow("bad magic") << 2 << "bad magic";
        QTest::newRow("empty") << 3 << "truncated";
        QTest::newRow("future version") << 4 << "version";
        // Three dimensions of 2^24 each: their product overflows 64 bits.
        QTest::newRow("sizes overflow") << 5 << "too large";
        QTest::newRow("dimension over 2^24") << 6 << "implausible";
    }
    void corrupt_bytes_are_refused() {
        QFETCH(int, kind);
        QFETCH(QString, expected);
        auto bytes = state_after({3, 1, 4}).serialize();
        switch (kind) {
        case 0: bytes.resize(bytes.size() / 2); break;
        case 1: bytes[bytes.size() / 2] ^= 0x10; break;
        case 2: bytes[0] = 'X'; break;
        case 3: bytes.clear(); break;
        case 4: bytes[4] = 9; break;
        case 5:
        case 6:
            // layers, inner, conv width: offsets 8, 16, 24 (little-endian int64)
            for (size_t offset : {8, 16, 24}) {
                const int64_t d = kind == 5 ? int64_t{1} << 24 : (int64_t{1} << 24) + 1;
                std::memcpy(bytes.data() + offset, &d, sizeof d);
            }
            break;
        }
        auto r = RecurrentState::deserialize(bytes);
        QVERIFY(!r.ok());
        QVERIFY2(QString::fromStdString(r.error()).contains(expected), r.error().c_str());
    }

    void set_state_checks_dimensions() {
        auto w = load_weights(std::string(FM_TEST_DATA_DIR) + "/checkpoints/tiny-bf16");
        auto backend = make_cpu_backend(*w, 1);
        RecurrentState wrong = backend->state();
        wrong.ssm.pop_back();
        QVERIFY(!backend->set_state(wrong).ok());
        QVERIFY(backend->set_state(state_after({9})).ok());
    }
};

QTEST_GUILESS_MAIN(TestState)
#include "test_state.moc"
