#include "inference/backends/backend.h"
#include "inference/checkpoint/weights.h"

#if defined(FM_HAVE_CUDA)
#include "inference/backends/cuda_backend.h"
#endif

namespace fm {

Status check_tokens_and_size_logits(std::span<const int32_t> tokens, int64_t vocab_size, LogitsMode mode,
                                    std::vector<float>& logits) {
    const int64_t T = static_cast<int64_t>(tokens.size());
    for (int64_t t = 0; t < T; ++t)
        if (tokens[t] < 0 || tokens[t] >= vocab_size)
            return Error{"token id " + std::to_string(tokens[t]) + " at position " + std::to_string(t) +
                         " is outside the vocabulary (size " + std::to_string(vocab_size) + ")"};
    if (mode == LogitsMode::All)
        logits.assign(static_cast<size_t>(T * vocab_size), 0.0f);
    else if (mode == LogitsMode::Last)
        logits.assign(static_cast<size_t>(vocab_size), 0.0f);
    return {};
}

CudaAvailability cuda_availability() {
#if defined(FM_HAVE_CUDA)
    return probe_cuda();
#else
    return {false, "this build has no CUDA support (no CUDA toolkit was found when it was compiled)", ""};
#endif
}

Result<BackendChoice> create_backend(std::shared_ptr<const ModelWeights> weights, const BackendRequest& request) {
    BackendChoice choice;
    if (request.kind == BackendKind::Cpu) {
        choice.backend = make_cpu_backend(std::move(weights), request.cpu_threads);
        return choice;
    }
    std::string reason;
    CudaAvailability cuda = cuda_availability();
    if (cuda.available) {
#if defined(FM_HAVE_CUDA)
        auto gpu = make_cuda_backend(weights);
        if (gpu) {
            choice.backend = std::move(*gpu);
            return choice;
        }
        reason = gpu.error();
#endif
    } else {
        reason = cuda.reason;
    }
    if (request.kind == BackendKind::Cuda && !request.allow_cpu_fallback)
        return Error{"CUDA backend unavailable: " + reason};
    choice.backend = make_cpu_backend(std::move(weights), request.cpu_threads);
    choice.fallback_reason = reason;
    return choice;
}

}  // namespace fm
