// Every CUDA kernel (kernels/cuda/ops.h) against its CPU twin of the same name (kernels/cpu/ops.h),
// at odd sizes (rows=7, cols=33: the scalar paths and partial vectors) and at the 7B shapes
// (in_proj 16384x4096, x_proj 288x8192, dt_proj 8192x256, out_proj 4096x8192, lm_head
// 65024x4096), for every weight dtype.

#include <cublas_v2.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "kernels/cpu/ops.h"
#include "kernels/cuda/ops.h"
#include "tests/gpu/tools/device_util.h"
#include "tests/gpu/tools/gpu_checks.h"

namespace fm::gpucheck {
namespace {

const char* dname(DType d) {
    return dtype_name(d);
}
std::string shape(int64_t a, int64_t b) {
    return std::to_string(a) + "x" + std::to_string(b);
}
cuda::Exec exec() {
    return cuda::Exec{nullptr, false, 0};
}

// Tolerance for a dot product of n terms of size ~1/sqrt(n) each.
constexpr double kAtol = 2e-4, kRtol = 2e-4;

Outcome check_embedding(DType dt, int64_t V, int64_t H, int64_t T) {
    HostMatrix table = random_matrix(dt, V, H, 11);
    DevMatrix dtab = upload(table);
    Rng rng(5);
    std::vector<int32_t> ids(static_cast<size_t>(T));
    for (auto& id : ids) id = static_cast<int32_t>(rng.bits() % static_cast<uint32_t>(V));
    ids.back() = static_cast<int32_t>(V - 1);
    std::vector<float> ref(static_cast<size_t>(T * H));
    cpu::embedding(table.view, ids.data(), T, ref.data(), H);
    DevBuf<int32_t> dids(ids);
    DevBuf<float> out(static_cast<size_t>(T * H));
    ok(cuda::embedding(dtab.view, dids.get(), T, out.get(), H, exec()));
    return compare(out.download(), ref, 0.0, 0.0, "embedding");
}

Outcome check_rms_norm(int64_t T, int64_t n, bool weighted, int64_t pad) {
    Rng rng(7);
    const int64_t ldx = n + pad, ldo = n + 2 * pad;
    std::vector<float> x = rng.vec(static_cast<size_t>(T * ldx), -3.0f, 3.0f);
    std::vector<float> w = rng.vec(static_cast<size_t>(n), 0.5f, 1.5f);
    std::vector<float> ref(static_cast<size_t>(T * ldo), 0.0f);
    cpu::rms_norm(x.data(), ldx, weighted ? w.data() : nullptr, T, n, 1e-5f, ref.data(), ldo);
    DevBuf<float> dx(x), dw(w), dout(std::vector<float>(ref.size(), 0.0f));
    ok(cuda::rms_norm(dx.get(), ldx, weighted ? dw.get() : nullptr, T, n, 1e-5f, dout.get(), ldo, exec()));
    return compare(dout.download(), ref, 1e-5, 1e-5, "rms_norm");
}

Outcome check_bcdt_norm(int64_t T, int64_t R, int64_t N) {
    Rng rng(8);
    const int64_t ld = R + 2 * N + 3;
    std::vector<float> dbc = rng.vec(static_cast<size_t>(T * ld), -2.0f, 2.0f);
    std::vector<float> ref = dbc;
    cpu::bcdt_rms_norm(ref.data(), ld, T, R, N, 1e-6f);
    DevBuf<float> d(dbc);
    ok(cuda::bcdt_rms_norm(d.get(), ld, T, R, N, 1e-6f, exec()));
    return compare(d.download(), ref, 1e-5, 1e-5, "bcdt_rms_norm");
}

// gemv with each epilogue vs its twin cpu::gemv, which must equal cpu::matmul plus the
// epilogue written out here.
Outcome check_gemv(DType dt, int64_t rows, int64_t cols, int64_t T, cuda::Epilogue ep, int32_t block = 64) {
    HostMatrix W = random_matrix(dt, rows, cols, 21 + static_cast<uint64_t>(rows), block);
    DevMatrix dW = upload(W);
    Rng rng(3);
    const int64_t ldx = cols + (cols % 4 == 0 ? 4 : 1), ldy = rows + 3;
    std::vector<float> x = rng.vec(static_cast<size_t>(T * ldx), -1.0f, 1.0f);
    std::vector<float> y0 = rng.vec(static_cast<size_t>(T * ldy), -1.0f, 1.0f);
    std::vector<float> bias = rng.vec(static_cast<size_t>(rows), -4.0f, 2.0f);
    std::vector<float> composed = y0;
    std::vector<float> prod(static_cast<size_t>(T * ldy), 0.0f);
    cpu::matmul(W.view, x.data(), T, ldx, prod.data(), ldy, false, nullptr);
    for (int64_t t = 0; t < T; ++t)
        for (int64_t r = 0; r < rows; ++r) {
            const size_t k = static_cast<size_t>(t * ldy + r);
            if (ep == cuda::Epilogue::Store)
                composed[k] = prod[k];
            else if (ep == cuda::Epilogue::Accumulate)
                composed[k] += prod[k];
            else
                composed[k] = num::softplus(prod[k] + bias[static_cast<size_t>(r)]);
        }
    std::vector<float> ref = y0;
    cpu::gemv(W.view, x.data(), ldx, T, ref.data(), ldy, ep, bias.data(), nullptr);
    if (ref != composed) return Outcome{false, 0.0, "cpu::gemv disagrees with matmul + its epilogue"};
    DevBuf<float> dx(x), dy(y0), db(bias);
    ok(cuda::gemv(dW.view, dx.get(), ldx, T, dy.get(), ldy, ep, db.get(), exec()));
    return compare(dy.download(), ref, kAtol, kRtol, "gemv");
}

Outcome check_gemv_conv(DType dt, int64_t I, int64_t H, int64_t K, bool norm) {
    HostMatrix W = random_matrix(dt, 2 * I, H, 31);
    DevMatrix dW = upload(W);
    Rng rng(4);
    std::vector<float> h = rng.vec(static_cast<size_t>(H), -3.0f, 3.0f),
                       nw = rng.vec(static_cast<size_t>(H), 0.5f, 1.5f);
    std::vector<float> cw = rng.vec(static_cast<size_t>(I * K), -0.5f, 0.5f),
                       cb = rng.vec(static_cast<size_t>(I), -0.5f, 0.5f);
    std::vector<float> st = rng.vec(static_cast<size_t>(I * (K - 1)), -1.0f, 1.0f);
    std::vector<float> xz(static_cast<size_t>(2 * I)), ref_st = st;
    cpu::gemv_conv(W.view, h.data(), norm ? nw.data() : nullptr, 1e-5f, xz.data(), I, K, cw.data(), cb.data(),
                   ref_st.data(), nullptr);
    DevBuf<float> dh(h), dnw(nw), dcw(cw), dcb(cb), dst(st), dxz(static_cast<size_t>(2 * I));
    ok(cuda::gemv_conv(dW.view, dh.get(), norm ? dnw.get() : nullptr, 1e-5f, dxz.get(), I, K, dcw.get(), dcb.get(),
                       dst.get(), exec()));
    Outcome o = compare(dxz.download(), xz, kAtol, kRtol, "gemv_conv output");
    if (!o.pass) return o;
    return compare(dst.download(), ref_st, kAtol, kRtol, "gemv_conv state");
}

Outcome check_rms_gemv(DType dt, int64_t rows, int64_t cols) {
    HostMatrix W = random_matrix(dt, rows, cols, 32);
    DevMatrix dW = upload(W);
    Rng rng(14);
    std::vector<float> h = rng.vec(static_cast<size_t>(cols), -5.0f, 5.0f),
                       nw = rng.vec(static_cast<size_t>(cols), 0.5f, 1.5f);
    std::vector<float> ref(static_cast<size_t>(rows));
    cpu::rms_gemv(W.view, h.data(), nw.data(), 1e-5f, ref.data(), cuda::Epilogue::Store, nullptr, nullptr);
    DevBuf<float> dh(h), dnw(nw), y(static_cast<size_t>(rows));
    ok(cuda::rms_gemv(dW.view, dh.get(), dnw.get(), 1e-5f, y.get(), cuda::Epilogue::Store, nullptr, exec()));
    if (dh.download() != h) return Outcome{false, 0.0, "rms_gemv modified its input"};
    return compare(y.download(), ref, kAtol, kRtol, "rms_gemv");
}

Outcome check_conv_step(int64_t I, int64_t K) {
    Rng rng(9);
    std::vector<float> x = rng.vec(static_cast<size_t>(I), -2.0f, 2.0f);
    std::vector<float> w = rng.vec(static_cast<size_t>(I * K), -1.0f, 1.0f),
                       b = rng.vec(static_cast<size_t>(I), -1.0f, 1.0f);
    std::vector<float> st = rng.vec(static_cast<size_t>(I * (K - 1)), -2.0f, 2.0f);
    std::vector<float> rx = x, rst = st;
    cpu::conv1d_step(rx.data(), I, K, w.data(), b.data(), rst.data());
    DevBuf<float> dx(x), dw(w), db(b), dst(st);
    ok(cuda::conv1d_step(dx.get(), I, K, dw.get(), db.get(), dst.get(), exec()));
    Outcome o = compare(dx.download(), rx, 1e-5, 1e-5, "conv1d_step output");
    if (!o.pass) return o;
    return compare(dst.download(), rst, 0.0, 0.0, "conv1d_step state");
}

Outcome check_conv_chunk(int64_t T, int64_t I, int64_t K) {
    Rng rng(10);
    const int64_t ldx = 2 * I, ldo = I + 1;
    std::vector<float> x = rng.vec(static_cast<size_t>(T * ldx), -2.0f, 2.0f);
    std::vector<float> w = rng.vec(static_cast<size_t>(I * K), -1.0f, 1.0f),
                       b = rng.vec(static_cast<size_t>(I), -1.0f, 1.0f);
    std::vector<float> st = rng.vec(static_cast<size_t>(I * (K - 1)), -2.0f, 2.0f);
    std::vector<float> rst = st;
    std::vector<float> ref(static_cast<size_t>(T * ldo), 0.0f);
    ConvParams p;
    p.T = T;
    p.I = I;
    p.K = K;
    p.x = x.data();
    p.ldx = ldx;
    p.out = ref.data();
    p.ldo = ldo;
    p.weight = w.data();
    p.bias = b.data();
    p.state = rst.data();
    cpu::conv1d_chunk(p);
    DevBuf<float> dx(x), dw(w), db(b), dst(st), dout(std::vector<float>(ref.size(), 0.0f));
    p.x = dx.get();
    p.out = dout.get();
    p.weight = dw.get();
    p.bias = db.get();
    p.state = dst.get();
    ok(cuda::conv1d_chunk(p, exec()));
    Outcome o = compare(dout.download(), ref, 1e-5, 1e-5, "conv1d_chunk output");
    if (!o.pass) return o;
    if (dx.download() != x) return Outcome{false, 0.0, "conv1d_chunk modified its input"};
    return compare(dst.download(), rst, 0.0, 0.0, "conv1d_chunk state");
}

struct ScanData {
    std::vector<float> x, dt, dbc, z, A, D, bias, state;
    int64_t ldx, ldd, ldbc, ldz;
};

// The scan's parameters over the given buffers (host or device), y [T, ldy].
ScanParams scan_params(const ScanData& s, int64_t T, int64_t I, int64_t N, const float* x, const float* dt,
                       const float* dbc, const float* z, const float* A, const float* D, const float* bias,
                       float* state, float* y, int64_t ldy) {
    return {.T = T,
            .I = I,
            .N = N,
            .x = x,
            .ldx = s.ldx,
            .dt_raw = dt,
            .ldd = s.ldd,
            .B = dbc,
            .C = dbc + N,
            .ldbc = s.ldbc,
            .z = z,
            .ldz = s.ldz,
            .A = A,
            .D = D,
            .dt_bias = bias,
            .state = state,
            .y = y,
            .ldy = ldy};
}

ScanData scan_data(int64_t T, int64_t I, int64_t N, uint64_t seed) {
    Rng rng(seed);
    ScanData s;
    s.ldx = I + 1;
    s.ldd = I;
    s.ldbc = 2 * N + 5;
    s.ldz = 2 * I;
    s.x = rng.vec(static_cast<size_t>(T * s.ldx), -2.0f, 2.0f);
    s.dt = rng.vec(static_cast<size_t>(T * s.ldd), -3.0f, 1.0f);
    s.dbc = rng.vec(static_cast<size_t>(T * s.ldbc), -1.5f, 1.5f);
    s.z = rng.vec(static_cast<size_t>(T * s.ldz), -3.0f, 3.0f);
    s.A.resize(static_cast<size_t>(I * N));
    for (int64_t i = 0; i < I; ++i)
        for (int64_t n = 0; n < N; ++n)
            s.A[static_cast<size_t>(i * N + n)] = -static_cast<float>(n + 1) * rng.uniform(0.5f, 1.5f);
    s.D = rng.vec(static_cast<size_t>(I), 0.5f, 1.5f);
    s.bias = rng.vec(static_cast<size_t>(I), -4.0f, -1.0f);
    s.state = rng.vec(static_cast<size_t>(I * N), -1.0f, 1.0f);
    return s;
}

Outcome check_scan(int64_t T, int64_t I, int64_t N) {
    ScanData s = scan_data(T, I, N, 12 + static_cast<uint64_t>(T));
    const int64_t ldy = I + 2;
    std::vector<float> ref(static_cast<size_t>(T * ldy), 0.0f), rst = s.state;
    cpu::selective_scan(scan_params(s, T, I, N, s.x.data(), s.dt.data(), s.dbc.data(), s.z.data(), s.A.data(),
                                    s.D.data(), s.bias.data(), rst.data(), ref.data(), ldy),
                        nullptr);
    DevBuf<float> x(s.x), dt(s.dt), dbc(s.dbc), z(s.z), A(s.A), D(s.D), b(s.bias), st(s.state);
    DevBuf<float> y(std::vector<float>(ref.size(), 0.0f));
    ok(cuda::selective_scan(scan_params(s, T, I, N, x.get(), dt.get(), dbc.get(), z.get(), A.get(), D.get(), b.get(),
                                        st.get(), y.get(), ldy),
                            exec()));
    Outcome o = compare(y.download(), ref, 1e-4, 1e-4, "selective_scan y");
    if (!o.pass) return o;
    return compare(st.download(), rst, 1e-4, 1e-4, "selective_scan state");
}

// ssm_step with the raw dt (+ bias, softplus inside) vs cpu::selective_scan with T = 1, and with
// a final dt vs cpu::ssm_step.
Outcome check_ssm_step(int64_t I, int64_t N, bool raw_dt) {
    ScanData s = scan_data(1, I, N, 40);
    std::vector<float> ref(static_cast<size_t>(I)), rst = s.state;
    std::vector<float> dt_final(static_cast<size_t>(I));
    for (int64_t i = 0; i < I; ++i)
        dt_final[static_cast<size_t>(i)] = num::softplus(s.dt[static_cast<size_t>(i)] + s.bias[static_cast<size_t>(i)]);
    ScanStepParams p{I,
                     N,
                     s.x.data(),
                     raw_dt ? s.dt.data() : dt_final.data(),
                     raw_dt ? s.bias.data() : nullptr,
                     s.dbc.data(),
                     s.dbc.data() + N,
                     s.z.data(),
                     s.A.data(),
                     s.D.data(),
                     rst.data(),
                     ref.data()};
    cpu::ssm_step(p, nullptr);
    DevBuf<float> x(s.x), dt(raw_dt ? s.dt : dt_final), dbc(s.dbc), z(s.z), A(s.A), D(s.D), b(s.bias), st(s.state);
    DevBuf<float> y(static_cast<size_t>(I));
    ok(cuda::ssm_step({I, N, x.get(), dt.get(), raw_dt ? b.get() : nullptr, dbc.get(), dbc.get() + N, z.get(), A.get(),
                       D.get(), st.get(), y.get()},
                      exec()));
    Outcome o = compare(y.download(), ref, 1e-5, 1e-4, "ssm_step y");
    if (!o.pass) return o;
    return compare(st.download(), rst, 1e-5, 1e-4, "ssm_step state");
}

// The fused decode kernel vs its twin cpu::dt_ssm_step.
Outcome check_dt_ssm(DType dt, int64_t I, int64_t R, int64_t N, bool norms) {
    HostMatrix W = random_matrix(dt, I, R, 51);
    DevMatrix dW = upload(W);
    ScanData s = scan_data(1, I, N, 41);
    Rng rng(6);
    std::vector<float> dbc = rng.vec(static_cast<size_t>(R + 2 * N), -2.0f, 2.0f);
    std::vector<float> ref(static_cast<size_t>(I)), rst = s.state;
    DtScanStepParams p;
    p.dt_proj = W.view;
    p.dbc = dbc.data();
    p.R = R;
    p.norms = norms;
    p.eps = 1e-6f;
    p.step = {I,       N,          s.x.data(), nullptr,    s.bias.data(), nullptr,
              nullptr, s.z.data(), s.A.data(), s.D.data(), rst.data(),    ref.data()};
    cpu::dt_ssm_step(p, nullptr);
    DevBuf<float> ddbc(dbc), x(s.x), z(s.z), A(s.A), D(s.D), b(s.bias), st(s.state), y(static_cast<size_t>(I));
    p.dt_proj = dW.view;
    p.dbc = ddbc.get();
    p.step = {I, N, x.get(), nullptr, b.get(), nullptr, nullptr, z.get(), A.get(), D.get(), st.get(), y.get()};
    ok(cuda::dt_ssm_step(p, exec()));
    Outcome o = compare(y.download(), ref, 1e-4, 1e-3, "dt_ssm_step y");
    if (!o.pass) return o;
    if (ddbc.download() != dbc) return Outcome{false, 0.0, "dt_ssm_step modified dbc"};
    return compare(st.download(), rst, 1e-4, 1e-3, "dt_ssm_step state");
}

Outcome check_matmul(DType dt, int64_t rows, int64_t cols, int64_t T, bool precise, bool accumulate) {
    HostMatrix W = random_matrix(dt, rows, cols, 61);
    DevMatrix dW = upload(W);
    Rng rng(13);
    const int64_t ldx = cols + 2, ldy = rows + 1;
    std::vector<float> x = rng.vec(static_cast<size_t>(T * ldx), -1.0f, 1.0f);
    std::vector<float> y0 = rng.vec(static_cast<size_t>(T * ldy), -1.0f, 1.0f);
    std::vector<float> ref = y0;
    cpu::matmul(W.view, x.data(), T, ldx, ref.data(), ldy, accumulate, nullptr);
    const auto prec = precise ? cuda::PrefillPrecision::Precise : cuda::PrefillPrecision::Fast;
    int64_t act = 0, wts = 0;
    cuda::matmul_scratch_need(dW.view, T, prec, exec(), &act, &wts);
    DevBuf<uint16_t> hi(static_cast<size_t>(act)), lo(static_cast<size_t>(act)), deq(static_cast<size_t>(wts));
    cuda::MatmulScratch scratch{hi.get(), lo.get(), act, deq.get(), wts};
    cublasHandle_t blas = nullptr;
    if (cublasCreate(&blas) != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("cublasCreate failed");
    DevBuf<float> dx(x), dy(y0);
    Status s = cuda::matmul(blas, dW.view, dx.get(), T, ldx, dy.get(), ldy, accumulate, prec, scratch, exec());
    std::vector<float> got = s ? dy.download() : std::vector<float>{};
    cublasDestroy(blas);
    ok(s);
    // Fast: activations rounded to bf16 (2^-9 relative), f16 (2^-12); Precise: ~2^-17.
    const double atol = dt == DType::F32 || T <= cuda::kGemvMaxTokens ? kAtol
                        : precise                                     ? 5e-4
                        : dt == DType::F16                            ? 4e-3
                                                                      : 2e-2;
    return compare(got, ref, atol, precise ? kRtol : 1e-2, "matmul");
}

Outcome check_dequantize(DType dt, int64_t rows, int64_t cols, bool as_f16) {
    HostMatrix W = random_matrix(dt, rows, cols, 71, 64);
    DevMatrix dW = upload(W);
    std::vector<float> ref(static_cast<size_t>(rows * cols)), row(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
        cpu::matrix_row(W.view, r, row.data());
        for (int64_t c = 0; c < cols; ++c)
            ref[static_cast<size_t>(r * cols + c)] =
                as_f16 ? num::f16_to_float(num::float_to_f16(row[static_cast<size_t>(c)]))
                       : num::bf16_to_float(num::float_to_bf16(row[static_cast<size_t>(c)]));
    }
    DevBuf<uint16_t> out(static_cast<size_t>(rows * cols));
    ok(cuda::dequantize_to_half(dW.view, as_f16, out.get(), exec()));
    std::vector<uint16_t> got16 = out.download();
    std::vector<float> got(got16.size());
    for (size_t i = 0; i < got.size(); ++i)
        got[i] = as_f16 ? num::f16_to_float(got16[i]) : num::bf16_to_float(got16[i]);
    return compare(got, ref, 0.0, 0.0, "dequantize_to_half");
}

Outcome check_argmax(int64_t n, bool special) {
    Rng rng(17);
    std::vector<float> x = rng.vec(static_cast<size_t>(n), -10.0f, 10.0f);
    if (special && n > 10) {
        x[3] = std::numeric_limits<float>::quiet_NaN();
        x[n / 2] = 50.0f;
        x[n - 1] = 50.0f;  // a tie: the first one wins
    }
    int32_t ref = 0;
    float best = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n; ++i)
        if (x[static_cast<size_t>(i)] > best) best = x[static_cast<size_t>(i)], ref = static_cast<int32_t>(i);
    DevBuf<float> dx(x);
    DevBuf<int32_t> out(1);
    ok(cuda::argmax(dx.get(), n, out.get(), exec()));
    const int32_t got = out.download()[0];
    return Outcome{got == ref, 0.0, "argmax: got " + std::to_string(got) + ", expected " + std::to_string(ref)};
}

void add(std::vector<Case>& v, std::string name, std::function<Outcome()> f) {
    v.push_back(Case{std::move(name), [f = std::move(f)] { return guarded(f); }});
}

}  // namespace

std::vector<Case> kernel_cases() {
    std::vector<Case> v;
    using E = cuda::Epilogue;
    const DType all[] = {DType::BF16, DType::F16, DType::F32, DType::Q4};
    for (DType d : all) {
        add(v, std::string("embedding/") + dname(d) + "/7x33", [d] { return check_embedding(d, 7, 33, 5); });
        add(v, std::string("embedding/") + dname(d) + "/1000x4096", [d] { return check_embedding(d, 1000, 4096, 3); });
    }
    add(v, "rms_norm/T1x4096/weight", [] { return check_rms_norm(1, 4096, true, 0); });
    add(v, "rms_norm/T7x33/strided", [] { return check_rms_norm(7, 33, true, 5); });
    add(v, "rms_norm/T3x4096/noweight", [] { return check_rms_norm(3, 4096, false, 4); });
    add(v, "bcdt_rms_norm/R256N16", [] { return check_bcdt_norm(5, 256, 16); });
    add(v, "bcdt_rms_norm/R4N16", [] { return check_bcdt_norm(3, 4, 16); });
    add(v, "bcdt_rms_norm/R5N3", [] { return check_bcdt_norm(2, 5, 3); });
    // gemv: odd shapes (scalar path), every dtype and token count.
    for (DType d : all)
        for (int64_t T : {1, 2, 3, 4})
            add(v, std::string("gemv/") + dname(d) + "/7x33/T" + std::to_string(T),
                [d, T] { return check_gemv(d, 7, 33, T, E::Store); });
    // 7B shapes.
    const int64_t shapes[][2] = {{16384, 4096}, {288, 8192}, {8192, 256}, {4096, 8192}};
    for (DType d : all)
        for (const auto& s : shapes) {
            const int64_t r = s[0], c = s[1];
            add(v, std::string("gemv/") + dname(d) + "/" + shape(r, c) + "/T1",
                [d, r, c] { return check_gemv(d, r, c, 1, E::Store); });
        }
    add(v, "gemv/BF16/65024x4096/T1 (lm_head)", [] { return check_gemv(DType::BF16, 65024, 4096, 1, E::Store); });
    add(v, "gemv/BF16/16384x4096/T3", [] { return check_gemv(DType::BF16, 16384, 4096, 3, E::Store); });
    add(v, "gemv/Q4/4096x8192/T2", [] { return check_gemv(DType::Q4, 4096, 8192, 2, E::Store); });
    add(v, "gemv/F16/288x8192/T4", [] { return check_gemv(DType::F16, 288, 8192, 4, E::Store); });
    add(v, "gemv/BF16/4096x8192/accumulate", [] { return check_gemv(DType::BF16, 4096, 8192, 1, E::Accumulate); });
    add(v, "gemv/Q4/4096x8192/accumulate", [] { return check_gemv(DType::Q4, 4096, 8192, 1, E::Accumulate); });
    add(v, "gemv/F32/7x33/accumulate/T3", [] { return check_gemv(DType::F32, 7, 33, 3, E::Accumulate); });
    add(v, "gemv/BF16/8192x256/bias_softplus", [] { return check_gemv(DType::BF16, 8192, 256, 1, E::BiasSoftplus); });
    add(v, "gemv/F16/7x33/bias_softplus", [] { return check_gemv(DType::F16, 7, 33, 1, E::BiasSoftplus); });
    add(v, "gemv/Q4/40x96/block32", [] { return check_gemv(DType::Q4, 40, 96, 1, E::Store, 32); });
    add(v, "gemv/Q4/7x64/block48 (scalar)", [] { return check_gemv(DType::Q4, 7, 64, 1, E::Store, 48); });
    // in_proj + conv step.
    for (DType d : all) {
        add(v, std::string("gemv_conv/") + dname(d) + "/I128xH64",
            [d] { return check_gemv_conv(d, 128, 64, 4, true); });
        add(v, std::string("gemv_conv/") + dname(d) + "/I128xH64/nonorm",
            [d] { return check_gemv_conv(d, 128, 64, 4, false); });
    }
    add(v, "gemv_conv/BF16/I8192xH4096", [] { return check_gemv_conv(DType::BF16, 8192, 4096, 4, true); });
    add(v, "gemv_conv/Q4/I8192xH4096", [] { return check_gemv_conv(DType::Q4, 8192, 4096, 4, true); });
    add(v, "gemv_conv/F32/I7xH33/K2", [] { return check_gemv_conv(DType::F32, 7, 33, 2, true); });
    add(v, "gemv_conv/BF16/I7xH33/K4/nonorm", [] { return check_gemv_conv(DType::BF16, 7, 33, 4, false); });
    // norm + lm_head
    add(v, "rms_gemv/BF16/65024x4096", [] { return check_rms_gemv(DType::BF16, 65024, 4096); });
    add(v, "rms_gemv/F16/512x64", [] { return check_rms_gemv(DType::F16, 512, 64); });
    add(v, "rms_gemv/Q4/1000x4096", [] { return check_rms_gemv(DType::Q4, 1000, 4096); });
    add(v, "rms_gemv/F32/7x33 (scalar)", [] { return check_rms_gemv(DType::F32, 7, 33); });
    add(v, "rms_gemv/BF16/100x16384 (too wide to stage)", [] { return check_rms_gemv(DType::BF16, 100, 16384); });
    add(v, "rms_gemv/BF16/64x11264 (widest staged)", [] { return check_rms_gemv(DType::BF16, 64, 11264); });
    // conv.
    add(v, "conv1d_step/I7/K4", [] { return check_conv_step(7, 4); });
    add(v, "conv1d_step/I8192/K4", [] { return check_conv_step(8192, 4); });
    add(v, "conv1d_step/I33/K2", [] { return check_conv_step(33, 2); });
    add(v, "conv1d_chunk/T1/I7/K4", [] { return check_conv_chunk(1, 7, 4); });
    add(v, "conv1d_chunk/T2/I33/K4", [] { return check_conv_chunk(2, 33, 4); });
    add(v, "conv1d_chunk/T37/I33/K4", [] { return check_conv_chunk(37, 33, 4); });
    add(v, "conv1d_chunk/T5/I9/K1", [] { return check_conv_chunk(5, 9, 1); });
    add(v, "conv1d_chunk/T256/I8192/K4", [] { return check_conv_chunk(256, 8192, 4); });
    // scans.
    add(v, "ssm_step/raw_dt/I7/N16", [] { return check_ssm_step(7, 16, true); });
    add(v, "ssm_step/raw_dt/I8192/N16", [] { return check_ssm_step(8192, 16, true); });
    add(v, "ssm_step/final_dt/I33/N5", [] { return check_ssm_step(33, 5, false); });
    add(v, "ssm_step/final_dt/I10/N40", [] { return check_ssm_step(10, 40, false); });
    add(v, "dt_ssm_step/BF16/I128/R4/N16", [] { return check_dt_ssm(DType::BF16, 128, 4, 16, true); });
    add(v, "dt_ssm_step/BF16/I8192/R256/N16", [] { return check_dt_ssm(DType::BF16, 8192, 256, 16, true); });
    add(v, "dt_ssm_step/Q4/I8192/R256/N16", [] { return check_dt_ssm(DType::Q4, 8192, 256, 16, true); });
    add(v, "dt_ssm_step/F16/I100/R64/N16", [] { return check_dt_ssm(DType::F16, 100, 64, 16, true); });
    add(v, "dt_ssm_step/F32/I7/R5/N3/nonorm", [] { return check_dt_ssm(DType::F32, 7, 5, 3, false); });
    add(v, "selective_scan/T1/I7/N16", [] { return check_scan(1, 7, 16); });
    add(v, "selective_scan/T37/I33/N16", [] { return check_scan(37, 33, 16); });
    add(v, "selective_scan/T64/I65/N5", [] { return check_scan(64, 65, 5); });
    add(v, "selective_scan/T20/I9/N64", [] { return check_scan(20, 9, 64); });
    add(v, "selective_scan/T100/I8192/N16", [] { return check_scan(100, 8192, 16); });
    // prefill products.
    for (DType d : all)
        for (bool precise : {false, true})
            add(v, std::string("matmul/") + dname(d) + "/288x8192/T16/" + (precise ? "precise" : "fast"),
                [d, precise] { return check_matmul(d, 288, 8192, 16, precise, false); });
    add(v, "matmul/BF16/7x33/T33/precise", [] { return check_matmul(DType::BF16, 7, 33, 33, true, false); });
    add(v, "matmul/BF16/4096x8192/T64/accumulate",
        [] { return check_matmul(DType::BF16, 4096, 8192, 64, true, true); });
    add(v, "matmul/Q4/16384x4096/T8/fast", [] { return check_matmul(DType::Q4, 16384, 4096, 8, false, false); });
    add(v, "matmul/BF16/8192x256/T3 (gemv path)", [] { return check_matmul(DType::BF16, 8192, 256, 3, false, false); });
    for (DType d : all)
        for (bool h : {false, true})
            add(v, std::string("dequantize/") + dname(d) + "/7x33/" + (h ? "f16" : "bf16"),
                [d, h] { return check_dequantize(d, 7, 33, h); });
    add(v, "dequantize/Q4/512x4096", [] { return check_dequantize(DType::Q4, 512, 4096, false); });
    add(v, "argmax/65024", [] { return check_argmax(65024, false); });
    add(v, "argmax/65024/nan_and_ties", [] { return check_argmax(65024, true); });
    add(v, "argmax/7", [] { return check_argmax(7, false); });
    return v;
}

}  // namespace fm::gpucheck
