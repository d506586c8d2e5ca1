// The CUDA backend: the forward pass of inference/backends/mamba_block.h on an NVIDIA GPU.
//
// - Weights are uploaded once into one device arena in their stored dtype (bf16 stays bf16;
//   4-bit matrices keep their codes, fp32 scales and code book); fp32 vectors as they are.
// - The recurrent state lives on the device in fm::RecurrentState's layout (conv [L, I, K-1],
//   ssm [L, I, N]), so state() / set_state() are plain copies.
// - Decode (one token) runs four kernels per layer (norm + in_proj + conv step, x_proj,
//   norms + dt_proj + softplus + scan step + gate, out_proj + residual) on fixed buffers,
//   captured once in a CUDA graph that reads the token id from a device buffer and replayed per
//   token; only the logits row comes back to the host.
// - Prefill runs chunk by chunk (ForwardOptions::chunk_size) through cuBLAS with a workspace
//   sized by the chunk, so memory does not depend on the prompt's length.

#include "inference/backends/cuda_backend.h"
#include "inference/backends/mamba_block.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "inference/checkpoint/config.h"
#include "inference/checkpoint/weights.h"
#include "kernels/cuda/ops.h"

namespace fm {
namespace {

Status cuda_check(cudaError_t e, const char* what) {
    if (e == cudaSuccess) return {};
    return Error{std::string(what) + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")"};
}

#define FM_CUDA_TRY(call)                                                         \
    do {                                                                          \
        if (::fm::Status fm_s_ = cuda_check((call), #call); !fm_s_) return fm_s_; \
    } while (0)

#define FM_STATUS_TRY(expr)                                    \
    do {                                                       \
        if (::fm::Status fm_s_ = (expr); !fm_s_) return fm_s_; \
    } while (0)

std::string gigabytes(int64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f GB", static_cast<double>(bytes) / 1e9);
    return buf;
}

int chosen_device() {
    if (const char* env = std::getenv("FM_CUDA_DEVICE"); env && *env) return std::atoi(env);
    return 0;
}

constexpr int64_t kAlign = 256;
int64_t align_up(int64_t n) {
    return (n + kAlign - 1) / kAlign * kAlign;
}

// Places host arrays into one device arena: a first pass (base == nullptr) only measures.
class Arena {
public:
    explicit Arena(char* base) : base_(base) {}
    Result<void*> put(const void* src, int64_t bytes) {
        const int64_t at = used_;
        used_ += align_up(std::max<int64_t>(bytes, 1));
        if (!base_) return static_cast<void*>(nullptr);
        if (bytes > 0) {
            if (Status s = cuda_check(cudaMemcpy(base_ + at, src, static_cast<size_t>(bytes), cudaMemcpyHostToDevice),
                                      "uploading weights (cudaMemcpy)");
                !s)
                return s;
        }
        return static_cast<void*>(base_ + at);
    }
    Result<float*> put(const std::vector<float>& v) {
        auto r = put(v.data(), static_cast<int64_t>(v.size() * sizeof(float)));
        if (!r) return r.status();
        return static_cast<float*>(*r);
    }
    Result<MatrixView> put(const MatrixView& m) {
        MatrixView d = m;
        if (m.dtype == DType::Q4) {
            const int64_t n = m.elements();
            auto codes = put(m.q4.codes, (n + 1) / 2);
            if (!codes) return codes.status();
            auto scales = put(m.q4.scales, (n + m.q4.block - 1) / m.q4.block * 4);
            if (!scales) return scales.status();
            auto cb = put(m.q4.codebook, 16 * 4);
            if (!cb) return cb.status();
            d.q4.codes = static_cast<const uint8_t*>(*codes);
            d.q4.scales = static_cast<const float*>(*scales);
            d.q4.codebook = static_cast<const float*>(*cb);
            d.data = nullptr;
        } else {
            auto p = put(m.data, m.bytes());
            if (!p) return p.status();
            d.data = *p;
        }
        return d;
    }
    int64_t used() const { return used_; }

private:
    char* base_;
    int64_t used_ = 0;
};

struct DeviceLayer {
    float *norm = nullptr, *conv_w = nullptr, *conv_b = nullptr, *dt_bias = nullptr, *A = nullptr, *D = nullptr;
    MatrixView in_proj, x_proj, dt_proj, out_proj;
};

// Per-token float counts of the prefill workspace: h, u [H]; xz [2I]; xc, dt, y [I]; dbc [R+2N].
int64_t chunk_floats_per_token(const ModelConfig& c) {
    return 2 * c.hidden_size + 5 * c.intermediate_size + c.time_step_rank + 2 * c.state_size;
}

class CudaBackend final : public Backend {
public:
    CudaBackend(std::shared_ptr<const ModelWeights> w, const CudaBackendOptions& o) : weights_(std::move(w)), opt_(o) {}
    ~CudaBackend() override {
        cudaSetDevice(device_);
        if (stream_) cudaStreamSynchronize(stream_);
        for (auto& g : graphs_)
            if (g) cudaGraphExecDestroy(g);
        if (blas_) cublasDestroy(blas_);
        for (void* p : {static_cast<void*>(arena_), static_cast<void*>(state_buf_), static_cast<void*>(decode_buf_),
                        static_cast<void*>(ws_buf_), static_cast<void*>(scratch_buf_), static_cast<void*>(logits_all_),
                        static_cast<void*>(gen_buf_)})
            if (p) cudaFree(p);
        if (pinned_) cudaFreeHost(pinned_);
        if (stream_) cudaStreamDestroy(stream_);
    }

    Status init();

    std::string name() const override { return "cuda (" + device_name_ + ")"; }
    std::string numerics_id() const override {
        return std::string("cuda-fp32state-") + (opt_.precise_prefill ? "precise" : "bf16act") + "-v1";
    }
    const ModelConfig& config() const override { return weights_->config; }
    const ModelWeights& weights() const override { return *weights_; }

    void reset_state() override {
        cudaSetDevice(device_);
        tokens_seen_ = 0;
        if (Status s = cuda_check(cudaMemsetAsync(state_buf_, 0, static_cast<size_t>(state_bytes()), stream_),
                                  "clearing the state");
            !s)
            sticky_ = s.error();
        else if (Status s2 = cuda_check(cudaStreamSynchronize(stream_), "clearing the state"); !s2)
            sticky_ = s2.error();
    }

    RecurrentState state() const override {
        cudaSetDevice(device_);
        RecurrentState s = RecurrentState::zeros(weights_->config);
        s.tokens_seen = tokens_seen_;
        cudaError_t e = cudaStreamSynchronize(stream_);
        if (e == cudaSuccess)
            e = cudaMemcpy(s.conv.data(), d_conv_, s.conv.size() * sizeof(float), cudaMemcpyDeviceToHost);
        if (e == cudaSuccess)
            e = cudaMemcpy(s.ssm.data(), d_ssm_, s.ssm.size() * sizeof(float), cudaMemcpyDeviceToHost);
        if (e != cudaSuccess) sticky_ = cuda_check(e, "copying the state to the host").error();
        return s;
    }

    Status set_state(const RecurrentState& s) override {
        if (!s.matches(weights_->config)) return Error{"the state's dimensions do not match this model"};
        FM_CUDA_TRY(cudaSetDevice(device_));
        FM_CUDA_TRY(cudaStreamSynchronize(stream_));
        FM_CUDA_TRY(cudaMemcpy(d_conv_, s.conv.data(), s.conv.size() * sizeof(float), cudaMemcpyHostToDevice));
        FM_CUDA_TRY(cudaMemcpy(d_ssm_, s.ssm.data(), s.ssm.size() * sizeof(float), cudaMemcpyHostToDevice));
        tokens_seen_ = s.tokens_seen;
        return {};
    }

    Result<int64_t> forward(std::span<const int32_t> tokens, LogitsMode mode, std::vector<float>& logits,
                            const ForwardOptions& options) override;

    MemoryReport memory() const override {
        MemoryReport m;
        m.weight_bytes = arena_bytes_;
        m.state_bytes = state_bytes();
        m.workspace_bytes = decode_bytes_ + ws_bytes_ + scratch_bytes_ + logits_all_bytes_ + gen_cap_ * 4;
        size_t free_b = 0, total_b = 0;
        cudaSetDevice(device_);
        if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) {
            m.device_free_bytes = static_cast<int64_t>(free_b);
            m.device_total_bytes = static_cast<int64_t>(total_b);
        }
        return m;
    }

    Result<std::vector<int32_t>> greedy(int32_t first, int64_t steps);

private:
    int64_t state_bytes() const { return weights_->config.state_bytes(); }
    cuda::Exec exec(bool pdl) const { return cuda::Exec{stream_, pdl && pdl_ok_, sm_count_, capability_}; }
    Status upload_weights(Arena& arena);
    Status enqueue_step(bool logits, bool pdl);
    Status enqueue_chunk(int64_t T, int64_t logit_rows, float* logits_dev);
    Status run_step(int32_t token, bool want_logits, float* out);
    Status reserve_chunk(int64_t T, bool all_logits);
    Status graph_for(bool logits, cudaGraphExec_t* out);
    Status capture(bool logits, bool pdl, cudaGraphExec_t* out);

    class DecodeSteps;
    class PrefillSteps;

    std::shared_ptr<const ModelWeights> weights_;
    CudaBackendOptions opt_;
    int device_ = 0;
    std::string device_name_;
    int sm_count_ = 0;
    int capability_ = 0;
    bool pdl_ok_ = false;
    cudaStream_t stream_ = nullptr;
    cublasHandle_t blas_ = nullptr;
    mutable std::string sticky_;  // an error from a call that cannot return one; reported next
    uint64_t tokens_seen_ = 0;

    char* arena_ = nullptr;
    int64_t arena_bytes_ = 0;
    MatrixView embedding_, lm_head_;
    float* norm_f_ = nullptr;
    std::vector<DeviceLayer> layers_;

    float* state_buf_ = nullptr;  // conv then ssm
    float* d_conv_ = nullptr;
    float* d_ssm_ = nullptr;

    // Decode buffers (fixed: the graphs point at them).
    char* decode_buf_ = nullptr;
    int64_t decode_bytes_ = 0;
    int32_t *d_token_ = nullptr, *d_argmax_ = nullptr;
    float *d_h_ = nullptr, *d_u_ = nullptr, *d_xz_ = nullptr, *d_dbc_ = nullptr, *d_y_ = nullptr, *d_logits_ = nullptr;
    char* pinned_ = nullptr;  // token id + logits row
    int32_t* h_token_ = nullptr;
    float* h_logits_ = nullptr;
    cudaGraphExec_t graphs_[2] = {nullptr, nullptr};  // [without logits, with logits]

    // Prefill workspace, sized by the largest chunk seen.
    char* ws_buf_ = nullptr;
    int64_t ws_bytes_ = 0, ws_tokens_ = 0;
    int32_t* w_ids_ = nullptr;
    float *w_h_ = nullptr, *w_u_ = nullptr, *w_xz_ = nullptr, *w_xc_ = nullptr, *w_dbc_ = nullptr, *w_dt_ = nullptr,
          *w_y_ = nullptr;
    char* scratch_buf_ = nullptr;
    int64_t scratch_bytes_ = 0;
    cuda::MatmulScratch scratch_;
    float* logits_all_ = nullptr;
    int64_t logits_all_bytes_ = 0, logits_all_rows_ = 0;
    int32_t* gen_buf_ = nullptr;
    int64_t gen_cap_ = 0;
};

Status CudaBackend::upload_weights(Arena& arena) {
    const ModelWeights& w = *weights_;
    auto matrix = [&](const MatrixView& m, MatrixView& out) -> Status {
        auto r = arena.put(m);
        if (!r) return r.status();
        out = *r;
        return {};
    };
    auto vec = [&](const std::vector<float>& v, float*& out) -> Status {
        auto r = arena.put(v);
        if (!r) return r.status();
        out = *r;
        return {};
    };
    FM_STATUS_TRY(matrix(w.embedding, embedding_));
    const bool tied =
        w.lm_head.dtype == w.embedding.dtype && w.lm_head.dtype != DType::Q4 && w.lm_head.data == w.embedding.data;
    if (tied)
        lm_head_ = embedding_;
    else
        FM_STATUS_TRY(matrix(w.lm_head, lm_head_));
    FM_STATUS_TRY(vec(w.norm_f, norm_f_));
    layers_.assign(w.layers.size(), DeviceLayer{});
    for (size_t l = 0; l < w.layers.size(); ++l) {
        const LayerWeights& src = w.layers[l];
        DeviceLayer& d = layers_[l];
        FM_STATUS_TRY(vec(src.norm, d.norm));
        FM_STATUS_TRY(matrix(src.in_proj, d.in_proj));
        FM_STATUS_TRY(vec(src.conv_weight, d.conv_w));
        FM_STATUS_TRY(vec(src.conv_bias, d.conv_b));
        FM_STATUS_TRY(matrix(src.x_proj, d.x_proj));
        FM_STATUS_TRY(matrix(src.dt_proj, d.dt_proj));
        FM_STATUS_TRY(vec(src.dt_bias, d.dt_bias));
        FM_STATUS_TRY(vec(src.A, d.A));
        FM_STATUS_TRY(vec(src.D, d.D));
        FM_STATUS_TRY(matrix(src.out_proj, d.out_proj));
    }
    return {};
}

Status CudaBackend::init() {
    const ModelConfig& c = weights_->config;
    if (c.hidden_size <= 0 || c.intermediate_size <= 0 || c.state_size <= 0 || c.time_step_rank <= 0 ||
        c.conv_kernel <= 0 || c.num_layers <= 0 || c.vocab_size <= 0)
        return Error{"the model configuration has an empty dimension"};
    if (static_cast<int64_t>(weights_->layers.size()) != c.num_layers) return Error{"the weights miss layers"};
    if (c.state_size > 64) return Error{"state_size " + std::to_string(c.state_size) + " is not supported (max 64)"};
    if (c.conv_kernel > 64) return Error{"conv_kernel " + std::to_string(c.conv_kernel) + " is not supported"};
    device_ = chosen_device();
    FM_CUDA_TRY(cudaSetDevice(device_));
    cudaDeviceProp prop{};
    FM_CUDA_TRY(cudaGetDeviceProperties(&prop, device_));
    device_name_ = prop.name;
    sm_count_ = prop.multiProcessorCount;
    capability_ = prop.major * 10 + prop.minor;
    pdl_ok_ = opt_.pdl && prop.major >= 9;

    // Measure, check free memory, then allocate and upload.
    Arena measure(nullptr);
    FM_STATUS_TRY(upload_weights(measure));
    const int64_t H = c.hidden_size, I = c.intermediate_size, V = c.vocab_size,
                  DBC = c.time_step_rank + 2 * c.state_size;
    decode_bytes_ = align_up(8) * 2 + align_up(H * 4) * 2 + align_up(2 * I * 4) + align_up(DBC * 4) + align_up(I * 4) +
                    align_up(V * 4);
    const int64_t first_chunk = 256;
    const int64_t max_cols = std::max({H, I, c.time_step_rank});
    const int64_t estimate = measure.used() + state_bytes() + decode_bytes_ +
                             first_chunk * (chunk_floats_per_token(c) * 4 + 4 + 4 * max_cols) +
                             ((weights_->format == WeightFormat::Q4 || capability_ < 80) ? 2 * I * H * 2 : 0) +
                             (int64_t{96} << 20);
    size_t free_b = 0, total_b = 0;
    FM_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
    if (estimate > static_cast<int64_t>(free_b))
        return Error{"the model needs " + gigabytes(estimate) + " of GPU memory, " +
                     gigabytes(static_cast<int64_t>(free_b)) + " free on '" + device_name_ + "'"};

    FM_CUDA_TRY(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    if (cublasStatus_t bs = cublasCreate(&blas_); bs != CUBLAS_STATUS_SUCCESS)
        return Error{std::string("cublasCreate failed: ") + cublasGetStatusString(bs)};
    if (cublasStatus_t bs = cublasSetStream(blas_, stream_); bs != CUBLAS_STATUS_SUCCESS)
        return Error{std::string("cublasSetStream failed: ") + cublasGetStatusString(bs)};

    arena_bytes_ = measure.used();
    FM_CUDA_TRY(cudaMalloc(&arena_, static_cast<size_t>(arena_bytes_)));
    Arena real(arena_);
    FM_STATUS_TRY(upload_weights(real));

    FM_CUDA_TRY(cudaMalloc(&state_buf_, static_cast<size_t>(state_bytes())));
    d_conv_ = state_buf_;
    d_ssm_ = state_buf_ + c.num_layers * I * (c.conv_kernel - 1);
    FM_CUDA_TRY(cudaMemset(state_buf_, 0, static_cast<size_t>(state_bytes())));

    FM_CUDA_TRY(cudaMalloc(&decode_buf_, static_cast<size_t>(decode_bytes_)));
    FM_CUDA_TRY(cudaMemset(decode_buf_, 0, static_cast<size_t>(decode_bytes_)));
    char* p = decode_buf_;
    auto take = [&p](int64_t bytes) {
        char* r = p;
        p += align_up(bytes);
        return r;
    };
    d_token_ = reinterpret_cast<int32_t*>(take(8));
    d_argmax_ = reinterpret_cast<int32_t*>(take(8));
    d_h_ = reinterpret_cast<float*>(take(H * 4));
    d_u_ = reinterpret_cast<float*>(take(H * 4));
    d_xz_ = reinterpret_cast<float*>(take(2 * I * 4));
    d_dbc_ = reinterpret_cast<float*>(take(DBC * 4));
    d_y_ = reinterpret_cast<float*>(take(I * 4));
    d_logits_ = reinterpret_cast<float*>(take(V * 4));
    FM_CUDA_TRY(cudaMallocHost(&pinned_, static_cast<size_t>(align_up(8) + V * 4)));
    h_token_ = reinterpret_cast<int32_t*>(pinned_);
    h_logits_ = reinterpret_cast<float*>(pinned_ + align_up(8));
    FM_STATUS_TRY(reserve_chunk(first_chunk, false));
    FM_CUDA_TRY(cudaStreamSynchronize(stream_));
    return {};
}

// Decode: one token (docs/model.md, The forward pass) through the fixed decode buffers, one fused
// kernel per step; the token id is read from d_token_, and the graph captures exactly these
// launches.
class CudaBackend::DecodeSteps final : public MambaSteps {
public:
    DecodeSteps(CudaBackend& b, bool pdl) : b_(b), c_(b.weights_->config), ex_(b.exec(pdl)) {}

    Status embed() override { return cuda::embedding(b_.embedding_, b_.d_token_, 1, b_.d_h_, c_.hidden_size, ex_); }

    Status norm_in_proj_conv(int64_t l) override {
        const DeviceLayer& L = layer(l);
        const int64_t I = c_.intermediate_size, K = c_.conv_kernel;
        return cuda::gemv_conv(L.in_proj, b_.d_h_, L.norm, c_.layer_norm_epsilon, b_.d_xz_, I, K, L.conv_w, L.conv_b,
                               b_.d_conv_ + l * I * (K - 1), ex_);
    }

    Status x_proj(int64_t l) override {
        return cuda::gemv(layer(l).x_proj, b_.d_xz_, c_.intermediate_size, 1, b_.d_dbc_, dbc_ld(),
                          cuda::Epilogue::Store, nullptr, ex_);
    }

    Status dt_scan_gate(int64_t l) override {
        const DeviceLayer& L = layer(l);
        const int64_t I = c_.intermediate_size, N = c_.state_size;
        DtScanStepParams p;
        p.dt_proj = L.dt_proj;
        p.dbc = b_.d_dbc_;
        p.R = c_.time_step_rank;
        p.norms = c_.uses_bcdt_norms();
        p.eps = c_.mixer_rms_eps;
        p.step = {
            I,      N, b_.d_xz_, nullptr, L.dt_bias, nullptr, nullptr, b_.d_xz_ + I, L.A, L.D, b_.d_ssm_ + l * I * N,
            b_.d_y_};
        return cuda::dt_ssm_step(p, ex_);
    }

    Status out_proj_residual(int64_t l) override {
        return cuda::gemv(layer(l).out_proj, b_.d_y_, c_.intermediate_size, 1, b_.d_h_, c_.hidden_size,
                          cuda::Epilogue::Accumulate, nullptr, ex_);
    }

    Status norm_lm_head(int64_t) override {
        return cuda::rms_gemv(b_.lm_head_, b_.d_h_, b_.norm_f_, c_.layer_norm_epsilon, b_.d_logits_,
                              cuda::Epilogue::Store, nullptr, ex_);
    }

private:
    const DeviceLayer& layer(int64_t l) const { return b_.layers_[static_cast<size_t>(l)]; }
    int64_t dbc_ld() const { return c_.time_step_rank + 2 * c_.state_size; }

    CudaBackend& b_;
    const ModelConfig& c_;
    cuda::Exec ex_;
};

// Prefill: a chunk of T tokens through the chunk workspace, matrices through cuBLAS.
class CudaBackend::PrefillSteps final : public MambaSteps {
public:
    PrefillSteps(CudaBackend& b, int64_t T, float* logits_dev)
        : b_(b),
          c_(b.weights_->config),
          ex_(b.exec(false)),
          prec_(b.opt_.precise_prefill ? cuda::PrefillPrecision::Precise : cuda::PrefillPrecision::Fast),
          T_(T),
          logits_(logits_dev) {}

    Status embed() override { return cuda::embedding(b_.embedding_, b_.w_ids_, T_, b_.w_h_, c_.hidden_size, ex_); }

    Status norm_in_proj_conv(int64_t l) override {
        const DeviceLayer& L = layer(l);
        const int64_t H = c_.hidden_size, I = c_.intermediate_size, K = c_.conv_kernel;
        FM_STATUS_TRY(cuda::rms_norm(b_.w_h_, H, L.norm, T_, H, c_.layer_norm_epsilon, b_.w_u_, H, ex_));
        FM_STATUS_TRY(matmul(L.in_proj, b_.w_u_, H, b_.w_xz_, 2 * I, false));
        ConvParams conv;
        conv.T = T_;
        conv.I = I;
        conv.K = K;
        conv.x = b_.w_xz_;  // x: the first half of each [x | z] row
        conv.ldx = 2 * I;
        conv.out = b_.w_xc_;
        conv.ldo = I;
        conv.weight = L.conv_w;
        conv.bias = L.conv_b;
        conv.state = b_.d_conv_ + l * I * (K - 1);
        return cuda::conv1d_chunk(conv, ex_);
    }

    Status x_proj(int64_t l) override {
        return matmul(layer(l).x_proj, b_.w_xc_, c_.intermediate_size, b_.w_dbc_, dbc_ld(), false);
    }

    Status dt_scan_gate(int64_t l) override {
        const DeviceLayer& L = layer(l);
        const int64_t I = c_.intermediate_size, N = c_.state_size, R = c_.time_step_rank, DBC = dbc_ld();
        if (c_.uses_bcdt_norms()) FM_STATUS_TRY(cuda::bcdt_rms_norm(b_.w_dbc_, DBC, T_, R, N, c_.mixer_rms_eps, ex_));
        // dt_raw = dt_proj(d); softplus(dt_raw + bias) happens inside the scan
        FM_STATUS_TRY(matmul(L.dt_proj, b_.w_dbc_, DBC, b_.w_dt_, I, false));
        ScanParams scan;
        scan.T = T_;
        scan.I = I;
        scan.N = N;
        scan.x = b_.w_xc_;
        scan.ldx = I;
        scan.dt_raw = b_.w_dt_;
        scan.ldd = I;
        scan.B = b_.w_dbc_ + R;
        scan.C = b_.w_dbc_ + R + N;
        scan.ldbc = DBC;
        scan.z = b_.w_xz_ + I;
        scan.ldz = 2 * I;
        scan.A = L.A;
        scan.D = L.D;
        scan.dt_bias = L.dt_bias;
        scan.state = b_.d_ssm_ + l * I * N;
        scan.y = b_.w_y_;
        scan.ldy = I;
        return cuda::selective_scan(scan, ex_);
    }

    // cuBLAS beta = 1: the residual add is fused.
    Status out_proj_residual(int64_t l) override {
        return matmul(layer(l).out_proj, b_.w_y_, c_.intermediate_size, b_.w_h_, c_.hidden_size, true);
    }

    Status norm_lm_head(int64_t rows) override {
        const int64_t H = c_.hidden_size, V = c_.vocab_size;
        const float* last = b_.w_h_ + (T_ - rows) * H;
        FM_STATUS_TRY(cuda::rms_norm(last, H, b_.norm_f_, rows, H, c_.layer_norm_epsilon, b_.w_u_, H, ex_));
        if (b_.lm_head_.dtype == DType::Q4)  // reads the codes once per 4 rows; spares a V x H dequantized copy
            return cuda::gemv(b_.lm_head_, b_.w_u_, H, rows, logits_, V, cuda::Epilogue::Store, nullptr, ex_);
        return cuda::matmul(b_.blas_, b_.lm_head_, b_.w_u_, rows, H, logits_, V, false, prec_, b_.scratch_, ex_);
    }

private:
    const DeviceLayer& layer(int64_t l) const { return b_.layers_[static_cast<size_t>(l)]; }
    int64_t dbc_ld() const { return c_.time_step_rank + 2 * c_.state_size; }
    Status matmul(const MatrixView& W, const float* X, int64_t ldx, float* Y, int64_t ldy, bool accumulate) {
        return cuda::matmul(b_.blas_, W, X, T_, ldx, Y, ldy, accumulate, prec_, b_.scratch_, ex_);
    }

    CudaBackend& b_;
    const ModelConfig& c_;
    cuda::Exec ex_;
    cuda::PrefillPrecision prec_;
    int64_t T_;
    float* logits_;
};

Status CudaBackend::enqueue_step(bool logits, bool pdl) {
    DecodeSteps steps(*this, pdl);
    FM_STATUS_TRY(run_mamba_forward(steps, weights_->config.num_layers, logits ? 1 : 0));
    if (!logits) return {};
    return cuda::argmax(d_logits_, weights_->config.vocab_size, d_argmax_, exec(pdl));
}

Status CudaBackend::capture(bool logits, bool pdl, cudaGraphExec_t* out) {
    FM_CUDA_TRY(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    Status s = enqueue_step(logits, pdl);
    cudaGraph_t graph = nullptr;
    const cudaError_t e = cudaStreamEndCapture(stream_, &graph);
    if (s && e != cudaSuccess) s = cuda_check(e, "cudaStreamEndCapture");
    if (s) s = cuda_check(cudaGraphInstantiate(out, graph, 0), "cudaGraphInstantiate");
    if (graph) cudaGraphDestroy(graph);
    if (!s) cudaGetLastError();  // clear a non-sticky error before a retry
    return s;
}

Status CudaBackend::graph_for(bool logits, cudaGraphExec_t* out) {
    cudaGraphExec_t& g = graphs_[logits ? 1 : 0];
    if (!g) {
        Status s = capture(logits, true, &g);
        if (!s && pdl_ok_) {
            // Programmatic launches could not be captured on this driver: go without them.
            pdl_ok_ = false;
            g = nullptr;
            s = capture(logits, false, &g);
        }
        if (!s) {
            g = nullptr;
            return s;
        }
    }
    *out = g;
    return {};
}

Status CudaBackend::run_step(int32_t token, bool want_logits, float* out) {
    const ModelConfig& c = weights_->config;
    *h_token_ = token;
    FM_CUDA_TRY(cudaMemcpyAsync(d_token_, h_token_, sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
    if (opt_.use_graph) {
        cudaGraphExec_t g = nullptr;
        FM_STATUS_TRY(graph_for(want_logits, &g));
        FM_CUDA_TRY(cudaGraphLaunch(g, stream_));
    } else {
        FM_STATUS_TRY(enqueue_step(want_logits, true));
    }
    if (want_logits)
        FM_CUDA_TRY(cudaMemcpyAsync(h_logits_, d_logits_, static_cast<size_t>(c.vocab_size) * 4, cudaMemcpyDeviceToHost,
                                    stream_));
    FM_CUDA_TRY(cudaStreamSynchronize(stream_));
    if (want_logits) std::memcpy(out, h_logits_, static_cast<size_t>(c.vocab_size) * 4);
    return {};
}

Status CudaBackend::reserve_chunk(int64_t T, bool all_logits) {
    const ModelConfig& c = weights_->config;
    const int64_t H = c.hidden_size, I = c.intermediate_size, DBC = c.time_step_rank + 2 * c.state_size;
    if (T > ws_tokens_) {
        FM_CUDA_TRY(cudaStreamSynchronize(stream_));
        if (ws_buf_) FM_CUDA_TRY(cudaFree(ws_buf_));
        ws_buf_ = nullptr;
        ws_tokens_ = 0;
        ws_bytes_ = align_up(T * 4) + 2 * align_up(T * H * 4) + align_up(T * 2 * I * 4) + 3 * align_up(T * I * 4) +
                    align_up(T * DBC * 4);
        FM_CUDA_TRY(cudaMalloc(&ws_buf_, static_cast<size_t>(ws_bytes_)));
        char* p = ws_buf_;
        auto take = [&p](int64_t bytes) {
            char* r = p;
            p += align_up(bytes);
            return r;
        };
        w_ids_ = reinterpret_cast<int32_t*>(take(T * 4));
        w_h_ = reinterpret_cast<float*>(take(T * H * 4));
        w_u_ = reinterpret_cast<float*>(take(T * H * 4));
        w_xz_ = reinterpret_cast<float*>(take(T * 2 * I * 4));
        w_xc_ = reinterpret_cast<float*>(take(T * I * 4));
        w_dt_ = reinterpret_cast<float*>(take(T * I * 4));
        w_y_ = reinterpret_cast<float*>(take(T * I * 4));
        w_dbc_ = reinterpret_cast<float*>(take(T * DBC * 4));
        ws_tokens_ = T;

        // cuBLAS scratch: the largest need over the matrices for this T.
        const auto precision = opt_.precise_prefill ? cuda::PrefillPrecision::Precise : cuda::PrefillPrecision::Fast;
        int64_t act = 0, wts = 0;
        auto need = [&](const MatrixView& m) {
            int64_t a = 0, w = 0;
            cuda::matmul_scratch_need(m, T, precision, exec(false), &a, &w);
            act = std::max(act, a);
            wts = std::max(wts, w);
        };
        if (lm_head_.dtype != DType::Q4) need(lm_head_);  // a 4-bit lm_head goes through gemv (no scratch)
        for (const DeviceLayer& L : layers_) {
            need(L.in_proj);
            need(L.x_proj);
            need(L.dt_proj);
            need(L.out_proj);
        }
        const int64_t act_halves = opt_.precise_prefill ? 2 : 1;
        const int64_t bytes = align_up(act * 2) * act_halves + align_up(wts * 2);
        if (bytes > scratch_bytes_) {
            if (scratch_buf_) FM_CUDA_TRY(cudaFree(scratch_buf_));
            scratch_buf_ = nullptr;
            scratch_bytes_ = 0;
            scratch_ = {};
            FM_CUDA_TRY(cudaMalloc(&scratch_buf_, static_cast<size_t>(bytes)));
            scratch_bytes_ = bytes;
            scratch_.act_hi = reinterpret_cast<uint16_t*>(scratch_buf_);
            scratch_.act_lo =
                opt_.precise_prefill ? reinterpret_cast<uint16_t*>(scratch_buf_ + align_up(act * 2)) : nullptr;
            scratch_.act_elements = act;
            scratch_.weights = reinterpret_cast<uint16_t*>(scratch_buf_ + align_up(act * 2) * act_halves);
            scratch_.weight_elements = wts;
        }
    }
    if (all_logits && T > logits_all_rows_) {
        FM_CUDA_TRY(cudaStreamSynchronize(stream_));
        if (logits_all_) FM_CUDA_TRY(cudaFree(logits_all_));
        logits_all_ = nullptr;
        logits_all_rows_ = 0;
        logits_all_bytes_ = T * c.vocab_size * 4;
        FM_CUDA_TRY(cudaMalloc(&logits_all_, static_cast<size_t>(logits_all_bytes_)));
        logits_all_rows_ = T;
    }
    return {};
}

// One chunk of T tokens (ids already in w_ids_) through every layer.
Status CudaBackend::enqueue_chunk(int64_t T, int64_t logit_rows, float* logits_dev) {
    PrefillSteps steps(*this, T, logits_dev);
    return run_mamba_forward(steps, weights_->config.num_layers, logit_rows);
}

Result<int64_t> CudaBackend::forward(std::span<const int32_t> tokens, LogitsMode mode, std::vector<float>& logits,
                                     const ForwardOptions& options) {
    if (!sticky_.empty()) return Error{"the CUDA backend failed earlier: " + sticky_};
    FM_CUDA_TRY(cudaSetDevice(device_));
    const int64_t V = weights_->config.vocab_size;
    auto run = [&](const int32_t* ids, int64_t n, int64_t rows, float* out) -> Status {
        if (n == 1) return run_step(ids[0], rows > 0, out);
        FM_STATUS_TRY(reserve_chunk(n, rows > 1));
        FM_CUDA_TRY(cudaMemcpyAsync(w_ids_, ids, static_cast<size_t>(n) * 4, cudaMemcpyHostToDevice, stream_));
        float* dev_logits = rows > 1 ? logits_all_ : d_logits_;
        FM_STATUS_TRY(enqueue_chunk(n, rows, dev_logits));
        if (rows > 0)
            FM_CUDA_TRY(
                cudaMemcpyAsync(out, dev_logits, static_cast<size_t>(rows * V) * 4, cudaMemcpyDeviceToHost, stream_));
        FM_CUDA_TRY(cudaStreamSynchronize(stream_));
        return {};
    };
    return forward_in_chunks(tokens, V, mode, logits, options, run,
                             [this](int64_t n) { tokens_seen_ += static_cast<uint64_t>(n); });
}

Result<std::vector<int32_t>> CudaBackend::greedy(int32_t first, int64_t steps) {
    if (!sticky_.empty()) return Error{"the CUDA backend failed earlier: " + sticky_};
    if (first < 0 || first >= weights_->config.vocab_size) return Error{"greedy: token id outside the vocabulary"};
    if (steps <= 0) return std::vector<int32_t>{};
    FM_CUDA_TRY(cudaSetDevice(device_));
    if (steps > gen_cap_) {
        FM_CUDA_TRY(cudaStreamSynchronize(stream_));
        if (gen_buf_) FM_CUDA_TRY(cudaFree(gen_buf_));
        gen_buf_ = nullptr;
        gen_cap_ = 0;
        const int64_t cap = std::max<int64_t>(steps, int64_t{1} << 18);  // 1 MB at least: no regrowth for 100k
        FM_CUDA_TRY(cudaMalloc(&gen_buf_, static_cast<size_t>(cap) * 4));
        gen_cap_ = cap;
    }
    cudaGraphExec_t g = nullptr;
    if (opt_.use_graph) FM_STATUS_TRY(graph_for(true, &g));
    *h_token_ = first;
    FM_CUDA_TRY(cudaMemcpyAsync(d_token_, h_token_, 4, cudaMemcpyHostToDevice, stream_));
    for (int64_t k = 0; k < steps; ++k) {
        if (g)
            FM_CUDA_TRY(cudaGraphLaunch(g, stream_));
        else
            FM_STATUS_TRY(enqueue_step(true, true));
        FM_CUDA_TRY(cudaMemcpyAsync(d_token_, d_argmax_, 4, cudaMemcpyDeviceToDevice, stream_));
        FM_CUDA_TRY(cudaMemcpyAsync(gen_buf_ + k, d_argmax_, 4, cudaMemcpyDeviceToDevice, stream_));
    }
    std::vector<int32_t> out(static_cast<size_t>(steps));
    FM_CUDA_TRY(cudaMemcpyAsync(out.data(), gen_buf_, static_cast<size_t>(steps) * 4, cudaMemcpyDeviceToHost, stream_));
    FM_CUDA_TRY(cudaStreamSynchronize(stream_));
    tokens_seen_ += static_cast<uint64_t>(steps);
    return out;
}

}  // namespace

CudaAvailability probe_cuda() {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e == cudaErrorInsufficientDriver)
        return {false,
                "no NVIDIA driver found, or it is too old for this build's CUDA runtime (cudaErrorInsufficientDriver)",
                ""};
    if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) return {false, "no CUDA device", ""};
    if (e != cudaSuccess)
        return {false, std::string("CUDA is unavailable: ") + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) + ")",
                ""};
    const int device = chosen_device();
    if (device < 0 || device >= count)
        return {
            false,
            "FM_CUDA_DEVICE=" + std::to_string(device) + " but there are " + std::to_string(count) + " CUDA device(s)",
            ""};
    cudaDeviceProp p{};
    if (cudaError_t pe = cudaGetDeviceProperties(&p, device); pe != cudaSuccess)
        return {false, std::string("cannot read the CUDA device's properties (") + cudaGetErrorName(pe) + ")", ""};
    const std::string name = p.name;
    const std::string cc = std::to_string(p.major) + "." + std::to_string(p.minor);
    if (p.major * 10 + p.minor < 75)
        return {false, "GPU '" + name + "' has compute capability " + cc + "; this build needs 7.5 or newer", ""};
    if (cudaSetDevice(device) != cudaSuccess) return {false, "cannot select GPU '" + name + "'", ""};
    if (Status s = cuda::self_test(nullptr); !s) {
        const bool no_image = s.error().find("cudaErrorNoKernelImageForDevice") != std::string::npos ||
                              s.error().find("cudaErrorUnsupportedPtxVersion") != std::string::npos;
        if (no_image)
            return {false,
                    "this build has no GPU code for '" + name + "' (compute capability " + cc +
                        "); rebuild with FM_CUDA_ARCHITECTURES including " + std::to_string(p.major) +
                        std::to_string(p.minor),
                    ""};
        return {false, "GPU '" + name + "' failed a test kernel: " + s.error(), ""};
    }
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) return {false, "cannot read GPU '" + name + "' memory", ""};
    if (free_b < (size_t{1} << 30))
        return {false, "GPU '" + name + "' has only " + gigabytes(static_cast<int64_t>(free_b)) + " of memory free",
                ""};
    return {true, "", name};
}

Result<std::unique_ptr<Backend>> make_cuda_backend(std::shared_ptr<const ModelWeights> weights,
                                                   const CudaBackendOptions& options) {
    if (!weights) return Error{"no weights"};
    auto backend = std::make_unique<CudaBackend>(std::move(weights), options);
    if (Status s = backend->init(); !s) return Error{"CUDA backend: " + s.error()};
    return std::unique_ptr<Backend>(std::move(backend));
}

Result<std::unique_ptr<Backend>> make_cuda_backend(std::shared_ptr<const ModelWeights> weights) {
    return make_cuda_backend(std::move(weights), CudaBackendOptions{});
}

Result<std::vector<int32_t>> cuda_greedy_decode(Backend& backend, int32_t first, int64_t steps) {
    auto* cuda = dynamic_cast<CudaBackend*>(&backend);
    if (!cuda) return Error{"cuda_greedy_decode: not a CUDA backend"};
    return cuda->greedy(first, steps);
}

}  // namespace fm
