#pragma once
// Entry points of the CUDA backend (inference/cuda_backend.cpp + kernels/cuda/), compiled only
// when the CUDA toolkit was found at configure time.

#include <cstdint>
#include <memory>
#include <vector>

#include "inference/backends/backend.h"

namespace fm {

// Probes the driver and the device: returns why CUDA cannot run here, or the device name.
// The device is FM_CUDA_DEVICE (an index) when that variable is set, else device 0.
CudaAvailability probe_cuda();

struct CudaBackendOptions {
    // Capture the single-token decode step once in a CUDA graph and replay it per token.
    bool use_graph = true;
    // Programmatic dependent launch between the decode kernels (compute capability 9.0+ only).
    bool pdl = true;
    // Prefill products with the activations split into two bf16 halves (two tensor-core
    // products, ~fp32 activations) instead of one bf16 rounding: slower, closer to the CPU.
    bool precise_prefill = false;
};

// Uploads the weights once and allocates the state and workspace on the device.
Result<std::unique_ptr<Backend>> make_cuda_backend(std::shared_ptr<const ModelWeights> weights);
Result<std::unique_ptr<Backend>> make_cuda_backend(std::shared_ptr<const ModelWeights> weights,
                                                   const CudaBackendOptions& options);

// Greedy decoding entirely on the device, for benchmarks: feeds `first`, then each step's
// argmax, for `steps` steps (graph replays, no logits copied to the host). Returns the ids
// produced (steps of them). Fails when `backend` is not a CUDA backend.
Result<std::vector<int32_t>> cuda_greedy_decode(Backend& backend, int32_t first, int64_t steps);

}  // namespace fm
