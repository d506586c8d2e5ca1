#include "inference/backend.h"
#include "inference/weights.h"

#if defined(FM_HAVE_CUDA)
#include "inference/cuda_backend.h"
#endif

namespace fm {

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
