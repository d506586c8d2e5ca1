#include <algorithm>
#include <thread>

#include "inference/backends/backend.h"
#include "inference/checkpoint/config.h"
#include "inference/checkpoint/weights.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/thread_pool.h"

namespace fm {
namespace {

// Activations of one prefill chunk; sized for the largest chunk seen, reused across calls, so
// peak memory depends on the chunk size and never on the prompt's length.
struct Workspace {
    std::vector<float> h, u, xz, dbc, dt, y, o, logits_in;
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
        grow(o, H);
        grow(logits_in, H);
        capacity = T;
    }
    int64_t bytes() const {
        return static_cast<int64_t>(
            (h.size() + u.size() + xz.size() + dbc.size() + dt.size() + y.size() + o.size() + logits_in.size()) *
            sizeof(float));
    }
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
        const int64_t T = static_cast<int64_t>(tokens.size()), V = c.vocab_size;
        if (auto s = check_tokens_and_size_logits(tokens, V, mode, logits); !s) return Error{s.error()};
        const int64_t chunk = std::max<int64_t>(1, options.chunk_size);
        int64_t done = 0;
        while (done < T) {
            if (options.cancel && options.cancel->load()) break;
            const int64_t n = std::min(chunk, T - done);
            const bool want = mode == LogitsMode::All || (mode == LogitsMode::Last && done + n == T);
            float* out = mode == LogitsMode::All ? logits.data() + done * V : logits.data();
            run_chunk(tokens.data() + done, n, want ? (mode == LogitsMode::All ? n : 1) : 0, out);
            done += n;
            state_.tokens_seen += static_cast<uint64_t>(n);
            if (options.progress) options.progress(done, T);
        }
        return done;
    }

    MemoryReport memory() const override {
        MemoryReport m;
        m.weight_bytes = weights_->weight_bytes();
        m.state_bytes = state_.bytes();
        m.workspace_bytes = ws_.bytes();
        return m;
    }

private:
    // One chunk of T tokens through every layer (REFERENCE.md §2). `logit_rows` = how many of
    // the last positions need logits (0, 1 or T).
    void run_chunk(const int32_t* ids, int64_t T, int64_t logit_rows, float* logits) {
        const ModelWeights& w = *weights_;
        const ModelConfig& c = w.config;
        const int64_t H = c.hidden_size, I = c.intermediate_size, N = c.state_size, R = c.time_step_rank,
                      K = c.conv_kernel, DBC = R + 2 * N;
        ws_.reserve(c, T);
        float* h = ws_.h.data();
        cpu::embedding(w.embedding, ids, T, h);
        for (int64_t l = 0; l < c.num_layers; ++l) {
            const LayerWeights& lw = w.layers[static_cast<size_t>(l)];
            float* u = ws_.u.data();
            float* xz = ws_.xz.data();
            float* x = xz;      // [T, I] at row stride 2I
            float* z = xz + I;  // [T, I] at row stride 2I
            float* dbc = ws_.dbc.data();
            // u = rms(h, layer_norm_epsilon) * norm.weight
            cpu::rms_norm(h, H, lw.norm.data(), T, H, c.layer_norm_epsilon, u, H);
            // [x, z] = in_proj(u)
            cpu::matmul(lw.in_proj, u, T, H, xz, 2 * I, &pool_);
            // x = silu(conv_t(x) + conv1d.bias), carrying conv_state
            cpu::conv1d_chunk(x, T, 2 * I, I, K, lw.conv_weight.data(), lw.conv_bias.data(), state_.conv_layer(l));
            // [d, B, C] = x_proj(x)
            cpu::matmul(lw.x_proj, x, T, 2 * I, dbc, DBC, &pool_);
            float* d = dbc;
            float* B = dbc + R;
            float* Cm = dbc + R + N;
            if (c.uses_bcdt_norms()) {
                // B = rms(B), C = rms(C), d = rms(d), weightless, mixer_rms_eps (Falcon Mamba only)
                cpu::rms_norm(B, DBC, nullptr, T, N, c.mixer_rms_eps, B, DBC);
                cpu::rms_norm(Cm, DBC, nullptr, T, N, c.mixer_rms_eps, Cm, DBC);
                cpu::rms_norm(d, DBC, nullptr, T, R, c.mixer_rms_eps, d, DBC);
            }
            // dt_raw = dt_proj(d); softplus(dt_raw + bias) happens inside the scan
            cpu::matmul(lw.dt_proj, d, T, DBC, ws_.dt.data(), I, &pool_);
            // s = exp(dt*A)*s + dt*B*x; y = C.s + D*x; y *= silu(z)
            cpu::selective_scan(x, 2 * I, ws_.dt.data(), I, B, Cm, DBC, z, 2 * I, lw.A.data(), lw.D.data(),
                                lw.dt_bias.data(), state_.ssm_layer(l), ws_.y.data(), I, T, I, N, &pool_);
            // h = h + out_proj(y)
            cpu::matmul(lw.out_proj, ws_.y.data(), T, I, ws_.o.data(), H, &pool_);
            for (int64_t i = 0; i < T * H; ++i) h[i] += ws_.o[static_cast<size_t>(i)];
        }
        if (logit_rows == 0) return;
        // logits = lm_head(rms(h, layer_norm_epsilon) * norm_f.weight), for the rows asked for
        const float* last = h + (T - logit_rows) * H;
        cpu::rms_norm(last, H, w.norm_f.data(), logit_rows, H, c.layer_norm_epsilon, ws_.logits_in.data(), H);
        cpu::matmul(w.lm_head, ws_.logits_in.data(), logit_rows, H, logits, c.vocab_size, &pool_);
    }

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
