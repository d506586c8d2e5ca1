#pragma once
// 4-bit weights: loading bitsandbytes checkpoints and quantizing 16/32-bit matrices on load.
// The in-memory format is Q4Data (kernels/common/matrix_view.h): the matrix flattened row-major,
// two codes per byte (element 2k in the high nibble of byte k), one fp32 scale per `block`
// consecutive elements, and a 16-entry fp32 code book: w[i] = codebook[code(i)] * scales[i / block].
//
// bitsandbytes files (load_bnb_linear) keep their own layout: the packed codes are used in
// place in the memory-mapped file, their stored code book (fp4 or nf4) is copied, and their
// scales are turned into fp32 once (double-quantized scales are expanded at load).
//
// Quantize-on-load (quantize_q4) writes the same layout with
//   - block = 64 (kQ4Block): every Falcon Mamba matrix has a column count that is a multiple of
//     64, so blocks never straddle rows and the AVX2 kernel decodes them straight from the codes
//     (kernels/cpu/q4.h), 4.5 bits per weight (0.5 byte of code + 4/64 byte of scale);
//   - the NF4 code book (kNf4Codebook, bitsandbytes' normal-float table): the 16 quantiles of a
//     normal distribution, a better fit for trained weights than uniform or fp4 levels;
//   - a per-block scale chosen to minimise the block's squared error rather than plain absmax:
//     candidates ±m and ±0.9·m (m = the weight of largest magnitude, with its sign: the sign
//     picks which side of the asymmetric NF4 table gets the finer levels), then one
//     least-squares refit s = Σ w·q / Σ q² for the winner's codes; the smallest error wins.
//     On normally distributed weights this lowers the mean squared error by ~16 % against
//     absmax scaling, at the same size and kernel speed (docs/quantization.md).
// The scale search runs vectorized (AVX2 when available) and in parallel over blocks; the
// result never depends on the number of threads.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "inference/checkpoint/safetensors.h"
#include "inference/checkpoint/weights.h"
#include "inference/core/result.h"

namespace fm {

class ThreadPool;

// Block size of quantize-on-load.
inline constexpr int32_t kQ4Block = 64;
// bitsandbytes' NF4 code book, ascending.
extern const float kNf4Codebook[16];
// bitsandbytes' fp4 table, in its own (unsorted) order, with a negative zero at code 8.
extern const float kFp4Codebook[16];

// Loads the bitsandbytes-quantized Linear weight `name` (e.g. "backbone.layers.0.mixer.in_proj.weight")
// whose logical shape is [rows, cols], with its absmax / quant_map / quant_state companions
// (docs/model.md, 4-bit weights). The packed codes stay in the mapping (the store must outlive the view);
// scales are fp32 in `storage`. Every inconsistency (missing or garbled quant state, unknown
// quant type, bad blocksize, shape disagreeing with [rows, cols], short codes or absmax, wrong
// code book, missing double-quantization tensors, non-finite scales) is an error naming the
// tensor and the file.
Result<MatrixView> load_bnb_linear(const TensorStore& store, const std::string& name, int64_t rows, int64_t cols,
                                   Q4Storage& storage);

// Quantizes a F32/F16/BF16 matrix to 4-bit codes with one scale per 64 consecutive weights, in
// the format above. Multi-threaded over blocks when pool is given. `name` only labels errors
// (a non-finite weight, an unsupported dtype).
Result<MatrixView> quantize_q4(const MatrixView& source, Q4Storage& storage, ThreadPool* pool,
                               const std::string& name = {});

// Quantize-on-load with a disk cache. Quantizing 7B takes seconds of CPU; the result is kept in
// `cache_dir` (an app data folder, never inside the checkpoint folder: that is an error) as one
// safetensors file per checkpoint, named after the checkpoint's fingerprint (config, file
// names, sizes and modification times: ModelWeights::fingerprint() of the unquantized load),
// the quantizer version and whether the embeddings are quantized. A valid file is loaded
// instead of quantizing (its codes and scales are copied into memory); a missing, stale or
// broken one is (re)written after quantizing, and older files of the same checkpoint are
// removed. A cache that cannot be written never fails the load: `note` says why.
// Without options.quantize_4bit, or for a bitsandbytes checkpoint (already 4-bit), this is
// load_weights(checkpoint_dir, options).
struct Q4CachedLoad {
    std::shared_ptr<ModelWeights> weights;
    bool from_cache = false;
    std::filesystem::path cache_file;  // empty when no cache applies
    std::string note;                  // what happened with the cache, for logs
};
Result<Q4CachedLoad> load_weights_q4_cached(const std::filesystem::path& checkpoint_dir, const LoadOptions& options,
                                            const std::filesystem::path& cache_dir);

}  // namespace fm
