#pragma once
// Entry points of the CUDA backend (inference/cuda_backend.cpp + kernels/cuda/), compiled only
// when the CUDA toolkit was found at configure time.

#include <memory>

#include "inference/backend.h"

namespace fm {

// Probes the driver and the device: returns why CUDA cannot run here, or the device name.
CudaAvailability probe_cuda();

// Uploads the weights once and allocates the state and workspace on the device.
Result<std::unique_ptr<Backend>> make_cuda_backend(std::shared_ptr<const ModelWeights> weights);

}  // namespace fm
