#include <algorithm>
#include <thread>

#include "inference/backends/backend.h"
#include "inference/backends/mamba_block.h"
#include "inference/checkpoint/config.h"
#include "inference/checkpoint/weights.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/thread_pool.h"

namespace fm {
namespace {

// Activations of one prefill chunk; sized for the largest chunk seen, reused across calls, so
// peak memory depends on the chunk size and never on the prompt's length.
struct Workspace {
    std::vector<float> h, u, xz, dbc, dt, y, logits_in;
    int64_t capacity = 0;

    void reserve(const ModelConfig& c, int64_t T) {
        if (T <= capacity) return;
        const int64_t H = c.hidden_size, I = c.intermediate_size, R = c.time_step_rank, N = c.state_size;
        auto grow = [T](std::vector<float>& v, int64_t per_token) {
            v.assign(static_cast<size_t>(T * per_token), 0.0f);
        };
        grow(h, H);
        grow(u, H);
        grow(xz, 2 * I);
        grow(dbc, R + 2 * N);
        grow(dt, I);
        grow(y, I);
        grow(logits_in, H);
        capacity = T;
    }
    int64_t bytes() const {
        return static_cast<int64_t>(
            (h.size() + u.size() + xz.size() + dbc.size() + dt.size() + y.size() + logits_in.size()) * sizeof(float));
    }
};

// The model's steps on the CPU for one chunk of T tokens. Decode (T = 1) uses the single-token
// ops (the CPU twins of CUDA's fused decode kernels), prefill the chunk ops; both compute the
// same arithmetic, so a prompt gives the same state read whole, in chunks or token by token.
class CpuSteps final : public MambaSteps {
public:
    CpuSteps(const ModelWeights& w, RecurrentState& state, Workspace& ws, ThreadPool& pool, const int32_t* ids,
             int64_t T, float* logits)
        : w_(w), c_(w.config), state_(state), ws_(ws), pool_(&pool), ids_(ids), T_(T), logits_(logits) {
        ws_.reserve(c_, T);
    }

    Status embed() override {
        cpu::embedding(w_.embedding, ids_, T_, ws_.h.data(), c_.hidden_size);
        w_.release_embedding_rows(ids_, T_);  // memory stays flat however many tokens are seen
        return {};
    }

    Status norm_in_proj_conv(int64_t l) override {
        const LayerWeights& lw = layer(l);
        const int64_t H = c_.hidden_size, I = c_.intermediate_size, K = c_.conv_kernel;
        if (T_ == 1) {
            cpu::gemv_conv(lw.in_proj, ws_.h.data(), lw.norm.data(), c_.layer_norm_epsilon, ws_.xz.data(), I, K,
                           lw.conv_weight.data(), lw.conv_bias.data(), state_.conv_layer(l), pool_);
            return {};
        }
        cpu::rms_norm(ws_.h.data(), H, lw.norm.data(), T_, H, c_.layer_norm_epsilon, ws_.u.data(), H);
        cpu::matmul(lw.in_proj, ws_.u.data(), T_, H, ws_.xz.data(), 2 * I, false, pool_);
        ConvParams conv;
        conv.T = T_;
        conv.I = I;
        conv.K = K;
        conv.x = ws_.xz.data();  // x: the first half of each [x | z] row, in place
        conv.ldx = 2 * I;
        conv.out = ws_.xz.data();
        conv.ldo = 2 * I;
        conv.weight = lw.conv_weight.data();
        conv.bias = lw.conv_bias.data();
        conv.state = state_.conv_layer(l);
        cpu::conv1d_chunk(conv);
        return {};
    }

    Status x_proj(int64_t l) override {
        const int64_t I = c_.intermediate_size;
        cpu::matmul(layer(l).x_proj, ws_.xz.data(), T_, 2 * I, ws_.dbc.data(), dbc_ld(), false, pool_);
        return {};
    }

    Status dt_scan_gate(int64_t l) override {
        const LayerWeights& lw = layer(l);
        const int64_t I = c_.intermediate_size, N = c_.state_size, R = c_.time_step_rank, DBC = dbc_ld();
        float* xz = ws_.xz.data();
        float* dbc = ws_.dbc.data();
        if (T_ == 1) {
            DtScanStepParams p;
            p.dt_proj = lw.dt_proj;
            p.dbc = dbc;
            p.R = R;
            p.norms = c_.uses_bcdt_norms();
            p.eps = c_.mixer_rms_eps;
            p.step = {I,       N,      xz,          nullptr,     lw.dt_bias.data(),   nullptr,
                      nullptr, xz + I, lw.A.data(), lw.D.data(), state_.ssm_layer(l), ws_.y.data()};
            cpu::dt_ssm_step(p, pool_);
            return {};
        }
        if (c_.uses_bcdt_norms()) cpu::bcdt_rms_norm(dbc, DBC, T_, R, N, c_.mixer_rms_eps);
        // dt_raw = dt_proj(d); softplus(dt_raw + bias) happens inside the scan
        cpu::matmul(lw.dt_proj, dbc, T_, DBC, ws_.dt.data(), I, false, pool_);
        ScanParams scan;
        scan.T = T_;
        scan.I = I;
        scan.N = N;
        scan.x = xz;
        scan.ldx = 2 * I;
        scan.dt_raw = ws_.dt.data();
        scan.ldd = I;
        scan.B = dbc + R;
        scan.C = dbc + R + N;
        scan.ldbc = DBC;
        scan.z = xz + I;
        scan.ldz = 2 * I;
        scan.A = lw.A.data();
        scan.D = lw.D.data();
        scan.dt_bias = lw.dt_bias.data();
        scan.state = state_.ssm_layer(l);
        scan.y = ws_.y.data();
        scan.ldy = I;
        cpu::selective_scan(scan, pool_);
        return {};
    }

    Status out_proj_residual(int64_t l) override {
        const int64_t H = c_.hidden_size, I = c_.intermediate_size;
        cpu::matmul(layer(l).out_proj, ws_.y.data(), T_, I, ws_.h.data(), H, true, pool_);
        return {};
    }

    Status norm_lm_head(int64_t rows) override {
        const int64_t H = c_.hidden_size, V = c_.vocab_size;
        const float* last = ws_.h.data() + (T_ - rows) * H;
        if (rows == 1) {
            cpu::rms_gemv(w_.lm_head, last, w_.norm_f.data(), c_.layer_norm_epsilon, logits_, Epilogue::Store, nullptr,
                          pool_);
            return {};
        }
        cpu::rms_norm(last, H, w_.norm_f.data(), rows, H, c_.layer_norm_epsilon, ws_.logits_in.data(), H);
        cpu::matmul(w_.lm_head, ws_.logits_in.data(), rows, H, logits_, V, false, pool_);
        return {};
    }

private:
    const LayerWeights& layer(int64_t l) const { return w_.layers[static_cast<size_t>(l)]; }
    int64_t dbc_ld() const { return c_.time_step_rank + 2 * c_.state_size; }

    const ModelWeights& w_;
    const ModelConfig& c_;
    RecurrentState& state_;
    Workspace& ws_;
    ThreadPool* pool_;
    const int32_t* ids_;
    int64_t T_;
    float* logits_;
};

class CpuBackend final : public Backend {
public:
    CpuBackend(std::shared_ptr<const ModelWeights> weights, int threads)
        : weights_(std::move(weights)), pool_(threads), state_(RecurrentState::zeros(weights_->config)) {}

    std::string name() const override { return "cpu (" + std::to_string(pool_.size()) + " threads)"; }
    std::string numerics_id() const override { return "cpu-fp32-v1"; }
    const ModelConfig& config() const override { return weights_->config; }
    const ModelWeights& weights() const override { return *weights_; }

    void reset_state() override { state_.clear(); }
    RecurrentState state() const override { return state_; }
    Status set_state(const RecurrentState& s) override {
        if (!s.matches(weights_->config)) return Error{"the state's dimensions do not match this model"};
        state_ = s;
        return {};
    }

    Result<int64_t> forward(std::span<const int32_t> tokens, LogitsMode mode, std::vector<float>& logits,
                            const ForwardOptions& options) override {
        const ModelConfig& c = weights_->config;
        auto run = [&](const int32_t* ids, int64_t n, int64_t rows, float* out) {
            CpuSteps steps(*weights_, state_, ws_, pool_, ids, n, out);
            return run_mamba_forward(steps, c.num_layers, rows);
        };
        return forward_in_chunks(tokens, c.vocab_size, mode, logits, options, run,
                                 [this](int64_t n) { state_.tokens_seen += static_cast<uint64_t>(n); });
    }

    MemoryReport memory() const override {
        MemoryReport m;
        m.weight_bytes = weights_->weight_bytes();
        m.state_bytes = state_.bytes();
        m.workspace_bytes = ws_.bytes();
        return m;
    }

private:
    std::shared_ptr<const ModelWeights> weights_;
    ThreadPool pool_;
    RecurrentState state_;
    Workspace ws_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const ModelWeights> weights, int threads) {
    return std::make_unique<CpuBackend>(std::move(weights), threads);
}

}  // namespace fm
