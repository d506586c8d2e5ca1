// The CPU ops that are the twins of CUDA's fused decode kernels (kernels/cpu/ops.h: gemv,
// gemv_conv, rms_gemv, dt_ssm_step, bcdt_rms_norm, ssm_step) against the composition of the
// reference chunk ops written out here, at odd shapes (tails, one row, rows not a multiple of
// the thread count), bit for bit: decode and prefill must agree exactly on the CPU.

#include <QTest>

#include <cstring>
#include <random>
#include <vector>

#include "kernels/common/numerics.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/thread_pool.h"
#include "kernels/cpu/vec_math.h"
#include "tests/engine/engine_test_support.h"

using namespace fm;

namespace {

using fm::testing::random_vector;

// A matrix in F32 or BF16 with random weights; owns its storage.
struct TestMatrix {
    std::vector<float> f32;
    std::vector<uint16_t> bf16;
    MatrixView view;

    TestMatrix(DType dtype, int64_t rows, int64_t cols, uint32_t seed) {
        f32 = random_vector(static_cast<size_t>(rows * cols), seed);
        view.dtype = dtype;
        view.rows = rows;
        view.cols = cols;
        if (dtype == DType::BF16) {
            bf16.resize(f32.size());
            for (size_t i = 0; i < f32.size(); ++i) {
                uint32_t bits;
                std::memcpy(&bits, &f32[i], 4);
                bf16[i] = static_cast<uint16_t>(bits >> 16);
            }
            view.data = bf16.data();
        } else {
            view.data = f32.data();
        }
    }
};

// A mixer's sizes: I channels, H hidden, N state, R dt rank, K conv width.
struct MixerShape {
    int64_t I, H, N, R, K;
};

}  // namespace

Q_DECLARE_METATYPE(MixerShape)

class TestCpuOps : public QObject {
    Q_OBJECT

private slots:
    void shapes_data() {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<int>("threads");
        QTest::addColumn<MixerShape>("shape");
        for (int dtype : {static_cast<int>(DType::F32), static_cast<int>(DType::BF16)})
            for (int threads : {1, 2, 3}) {
                const QByteArray tag =
                    QByteArray(dtype_name(static_cast<DType>(dtype))) + " threads " + QByteArray::number(threads);
                QTest::newRow(tag + " odd") << dtype << threads << MixerShape{7, 33, 3, 2, 4};
                QTest::newRow(tag + " one channel") << dtype << threads << MixerShape{1, 9, 1, 1, 1};
                QTest::newRow(tag + " wide") << dtype << threads << MixerShape{129, 67, 16, 5, 4};
            }
    }

    void shapes() {
        QFETCH(int, dtype);
        QFETCH(int, threads);
        QFETCH(MixerShape, shape);
        const auto [I, H, N, R, K] = shape;
        const auto dt = static_cast<DType>(dtype);
        ThreadPool pool(threads);
        const int64_t DBC = R + 2 * N;

        // gemv with each epilogue == matmul + the epilogue.
        TestMatrix W(dt, 2 * I + 1, H, 1);
        const std::vector<float> x = random_vector(static_cast<size_t>(3 * H), 2);
        const std::vector<float> bias = random_vector(static_cast<size_t>(W.view.rows), 3, -3.0f, 1.0f);
        const std::vector<float> y0 = random_vector(static_cast<size_t>(3 * W.view.rows), 4);
        for (Epilogue ep : {Epilogue::Store, Epilogue::Accumulate, Epilogue::BiasSoftplus}) {
            std::vector<float> got = y0, want = y0, prod(y0.size());
            cpu::gemv(W.view, x.data(), H, 3, got.data(), W.view.rows, ep, bias.data(), &pool);
            cpu::matmul(W.view, x.data(), 3, H, prod.data(), W.view.rows, false, nullptr);
            for (int64_t t = 0; t < 3; ++t)
                for (int64_t r = 0; r < W.view.rows; ++r) {
                    float& w = want[static_cast<size_t>(t * W.view.rows + r)];
                    const float p = prod[static_cast<size_t>(t * W.view.rows + r)];
                    w = ep == Epilogue::Store        ? p
                        : ep == Epilogue::Accumulate ? w + p
                                                     : cpu::vmath::softplus(p + bias[r]);
                }
            QCOMPARE(got, want);
        }

        // gemv_conv == rms_norm + matmul + conv1d_step; rms_gemv == rms_norm + matmul.
        TestMatrix in_proj(dt, 2 * I, H, 5);
        const std::vector<float> h = random_vector(static_cast<size_t>(H), 6, -3.0f, 3.0f);
        const std::vector<float> norm = random_vector(static_cast<size_t>(H), 7, 0.5f, 1.5f);
        const std::vector<float> conv_w = random_vector(static_cast<size_t>(I * K), 8);
        const std::vector<float> conv_b = random_vector(static_cast<size_t>(I), 9);
        const std::vector<float> conv_state = random_vector(static_cast<size_t>(I * (K - 1)), 10);
        {
            std::vector<float> xz(static_cast<size_t>(2 * I)), state = conv_state;
            cpu::gemv_conv(in_proj.view, h.data(), norm.data(), 1e-5f, xz.data(), I, K, conv_w.data(), conv_b.data(),
                           state.data(), &pool);
            std::vector<float> u(static_cast<size_t>(H)), want(static_cast<size_t>(2 * I)), want_state = conv_state;
            cpu::rms_norm(h.data(), H, norm.data(), 1, H, 1e-5f, u.data(), H);
            cpu::matmul(in_proj.view, u.data(), 1, H, want.data(), 2 * I, false, nullptr);
            ConvParams conv{
                1, I, K, want.data(), 2 * I, want.data(), 2 * I, conv_w.data(), conv_b.data(), want_state.data()};
            cpu::conv1d_chunk(conv);
            QCOMPARE(xz, want);
            QCOMPARE(state, want_state);

            std::vector<float> logits(static_cast<size_t>(2 * I)), want_logits(logits.size());
            cpu::rms_gemv(in_proj.view, h.data(), norm.data(), 1e-5f, logits.data(), Epilogue::Store, nullptr, &pool);
            cpu::matmul(in_proj.view, u.data(), 1, H, want_logits.data(), 2 * I, false, nullptr);
            QCOMPARE(logits, want_logits);
        }

        // conv1d_chunk out of place == in place.
        {
            const int64_t T = 5;
            const std::vector<float> xs = random_vector(static_cast<size_t>(T * 2 * I), 11);
            std::vector<float> in_place = xs, out(static_cast<size_t>(T * I)), s1 = conv_state, s2 = conv_state;
            cpu::conv1d_chunk(
                {T, I, K, in_place.data(), 2 * I, in_place.data(), 2 * I, conv_w.data(), conv_b.data(), s1.data()});
            cpu::conv1d_chunk({T, I, K, xs.data(), 2 * I, out.data(), I, conv_w.data(), conv_b.data(), s2.data()});
            for (int64_t t = 0; t < T; ++t)
                for (int64_t i = 0; i < I; ++i)
                    QCOMPARE(out[static_cast<size_t>(t * I + i)], in_place[static_cast<size_t>(t * 2 * I + i)]);
            QCOMPARE(s1, s2);
        }

        // dt_ssm_step == bcdt_rms_norm + matmul(dt_proj) + selective_scan(T = 1), and
        // bcdt_rms_norm == three rms_norms.
        TestMatrix dt_proj(dt, I, R, 12);
        const std::vector<float> dbc = random_vector(static_cast<size_t>(DBC), 13, -2.0f, 2.0f);
        const std::vector<float> xg = random_vector(static_cast<size_t>(2 * I), 14, -2.0f, 2.0f);  // [x | z]
        std::vector<float> A = random_vector(static_cast<size_t>(I * N), 15, -2.0f, -0.1f);
        const std::vector<float> D = random_vector(static_cast<size_t>(I), 16);
        const std::vector<float> dt_bias = random_vector(static_cast<size_t>(I), 17, -4.0f, -1.0f);
        const std::vector<float> ssm_state = random_vector(static_cast<size_t>(I * N), 18);
        for (bool norms : {false, true}) {
            std::vector<float> y(static_cast<size_t>(I)), state = ssm_state;
            const DtScanStepParams p{.dt_proj = dt_proj.view,
                                     .dbc = dbc.data(),
                                     .R = R,
                                     .norms = norms,
                                     .eps = 1e-6f,
                                     .step = {I, N, xg.data(), nullptr, dt_bias.data(), nullptr, nullptr, xg.data() + I,
                                              A.data(), D.data(), state.data(), y.data()}};
            cpu::dt_ssm_step(p, &pool);

            std::vector<float> nd = dbc;
            if (norms) {
                std::vector<float> three = dbc;
                cpu::rms_norm(three.data(), DBC, nullptr, 1, R, 1e-6f, three.data(), DBC);
                cpu::rms_norm(three.data() + R, DBC, nullptr, 1, N, 1e-6f, three.data() + R, DBC);
                cpu::rms_norm(three.data() + R + N, DBC, nullptr, 1, N, 1e-6f, three.data() + R + N, DBC);
                cpu::bcdt_rms_norm(nd.data(), DBC, 1, R, N, 1e-6f);
                QCOMPARE(nd, three);
            }
            std::vector<float> dt_raw(static_cast<size_t>(I)), want(static_cast<size_t>(I)), want_state = ssm_state;
            cpu::matmul(dt_proj.view, nd.data(), 1, DBC, dt_raw.data(), I, false, nullptr);
            ScanParams scan{1,
                            I,
                            N,
                            xg.data(),
                            2 * I,
                            dt_raw.data(),
                            I,
                            nd.data() + R,
                            nd.data() + R + N,
                            DBC,
                            xg.data() + I,
                            2 * I,
                            A.data(),
                            D.data(),
                            dt_bias.data(),
                            want_state.data(),
                            want.data(),
                            I};
            cpu::selective_scan(scan, nullptr);
            QCOMPARE(y, want);
            QCOMPARE(state, want_state);
        }
    }
};

QTEST_GUILESS_MAIN(TestCpuOps)
#include "test_cpu_ops.moc"
