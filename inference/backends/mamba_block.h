#pragma once
// The Falcon Mamba forward pass, written once (docs/model.md gives the math). A backend says
// how to do each step on its device; run_mamba_forward says in which order the steps run and
// what feeds what. Prefill chunks and single-token decode, on the CPU and on CUDA, all go
// through it: a change to the model's structure is made here and nowhere else.
//
// The steps are cut where a backend may fuse: CUDA's decode does each step in one kernel
// (norm + in_proj + conv step; x_proj; norms + dt_proj + scan step + gate; out_proj + residual;
// norm_f + lm_head), its prefill and the CPU in a few ops each.

#include <cstdint>

#include "inference/core/result.h"

namespace fm {

// One forward pass over T tokens (T fixed by the implementation before the call).
// Buffers, by name: h [T, H] residual stream; x, z [T, I] (in_proj's two halves); dbc [T, R+2N]
// x_proj's output (d | B | C); y [T, I] the mixer's gated output.
class MambaSteps {
public:
    virtual ~MambaSteps() = default;
    // h = embedding[ids]
    virtual Status embed() = 0;
    // u = rms(h, layer_norm_epsilon) * norm.weight; [x, z] = in_proj(u);
    // x = silu(conv(x) + conv1d.bias), carrying the layer's conv state
    virtual Status norm_in_proj_conv(int64_t layer) = 0;
    // [d, B, C] = x_proj(x)
    virtual Status x_proj(int64_t layer) = 0;
    // d, B, C = rms(., mixer_rms_eps) (Falcon Mamba only); dt = softplus(dt_proj(d) + dt_bias);
    // s = exp(dt*A)*s + dt*B*x; y = (C.s + D*x) * silu(z), carrying the layer's ssm state
    virtual Status dt_scan_gate(int64_t layer) = 0;
    // h = h + out_proj(y)
    virtual Status out_proj_residual(int64_t layer) = 0;
    // logits = lm_head(rms(h, layer_norm_epsilon) * norm_f.weight) for the last `rows` tokens
    virtual Status norm_lm_head(int64_t rows) = 0;
};

// Runs every layer, then the head when logit_rows > 0 (0, 1 or T rows).
inline Status run_mamba_forward(MambaSteps& steps, int64_t num_layers, int64_t logit_rows) {
    if (Status s = steps.embed(); !s) return s;
    for (int64_t l = 0; l < num_layers; ++l) {
        if (Status s = steps.norm_in_proj_conv(l); !s) return s;
        if (Status s = steps.x_proj(l); !s) return s;
        if (Status s = steps.dt_scan_gate(l); !s) return s;
        if (Status s = steps.out_proj_residual(l); !s) return s;
    }
    if (logit_rows == 0) return {};
    return steps.norm_lm_head(logit_rows);
}

}  // namespace fm
