#pragma once
// Writes random Falcon Mamba (or Mamba-1) checkpoints of any shape in Hugging Face layout:
// config.json plus model.safetensors, or shards with model.safetensors.index.json. The values
// are drawn so that the forward pass stays numerically tame at any size (fan-in scaled weights,
// A_log = log(1..N), dt bias from dt in [1e-3, 1e-1] as Mamba initialises it).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "inference/core/result.h"
#include "kernels/common/matrix_view.h"

namespace fm::testing {

struct CheckpointSpec {
    int64_t hidden = 64;
    int64_t intermediate = 128;
    int64_t state = 16;
    int64_t dt_rank = 4;
    int64_t conv = 4;
    int64_t layers = 2;
    int64_t vocab = 512;
    DType dtype = DType::BF16;  // BF16, F16 or F32
    int shards = 1;
    uint64_t seed = 1;
    std::string model_type = "falcon_mamba";
    // "fp4" or "nf4": write the four mixer matrices as bitsandbytes serializes a 4-bit model
    // (packed codes, fp32 absmax per block of 64, the code book, the quant-state JSON; no double
    // quantization), quantized from the bf16-rounded weights; "" writes them in `dtype`.
    std::string bnb_quant_type;
};

Status write_random_checkpoint(const std::filesystem::path& dir, const CheckpointSpec& spec);

// Falcon Mamba 7B's shapes (docs/model.md, Shapes).
CheckpointSpec falcon_mamba_7b_spec();
// The CPU benchmarks' default: 7B scaled down to 1024 wide and 8 layers (vocab left at 512).
CheckpointSpec bench_spec();

// The command-line options make_checkpoint and the benchmarks share: if `option` is one of
// --hidden, --intermediate, --state, --dt-rank, --conv, --layers, --vocab or --seed, sets that
// field to value() and returns true; otherwise returns false without calling value().
bool set_shape_option(CheckpointSpec& spec, const std::string& option, const std::function<int64_t()>& value);

}  // namespace fm::testing
