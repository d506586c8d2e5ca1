#pragma once
// The compute backend interface: one model on one device, with the recurrent state of one
// sequence kept where the compute happens (host memory for the CPU, device memory for CUDA).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "inference/backends/state.h"
#include "inference/core/result.h"

namespace fm {

struct ModelConfig;
struct ModelWeights;

enum class LogitsMode { None, Last, All };

struct ForwardOptions {
    int64_t chunk_size = 256;  // prefill chunk: bounds activation memory, any value gives the same result
    const std::atomic<bool>* cancel = nullptr;                  // checked between chunks
    std::function<void(int64_t done, int64_t total)> progress;  // after each chunk
};

struct MemoryReport {
    int64_t weight_bytes = 0;
    int64_t state_bytes = 0;
    int64_t workspace_bytes = 0;
    int64_t device_free_bytes = -1;  // -1: not a device backend
    int64_t device_total_bytes = -1;
};

class Backend {
public:
    virtual ~Backend() = default;

    virtual std::string name() const = 0;  // "cpu (8 threads)", "cuda (NVIDIA H200)"
    // Identifies the numerics (backend + precision) for state-snapshot fingerprints: states
    // produced by different numerics are not interchangeable bit for bit.
    virtual std::string numerics_id() const = 0;
    virtual const ModelConfig& config() const = 0;
    virtual const ModelWeights& weights() const = 0;

    virtual void reset_state() = 0;
    virtual RecurrentState state() const = 0;
    virtual Status set_state(const RecurrentState& state) = 0;

    // Runs tokens through the model from the current state, in chunks, updating the state.
    // logits receives V floats (Last) or T*V floats (All, row t after token t). Returns the
    // number of tokens consumed: all of them, or fewer when cancelled between chunks.
    virtual Result<int64_t> forward(std::span<const int32_t> tokens, LogitsMode mode, std::vector<float>& logits,
                                    const ForwardOptions& options = {}) = 0;

    virtual MemoryReport memory() const = 0;
};

// One chunk of a forward pass: `n` tokens at `ids`, whose last `logit_rows` rows of logits
// (0, 1 or n) go to `out`.
using ChunkRunner = std::function<Status(const int32_t* ids, int64_t n, int64_t logit_rows, float* out)>;

// The chunk loop every backend's forward() shares: checks that every id is in the vocabulary
// (the error names the first that is not and its position), sizes `logits` for `mode`, runs
// chunks of options.chunk_size, stops between chunks when cancelled and reports progress.
// `on_chunk_done(n)` lets the backend count the tokens its state has read. Returns the number
// of tokens consumed.
Result<int64_t> forward_in_chunks(std::span<const int32_t> tokens, int64_t vocab_size, LogitsMode mode,
                                  std::vector<float>& logits, const ForwardOptions& options, const ChunkRunner& run,
                                  const std::function<void(int64_t n)>& on_chunk_done);

enum class BackendKind { Auto, Cpu, Cuda };

struct BackendRequest {
    BackendKind kind = BackendKind::Auto;
    bool allow_cpu_fallback = true;  // when CUDA was asked for (or Auto) and cannot run
    int cpu_threads = 0;             // 0: all cores
};

struct BackendChoice {
    std::unique_ptr<Backend> backend;
    std::string fallback_reason;  // non-empty when CUDA was wanted and the CPU took over: why
};

// Availability of the CUDA backend on this machine, with the reason when it is not.
struct CudaAvailability {
    bool available = false;
    std::string reason;       // why not: not built with CUDA, no driver, no device, ...
    std::string device_name;  // when available
};
CudaAvailability cuda_availability();

Result<BackendChoice> create_backend(std::shared_ptr<const ModelWeights> weights, const BackendRequest& request);

std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const ModelWeights> weights, int threads);

}  // namespace fm
