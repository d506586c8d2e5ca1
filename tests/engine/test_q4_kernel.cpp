// The CPU 4-bit kernels (kernels/cpu/q4.h) against a plain dequantize-then-dot reference in
// double precision: decode (T = 1) and prefill (T > 1), aligned shapes that take the fused AVX2
// path and odd ones that take the general path, on both dispatch paths when the CPU has AVX2.
// Also: bit-identical results across thread counts and between decode and prefill, and the
// block quantizer (error below absmax scaling, partial blocks, zeros, non-finite input).

#include <QtTest>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "inference/checkpoint/quant4.h"
#include "kernels/cpu/q4.h"
#include "kernels/cpu/thread_pool.h"

using namespace fm;
using fm::cpu::Q4Isa;

Q_DECLARE_METATYPE(fm::cpu::Q4Isa)

// A 4-bit matrix's shape: rows x cols, in blocks of `block` weights.
struct Q4Shape {
    int rows, cols, block;
    QString name() const { return QString("%1x%2/b%3").arg(rows).arg(cols).arg(block); }
};
Q_DECLARE_METATYPE(Q4Shape)

namespace {

// The code books under test: bitsandbytes' nf4 (sorted) and fp4 (unsorted, with a -0).
const auto& kNf4 = kNf4Codebook;
const auto& kFp4 = kFp4Codebook;

// A random Q4 matrix that owns its buffers.
struct RandomQ4 {
    std::vector<uint8_t> codes;
    std::vector<float> scales;
    float codebook[16];
    MatrixView view;

    RandomQ4(int64_t rows, int64_t cols, int32_t block, const float* book, uint32_t seed) {
        std::mt19937 rng(seed);
        const int64_t n = rows * cols;
        codes.resize(static_cast<size_t>((n + 1) / 2));
        for (auto& c : codes) c = static_cast<uint8_t>(rng() & 0xff);
        scales.resize(static_cast<size_t>((n + block - 1) / block));
        std::uniform_real_distribution<float> u(0.01f, 0.2f);
        for (auto& s : scales) s = u(rng);
        std::copy(book, book + 16, codebook);
        view.dtype = DType::Q4;
        view.rows = rows;
        view.cols = cols;
        view.q4 = Q4Data{codes.data(), scales.data(), codebook, block};
    }
};

std::vector<float> random_floats(int64_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> g;
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = g(rng);
    return v;
}

// The element formula of Q4Data, written independently of the kernels.
double reference_weight(const MatrixView& W, int64_t r, int64_t c) {
    const int64_t i = r * W.cols + c;
    const uint8_t byte = W.q4.codes[i / 2];
    const int code = i % 2 == 0 ? byte >> 4 : byte & 0x0f;
    return double(W.q4.codebook[code]) * double(W.q4.scales[i / W.q4.block]);
}

// The same, rounded as the kernels round it: one fp32 product.
float reference_weight_f32(const MatrixView& W, int64_t r, int64_t c) {
    const int64_t i = r * W.cols + c;
    const uint8_t byte = W.q4.codes[i / 2];
    const int code = i % 2 == 0 ? byte >> 4 : byte & 0x0f;
    return W.q4.codebook[code] * W.q4.scales[i / W.q4.block];
}

}  // namespace

// The twins this CPU can run: the portable one always, AVX2 and AVX-512 where present.
std::vector<Q4Isa> available_isas() {
    std::vector<Q4Isa> isas{Q4Isa::Portable};
    if (cpu::detail::avx2_available()) isas.push_back(Q4Isa::Avx2);
    if (cpu::detail::avx512_available()) isas.push_back(Q4Isa::Avx512);
    return isas;
}

class TestQ4Kernel : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        qInfo("4-bit kernel path on this CPU: %s (AVX2+FMA %s)", cpu::q4_isa_name(),
              cpu::q4_avx2_available() ? "available" : "not available");
    }

    void matmul_matches_reference_data() {
        QTest::addColumn<Q4Shape>("shape");
        QTest::addColumn<int>("T");
        QTest::addColumn<Q4Isa>("isa");
        QTest::addColumn<bool>("fp4");
        const std::pair<Q4Shape, const char*> shapes[] = {
            {{1, 64, 64}, "single block"},
            {{7, 128, 64}, "aligned"},
            {{33, 320, 64}, "aligned, odd rows"},
            {{5, 72, 64}, "blocks straddle rows"},
            {{3, 7, 64}, "odd cols"},
            {{9, 130, 32}, "cols not a multiple of block"},
            {{6, 5, 4}, "tiny blocks, odd cols"},
            {{11, 200, 100}, "block not a multiple of 16"},
            {{4, 48, 16}, "block 16"},
            {{10, 4, 64}, "dt_proj-like: 4 columns"},
            {{36, 128, 64}, "x_proj-like"},
            {{19, 1024, 64}, "wide: several column panels"},
            {{3, 1100, 50}, "wide, general path, odd tail"},
        };
        const std::vector<Q4Isa> isas = available_isas();
        for (const auto& [shape, what] : shapes)
            for (int T : {1, 3, 8, 29})
                for (Q4Isa isa : isas)
                    for (bool fp4 : {false, true}) {
                        if (fp4 && T != 3) continue;
                        const QString name = QString("%1/T%2/%3%4 (%5)")
                                                 .arg(shape.name())
                                                 .arg(T)
                                                 .arg(cpu::detail::isa_name(isa))
                                                 .arg(fp4 ? "/fp4" : "")
                                                 .arg(what);
                        QTest::newRow(qPrintable(name)) << shape << T << isa << fp4;
                    }
    }
    void matmul_matches_reference() {
        QFETCH(Q4Shape, shape);
        QFETCH(int, T);
        QFETCH(Q4Isa, isa);
        QFETCH(bool, fp4);
        const auto [rows, cols, block] = shape;
        RandomQ4 w(rows, cols, block, fp4 ? kFp4 : kNf4, static_cast<uint32_t>(rows * 1000 + cols + block));
        // X rows at a stride larger than cols, Y rows at a stride larger than rows.
        const int64_t ldx = cols + 3, ldy = rows + 2;
        auto X = random_floats(T * ldx, 7);
        std::vector<float> Y(static_cast<size_t>(T * ldy), -99.0f);
        ThreadPool pool(2);
        cpu::matmul_q4(w.view, X.data(), T, ldx, Y.data(), ldy, &pool, isa);
        double worst = 0;
        for (int t = 0; t < T; ++t)
            for (int r = 0; r < rows; ++r) {
                double ref = 0, mag = 0;
                for (int c = 0; c < cols; ++c) {
                    const double p = reference_weight(w.view, r, c) * X[static_cast<size_t>(t * ldx + c)];
                    ref += p;
                    mag += std::abs(p);
                }
                const double got = Y[static_cast<size_t>(t * ldy + r)];
                const double err = std::abs(got - ref) / (mag + 1e-30);
                worst = std::max(worst, err);
                if (err > 1e-5)
                    QFAIL(qPrintable(QString("t=%1 r=%2: got %3, reference %4").arg(t).arg(r).arg(got).arg(ref)));
            }
        // Padding between rows of Y is untouched.
        for (int t = 0; t < T; ++t)
            for (int64_t r = rows; r < ldy; ++r) QCOMPARE(Y[static_cast<size_t>(t * ldy + r)], -99.0f);
        QVERIFY(worst < 1e-5);
    }

    // The twins give the same bits: decode and prefill, aligned and odd shapes (dot.h's order).
    void twins_give_the_same_bits_data() {
        QTest::addColumn<Q4Shape>("shape");
        for (Q4Shape s : {Q4Shape{1, 64, 64},
                          {5, 128, 64},
                          {13, 1024, 64},
                          {7, 96, 32},
                          {9, 130, 32},
                          {3, 7, 64},
                          {11, 200, 100},
                          {4, 48, 16}})
            QTest::newRow(qPrintable(s.name())) << s;
    }
    void twins_give_the_same_bits() {
        QFETCH(Q4Shape, shape);
        const auto [rows, cols, block] = shape;
        const auto isas = available_isas();
        if (isas.size() < 2) QSKIP("only the portable twin runs on this CPU");
        RandomQ4 w(rows, cols, block, kNf4, static_cast<uint32_t>(rows + cols));
        ThreadPool pool(2);
        for (int T : {1, 2, 7}) {
            const auto X = random_floats(T * cols, 9);
            std::vector<float> first;
            for (Q4Isa isa : isas) {
                std::vector<float> Y(static_cast<size_t>(T * rows));
                cpu::matmul_q4(w.view, X.data(), T, cols, Y.data(), rows, &pool, isa);
                if (first.empty())
                    first = Y;
                else
                    QVERIFY2(
                        std::memcmp(first.data(), Y.data(), Y.size() * 4) == 0,
                        qPrintable(QString("T %1: %2 differs from portable").arg(T).arg(cpu::detail::isa_name(isa))));
            }
        }
    }

    // Same bits whatever the thread count, and decode (one token per call) equals prefill.
    void results_do_not_depend_on_threads_or_T_data() {
        QTest::addColumn<Q4Shape>("shape");
        QTest::addColumn<Q4Isa>("isa");
        const std::vector<Q4Isa> isas = available_isas();
        for (Q4Isa isa : isas) {
            const char* name = cpu::detail::isa_name(isa);
            QTest::newRow(qPrintable(QString("aligned/%1").arg(name))) << Q4Shape{203, 256, 64} << isa;
            QTest::newRow(qPrintable(QString("straddling/%1").arg(name))) << Q4Shape{97, 72, 64} << isa;
            QTest::newRow(qPrintable(QString("odd/%1").arg(name))) << Q4Shape{61, 33, 64} << isa;
        }
    }
    void results_do_not_depend_on_threads_or_T() {
        QFETCH(Q4Shape, shape);
        QFETCH(Q4Isa, isa);
        const auto [rows, cols, block] = shape;
        RandomQ4 w(rows, cols, block, kNf4, 99);
        const int T = 29;  // more than one block of tokens, with a remainder
        auto X = random_floats(T * cols, 3);
        std::vector<float> serial(static_cast<size_t>(T * rows));
        cpu::matmul_q4(w.view, X.data(), T, cols, serial.data(), rows, nullptr, isa);
        for (int threads : {1, 2, 3, 5}) {
            ThreadPool pool(threads);
            std::vector<float> y(serial.size());
            cpu::matmul_q4(w.view, X.data(), T, cols, y.data(), rows, &pool, isa);
            QVERIFY2(std::memcmp(y.data(), serial.data(), y.size() * 4) == 0,
                     qPrintable(QString("threads %1").arg(threads)));
            for (int t = 0; t < T; ++t) {
                std::vector<float> one(static_cast<size_t>(rows));
                cpu::matmul_q4(w.view, X.data() + t * cols, 1, cols, one.data(), rows, &pool, isa);
                QVERIFY2(std::memcmp(one.data(), serial.data() + t * rows, one.size() * 4) == 0,
                         qPrintable(QString("decode of token %1 differs from prefill").arg(t)));
            }
        }
    }

    void dequantize_row_matches_formula() {
        RandomQ4 w(5, 72, 64, kFp4, 5);
        std::vector<float> row(72);
        for (int r = 0; r < 5; ++r) {
            cpu::dequantize_q4_row(w.view, r, row.data());
            for (int c = 0; c < 72; ++c) QCOMPARE(row[static_cast<size_t>(c)], reference_weight_f32(w.view, r, c));
        }
    }

    // The quantizer's scale search beats plain absmax scaling on normal weights, on both paths,
    // and the codes/scales it writes decode to the weights it measured.
    void quantizer_beats_absmax_data() {
        QTest::addColumn<Q4Isa>("isa");
        QTest::addColumn<int>("n");
        const std::vector<Q4Isa> isas = available_isas();
        for (Q4Isa isa : isas)
            for (int n : {64 * 2000, 64 * 100 + 40, 64 * 100 + 7}) {
                QTest::newRow(qPrintable(QString("%1/n%2").arg(cpu::detail::isa_name(isa)).arg(n))) << isa << n;
            }
    }
    void quantizer_beats_absmax() {
        QFETCH(Q4Isa, isa);
        QFETCH(int, n);
        const int32_t block = 64;
        auto w = random_floats(n, 11);
        std::vector<uint8_t> codes(static_cast<size_t>((n + 1) / 2), 0xee);
        std::vector<float> scales(static_cast<size_t>((n + block - 1) / block), -1.0f);
        QCOMPARE(cpu::quantize_q4_blocks(w.data(), n, block, kNf4, codes.data(), scales.data(), isa), int64_t{-1});
        MatrixView v;
        v.dtype = DType::Q4;
        v.rows = 1;
        v.cols = n;
        v.q4 = Q4Data{codes.data(), scales.data(), kNf4, block};
        double err = 0, err_absmax = 0, energy = 0;
        for (int i = 0; i < n; ++i) {
            const double d = reference_weight(v, 0, i) - w[static_cast<size_t>(i)];
            err += d * d;
            energy += double(w[static_cast<size_t>(i)]) * w[static_cast<size_t>(i)];
        }
        // Plain absmax + nearest NF4 level, as bitsandbytes quantizes.
        for (int b = 0; b * block < n; ++b) {
            const int len = std::min(block, n - b * block);
            float m = 0;
            for (int i = 0; i < len; ++i) m = std::max(m, std::abs(w[static_cast<size_t>(b * block + i)]));
            for (int i = 0; i < len; ++i) {
                const float x = w[static_cast<size_t>(b * block + i)];
                double best = 1e30;
                for (float q : kNf4) best = std::min(best, std::abs(double(q) * m - x));
                err_absmax += best * best;
            }
        }
        qInfo("relative MSE: scale search %.5f, absmax %.5f (%.1f %% lower)", err / energy, err_absmax / energy,
              100.0 * (1.0 - err / err_absmax));
        QVERIFY(err < 0.9 * err_absmax);
        if (n % 2) QCOMPARE(codes.back() & 0x0f, 0);  // the unused low nibble of the last byte
    }

    void quantizer_edge_cases() {
        const int32_t block = 64;
        std::vector<float> w(3 * 64, 0.0f);
        for (int i = 64; i < 128; ++i) w[static_cast<size_t>(i)] = i % 3 == 0 ? -2.5f : 0.0f;  // one level only
        for (int i = 128; i < 192; ++i) w[static_cast<size_t>(i)] = 0.01f * float(i - 160);
        for (Q4Isa isa : {Q4Isa::Portable, Q4Isa::Avx2}) {
            std::vector<uint8_t> codes(96);
            std::vector<float> scales(3);
            QCOMPARE(cpu::quantize_q4_blocks(w.data(), 192, block, kNf4, codes.data(), scales.data(), isa),
                     int64_t{-1});
            MatrixView v;
            v.dtype = DType::Q4;
            v.rows = 1;
            v.cols = 192;
            v.q4 = Q4Data{codes.data(), scales.data(), kNf4, block};
            QCOMPARE(scales[0], 0.0f);  // all zeros decode to exact zeros
            for (int i = 0; i < 128; ++i) QCOMPARE(reference_weight(v, 0, i), double(w[static_cast<size_t>(i)]));
            for (int i = 128; i < 192; ++i)
                QVERIFY(std::abs(reference_weight(v, 0, i) - w[static_cast<size_t>(i)]) < 0.05);

            // Non-finite input: reported by index, and the block is written as zeros.
            auto bad = w;
            bad[150] = std::numeric_limits<float>::quiet_NaN();
            bad[170] = std::numeric_limits<float>::infinity();
            QCOMPARE(cpu::quantize_q4_blocks(bad.data(), 192, block, kNf4, codes.data(), scales.data(), isa),
                     int64_t{150});
            QCOMPARE(scales[2], 0.0f);
        }
    }
};

QTEST_GUILESS_MAIN(TestQ4Kernel)
#include "test_q4_kernel.moc"
