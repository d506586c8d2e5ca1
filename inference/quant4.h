#pragma once
// 4-bit weights: loading bitsandbytes checkpoints and quantizing 16/32-bit matrices on load.
// The in-memory format is Q4Data (kernels/common/matrix_view.h).

#include <cstdint>
#include <string>

#include "inference/result.h"
#include "inference/safetensors.h"
#include "inference/weights.h"

namespace fm {

class ThreadPool;

// Loads the bitsandbytes-quantized Linear weight `name` (e.g. "backbone.layers.0.mixer.in_proj.weight")
// whose logical shape is [rows, cols], with its absmax / quant_map / quant_state companions
// (REFERENCE.md §4). The packed codes stay in the mapping when possible; scales are fp32.
Result<MatrixView> load_bnb_linear(const TensorStore& store, const std::string& name, int64_t rows,
                                   int64_t cols, Q4Storage& storage);

// Quantizes a F32/F16/BF16 matrix to 4-bit codes with one scale per 64 consecutive weights.
Result<MatrixView> quantize_q4(const MatrixView& source, Q4Storage& storage, ThreadPool* pool);

}  // namespace fm
