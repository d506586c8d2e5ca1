#include <algorithm>
#include "inference/backends/backend.h"
#include "inference/checkpoint/weights.h"

#if defined(FM_HAVE_CUDA)
#include "inference/backends/cuda_backend.h"
#endif

namespace fm {

Result<int64_t> forward_in_chunks(std::span<const int32_t> tokens, int64_t vocab_size, LogitsMode mode,
                                  std::vector<float>& logits, const ForwardOptions& options, const ChunkRunner& run,
                                  const std::function<void(int64_t n)>& on_chunk_done) {
    const int64_t T = static_cast<int64_t>(tokens.size()), V = vocab_size;
    for (int64_t t = 0; t < T; ++t)
        if (tokens[t] < 0 || tokens[t] >= V)
            return Error{"token id " + std::to_string(tokens[t]) + " at position " + std::to_string(t) +
                         " is outside the vocabulary (size " + std::to_string(V) + ")"};
    if (mode == LogitsMode::All)
        logits.assign(static_cast<size_t>(T * V), 0.0f);
    else if (mode == LogitsMode::Last)
        logits.assign(static_cast<size_t>(V), 0.0f);
    const int64_t chunk = std::max<int64_t>(1, options.chunk_size);
    int64_t done = 0;
    while (done < T) {
        if (options.cancel && options.cancel->load()) break;
        const int64_t n = std::min(chunk, T - done);
        const bool want = mode == LogitsMode::All || (mode == LogitsMode::Last && done + n == T);
        float* out = mode == LogitsMode::All ? logits.data() + done * V : logits.data();
        const int64_t rows = want ? (mode == LogitsMode::All ? n : 1) : 0;
        if (Status s = run(tokens.data() + done, n, rows, out); !s) return Error{s.error()};
        done += n;
        on_chunk_done(n);
        if (options.progress) options.progress(done, T);
    }
    return done;
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
