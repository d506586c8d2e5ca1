#pragma once
// Checkpoint -> weights. Large matrices stay in the memory-mapped files in their stored dtype
// (bf16 for 7B: no second copy in RAM); small per-channel vectors are converted to fp32 once.
// 4-bit matrices (bitsandbytes files or quantize-on-load) own their packed buffers.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "inference/checkpoint/config.h"
#include "inference/checkpoint/safetensors.h"
#include "inference/core/result.h"
#include "kernels/common/matrix_view.h"

namespace fm {

struct LayerWeights {
    std::vector<float> norm;         // [H]                block RMSNorm weight
    MatrixView in_proj;              // [2I, H]            rows 0..I-1 -> x, I..2I-1 -> z
    std::vector<float> conv_weight;  // [I, K]      conv1d.weight [I, 1, K] squeezed
    std::vector<float> conv_bias;    // [I]         zeros when the checkpoint has none
    MatrixView x_proj;               // [R+2N, I]          -> [dt_raw | B | C]
    MatrixView dt_proj;              // [I, R]
    std::vector<float> dt_bias;      // [I]
    std::vector<float> A;            // [I, N]      -exp(A_log), computed once at load
    std::vector<float> D;            // [I]
    MatrixView out_proj;             // [H, I]
};

enum class WeightFormat { Native, Q4 };

// Storage owned by 4-bit matrices (codes, scales, code books); see quant4.h.
struct Q4Storage {
    std::vector<uint8_t> codes;
    std::vector<float> scales;
    float codebook[16] = {};
};

struct ModelWeights {
    ModelConfig config;
    std::filesystem::path checkpoint_dir;
    WeightFormat format = WeightFormat::Native;
    DType stored_dtype = DType::F32;   // dtype of the unquantized matrices
    MatrixView embedding;              // [V, H]
    std::vector<LayerWeights> layers;  // [L]
    std::vector<float> norm_f;         // [H]
    MatrixView lm_head;                // [V, H] (the embedding when tied)

    // What keeps the views alive.
    TensorStore store;
    std::vector<std::unique_ptr<Q4Storage>> q4_storage;
    std::vector<std::unique_ptr<std::vector<uint8_t>>> owned_buffers;

    // Bytes the matrices and vectors take in memory (what a decode step reads, plus the embedding).
    int64_t weight_bytes() const;
    // Lets go of the mapped pages of these tokens' embedding rows once they have been read, so that
    // the resident set does not grow with the number of distinct tokens a session has seen
    // (pages of a table mapped from the file come back from it if needed). Does nothing for a
    // table on the heap (4-bit) or tied to lm_head.
    void release_embedding_rows(const int32_t* ids, int64_t n) const;
    bool embedding_rows_releasable = false;
    // Bytes of weights one decoded token reads: every matrix and vector except the embedding
    // table, of which one row (all of it when lm_head is tied to it).
    int64_t decode_read_bytes() const;
    // Bytes of weights in RAM now (mapped pages not yet read, or released, do not count).
    int64_t resident_bytes() const;
    // A short identity of the checkpoint (config + tensor sizes + file sizes/mtimes) for caches
    // and state snapshots.
    std::string fingerprint() const;
};

struct LoadOptions {
    // Quantize bf16/f16/f32 matrices to 4-bit on load (embeddings and lm_head stay as they are
    // unless quantize_embeddings is set).
    bool quantize_4bit = false;
    bool quantize_embeddings = false;
    // Called with (done, total) units of work; may be called from the loading thread only.
    std::function<void(int64_t, int64_t)> progress;
    const std::atomic<bool>* cancel = nullptr;
};

// Reads config.json, then the weights it describes.
Result<std::shared_ptr<ModelWeights>> load_weights(const std::filesystem::path& checkpoint_dir,
                                                   const LoadOptions& options = {});
// The weights of a checkpoint whose config.json the caller has parsed already.
Result<std::shared_ptr<ModelWeights>> load_weights(const std::filesystem::path& checkpoint_dir,
                                                   const ModelConfig& config, const LoadOptions& options = {});

}  // namespace fm
