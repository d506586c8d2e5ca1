// Every SIMD kernel of kernels/cpu against its scalar twin, bit for bit, at odd shapes (tails
// of 1-15 elements, one row, rows and channels not a multiple of the vector width or of the
// thread count); the vector math against libm in double precision (independent data); and the
// matrix product for one token (decode) against a chunk of tokens (prefill) for every dtype.

#include <QTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/common/numerics.h"
#include "kernels/cpu/dot.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/thread_pool.h"
#include "kernels/cpu/vec_math.h"
#include "tests/engine/engine_test_support.h"

using namespace fm;
using cpu::detail::Isa;

namespace {

using fm::testing::random_vector;

std::vector<uint16_t> to_bf16(const std::vector<float>& v) {
    std::vector<uint16_t> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = num::float_to_bf16(v[i]);
    return out;
}

// Empty vectors may hold null pointers, which memcmp must not see (UBSan).
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// The dot product in double, for checking that the order of dot.h is a good one.
double dot_double(const float* a, const float* b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += double(a[i]) * double(b[i]);
    return s;
}

}  // namespace

class TestCpuTwins : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        qInfo("CPU kernels on this machine: %s (AVX-512 twins %s)", cpu::detail::isa_name(Isa::Auto),
              cpu::detail::avx512_available() ? "tested" : "not available here: skipped");
        if (!cpu::detail::avx2_available()) QSKIP("no AVX2 + FMA on this CPU: only the scalar twins run here");
    }

    void dot_and_gemv_data() {
        QTest::addColumn<qint64>("rows");
        QTest::addColumn<qint64>("cols");
        for (qint64 rows : {1, 3, 4, 5, 9})
            for (qint64 cols : {1, 7, 8, 15, 16, 17, 31, 33, 100, 1027})
                QTest::newRow(qPrintable(QString("%1x%2").arg(rows).arg(cols))) << rows << cols;
    }
    void dot_and_gemv() {
        QFETCH(qint64, rows);
        QFETCH(qint64, cols);
        const auto w = random_vector(static_cast<size_t>(rows * cols), 1);
        const auto wb = to_bf16(w);
        const auto x = random_vector(static_cast<size_t>(cols), 2);
        const auto y0 = random_vector(static_cast<size_t>(rows), 3);

        const float d_portable = cpu::detail::dot_f32(w.data(), x.data(), cols, Isa::Portable);
        const float d_avx2 = cpu::detail::dot_f32(w.data(), x.data(), cols, Isa::Avx2);
        QCOMPARE(std::memcmp(&d_portable, &d_avx2, 4), 0);
        const double exact = dot_double(w.data(), x.data(), cols);
        QVERIFY2(std::abs(d_avx2 - exact) <= 1e-6 * (1.0 + double(cols)),
                 qPrintable(QString("dot %1 vs %2").arg(d_avx2).arg(exact)));

        for (bool accumulate : {false, true}) {
            std::vector<float> a = y0, b = y0, c = y0, d = y0;
            cpu::detail::gemv_f32(w.data(), cols, rows, cols, x.data(), a.data(), accumulate, Isa::Portable);
            cpu::detail::gemv_f32(w.data(), cols, rows, cols, x.data(), b.data(), accumulate, Isa::Avx2);
            QVERIFY(same_bits(a, b));
            cpu::detail::gemv_bf16(wb.data(), cols, rows, cols, x.data(), c.data(), accumulate, Isa::Portable);
            cpu::detail::gemv_bf16(wb.data(), cols, rows, cols, x.data(), d.data(), accumulate, Isa::Avx2);
            QVERIFY(same_bits(c, d));
            // Each row is the dot product of that row, in the same order.
            for (int64_t r = 0; r < rows; ++r) {
                const float dot = cpu::detail::dot_f32(w.data() + r * cols, x.data(), cols, Isa::Portable);
                const float want = accumulate ? y0[static_cast<size_t>(r)] + dot : dot;
                QCOMPARE(b[static_cast<size_t>(r)], want);
            }
        }
        std::vector<float> wide_p(w.size()), wide_a(w.size());
        cpu::detail::bf16_to_f32(wb.data(), wide_p.data(), rows * cols, Isa::Portable);
        cpu::detail::bf16_to_f32(wb.data(), wide_a.data(), rows * cols, Isa::Avx2);
        QVERIFY(same_bits(wide_p, wide_a));
        for (size_t i = 0; i < wb.size(); ++i) QCOMPARE(wide_a[i], num::bf16_to_float(wb[i]));
    }

    void gemm_tile_data() {
        QTest::addColumn<qint64>("rows");
        QTest::addColumn<qint64>("T");
        QTest::addColumn<qint64>("cols");
        for (qint64 rows : {1, 2, 3, 5, 16})
            for (qint64 T : {1, 2, 4, 7, 13, 25})
                for (qint64 cols : {7, 24, 257, 530})
                    QTest::newRow(qPrintable(QString("%1x%2x%3").arg(rows).arg(T).arg(cols))) << rows << T << cols;
    }
    void gemm_tile() {
        QFETCH(qint64, rows);
        QFETCH(qint64, T);
        QFETCH(qint64, cols);
        const int64_t ldw = cols + 3, ldx = cols + 5, ldy = rows + 2;
        const auto w = random_vector(static_cast<size_t>(rows * ldw), 4);
        const auto X = random_vector(static_cast<size_t>(T * ldx), 5);
        const auto y0 = random_vector(static_cast<size_t>(T * ldy), 6);
        for (bool accumulate : {false, true}) {
            std::vector<float> a = y0, b = y0;
            cpu::detail::gemm_tile(w.data(), ldw, rows, cols, X.data(), T, ldx, a.data(), ldy, accumulate,
                                   Isa::Portable);
            cpu::detail::gemm_tile(w.data(), ldw, rows, cols, X.data(), T, ldx, b.data(), ldy, accumulate, Isa::Avx2);
            QVERIFY(same_bits(a, b));
            // The AVX-512 twin where the CPU has it (else Avx512 resolves to AVX2 again).
            std::vector<float> c = y0;
            cpu::detail::gemm_tile(w.data(), ldw, rows, cols, X.data(), T, ldx, c.data(), ldy, accumulate, Isa::Avx512);
            QVERIFY(same_bits(a, c));
            // Every output is the one-token product of its row: prefill == decode.
            for (int64_t t = 0; t < T; ++t)
                for (int64_t r = 0; r < rows; ++r) {
                    float one = y0[static_cast<size_t>(t * ldy + r)];
                    cpu::detail::gemv_f32(w.data() + r * ldw, ldw, 1, cols, X.data() + t * ldx, &one, accumulate,
                                          Isa::Avx2);
                    QCOMPARE(b[static_cast<size_t>(t * ldy + r)], one);
                }
            // Padding between rows is never written.
            for (int64_t t = 0; t < T; ++t)
                for (int64_t r = rows; r < ldy; ++r)
                    QCOMPARE(b[static_cast<size_t>(t * ldy + r)], y0[static_cast<size_t>(t * ldy + r)]);
        }
    }

    // The vector math: both twins give the same bits, and both are close to libm in double.
    void vector_math() {
        std::vector<float> v;
        for (float x = -100.0f; x <= 100.0f; x += 0.01171875f) v.push_back(x);
        for (float x : {-1e-30f, 1e-30f, -0.0f, 0.0f, 20.0f, std::nextafter(20.0f, 30.0f), -87.4f, 88.1f, 1e30f, -1e30f,
                        std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()})
            v.push_back(x);
        while (v.size() % 8) v.push_back(0.5f);
        std::vector<float> exp_v(v.size()), sp_v(v.size()), silu_v(v.size());
        for (size_t i = 0; i < v.size(); i += 8) {
            alignas(32) float in[8], e[8], s[8], g[8];
            std::memcpy(in, &v[i], sizeof in);
#if FM_VMATH_X86
            test_vector_lanes(in, e, s, g);
#endif
            std::memcpy(&exp_v[i], e, sizeof e);
            std::memcpy(&sp_v[i], s, sizeof s);
            std::memcpy(&silu_v[i], g, sizeof g);
        }
        double worst_exp = 0, worst_sp = 0, worst_silu = 0;
        for (size_t i = 0; i < v.size(); ++i) {
            const float x = v[i];
            const float e = cpu::vmath::exp(x), s = cpu::vmath::softplus(x), g = cpu::vmath::silu(x);
            QVERIFY2(std::memcmp(&e, &exp_v[i], 4) == 0, qPrintable(QString("exp(%1)").arg(double(x))));
            QVERIFY2(std::memcmp(&s, &sp_v[i], 4) == 0, qPrintable(QString("softplus(%1)").arg(double(x))));
            QVERIFY2(std::memcmp(&g, &silu_v[i], 4) == 0, qPrintable(QString("silu(%1)").arg(double(x))));
            if (!std::isfinite(x)) continue;
            const double xd = x;
            if (xd > -87.0 && xd < 88.0) worst_exp = std::max(worst_exp, std::abs(e - std::exp(xd)) / std::exp(xd));
            const double sp = xd > 20.0 ? xd : std::log1p(std::exp(xd));
            if (xd > -87.0) worst_sp = std::max(worst_sp, std::abs(s - sp) / sp);
            const double si = xd / (1.0 + std::exp(-xd));
            if (std::abs(xd) > 1e-20 && xd > -80.0) worst_silu = std::max(worst_silu, std::abs(g - si) / std::abs(si));
        }
        qInfo("largest relative error against libm in double: exp %.2e, softplus %.2e, silu %.2e", worst_exp, worst_sp,
              worst_silu);
        QVERIFY(worst_exp < 4e-7);
        QVERIFY(worst_sp < 6e-7);
        QVERIFY(worst_silu < 6e-7);
        // The documented edges: clamped, never infinite, and PyTorch's threshold.
        QCOMPARE(cpu::vmath::softplus(25.0f), 25.0f);
        QVERIFY(std::isfinite(cpu::vmath::exp(1000.0f)));
        QVERIFY(cpu::vmath::exp(-1000.0f) <= std::numeric_limits<float>::min());
        QCOMPARE(cpu::vmath::silu(0.0f), 0.0f);
    }

    void conv_and_scan_data() {
        QTest::addColumn<qint64>("I");
        QTest::addColumn<qint64>("N");
        QTest::addColumn<qint64>("T");
        QTest::addColumn<qint64>("K");
        for (qint64 I : {1, 7, 8, 9, 19})
            for (qint64 N : {1, 5, 8, 16, 19})
                for (qint64 T : {1, 3, 11})
                    QTest::newRow(qPrintable(QString("I%1 N%2 T%3").arg(I).arg(N).arg(T))) << I << N << T << qint64(4);
        QTest::newRow("K1") << qint64(9) << qint64(16) << qint64(3) << qint64(1);
        QTest::newRow("K8") << qint64(9) << qint64(16) << qint64(3) << qint64(8);
        QTest::newRow("K9 (scalar only)") << qint64(9) << qint64(16) << qint64(3) << qint64(9);
    }
    void conv_and_scan() {
        QFETCH(qint64, I);
        QFETCH(qint64, N);
        QFETCH(qint64, T);
        QFETCH(qint64, K);
        // Conv, in place on [x | z] rows, as the backend calls it.
        const auto xz = random_vector(static_cast<size_t>(T * 2 * I), 7, -2.0f, 2.0f);
        const auto cw = random_vector(static_cast<size_t>(I * K), 8);
        const auto cb = random_vector(static_cast<size_t>(I), 9);
        const auto cs = random_vector(static_cast<size_t>(I * (K - 1)), 10);
        std::vector<float> xa = xz, xb = xz, sa = cs, sb = cs;
        cpu::detail::conv1d_chunk_isa({T, I, K, xa.data(), 2 * I, xa.data(), 2 * I, cw.data(), cb.data(), sa.data()},
                                      Isa::Portable);
        cpu::detail::conv1d_chunk_isa({T, I, K, xb.data(), 2 * I, xb.data(), 2 * I, cw.data(), cb.data(), sb.data()},
                                      Isa::Avx2);
        QVERIFY(same_bits(xa, xb));
        QVERIFY(same_bits(sa, sb));

        // Scan, with dt raw (+ bias, softplus inside) and with dt final (decode's form).
        const auto dt = random_vector(static_cast<size_t>(T * I), 11, -5.0f, 2.0f);
        const auto bc = random_vector(static_cast<size_t>(T * 2 * N), 12, -2.0f, 2.0f);
        const auto A = random_vector(static_cast<size_t>(I * N), 13, -3.0f, -0.05f);
        const auto D = random_vector(static_cast<size_t>(I), 14);
        const auto bias = random_vector(static_cast<size_t>(I), 15, -4.0f, 0.0f);
        const auto s0 = random_vector(static_cast<size_t>(I * N), 16);
        for (bool final_dt : {false, true})
            for (int threads : {1, 2, 3}) {
                ThreadPool pool(threads);
                std::vector<float> ya(static_cast<size_t>(T * I)), yb = ya, sta = s0, stb = s0;
                auto params = [&](std::vector<float>& st, std::vector<float>& y) {
                    ScanParams p;
                    p.T = T;
                    p.I = I;
                    p.N = N;
                    p.x = xz.data();
                    p.ldx = 2 * I;
                    p.dt_raw = dt.data();
                    p.ldd = I;
                    p.B = bc.data();
                    p.C = bc.data() + N;
                    p.ldbc = 2 * N;
                    p.z = xz.data() + I;
                    p.ldz = 2 * I;
                    p.A = A.data();
                    p.D = D.data();
                    p.dt_bias = final_dt ? nullptr : bias.data();
                    p.state = st.data();
                    p.y = y.data();
                    p.ldy = I;
                    return p;
                };
                cpu::detail::selective_scan_isa(params(sta, ya), &pool, Isa::Portable);
                cpu::detail::selective_scan_isa(params(stb, yb), &pool, Isa::Avx2);
                QVERIFY(same_bits(ya, yb));
                QVERIFY(same_bits(sta, stb));
            }
    }

    // One token through matmul == the same token inside a chunk, for every dtype and thread count.
    void decode_equals_prefill_data() {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<qint64>("rows");
        QTest::addColumn<qint64>("cols");
        for (DType d : {DType::F32, DType::BF16, DType::F16})
            for (qint64 rows : {1, 5, 37})
                for (qint64 cols : {9, 64, 200})
                    QTest::newRow(qPrintable(QString("%1 %2x%3").arg(dtype_name(d)).arg(rows).arg(cols)))
                        << int(d) << rows << cols;
    }
    void decode_equals_prefill() {
        QFETCH(int, dtype);
        QFETCH(qint64, rows);
        QFETCH(qint64, cols);
        const auto f = random_vector(static_cast<size_t>(rows * cols), 17);
        std::vector<uint16_t> half(f.size());
        for (size_t i = 0; i < f.size(); ++i)
            half[i] = static_cast<DType>(dtype) == DType::F16 ? num::float_to_f16(f[i]) : num::float_to_bf16(f[i]);
        MatrixView W;
        W.dtype = static_cast<DType>(dtype);
        W.rows = rows;
        W.cols = cols;
        W.data = W.dtype == DType::F32 ? static_cast<const void*>(f.data()) : half.data();
        const int64_t T = 7;
        const auto X = random_vector(static_cast<size_t>(T * cols), 18);
        for (int threads : {1, 2, 3}) {
            ThreadPool pool(threads);
            std::vector<float> chunk(static_cast<size_t>(T * rows));
            cpu::matmul(W, X.data(), T, cols, chunk.data(), rows, false, &pool);
            for (int64_t t = 0; t < T; ++t) {
                std::vector<float> one(static_cast<size_t>(rows));
                cpu::matmul(W, X.data() + t * cols, 1, cols, one.data(), rows, false, &pool);
                QVERIFY2(std::memcmp(one.data(), chunk.data() + t * rows, one.size() * 4) == 0,
                         qPrintable(QString("threads %1, token %2").arg(threads).arg(t)));
            }
        }
    }

private:
#if FM_VMATH_X86
    __attribute__((target("avx2,fma"))) static void test_vector_lanes(const float* in, float* e, float* s, float* g) {
        const __m256 x = _mm256_load_ps(in);
        _mm256_store_ps(e, cpu::vmath::exp(x));
        _mm256_store_ps(s, cpu::vmath::softplus(x));
        _mm256_store_ps(g, cpu::vmath::silu(x));
    }
#endif
};

QTEST_GUILESS_MAIN(TestCpuTwins)
#include "test_cpu_twins.moc"
