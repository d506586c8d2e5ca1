#pragma once
// GPU correctness checks shared by the Qt tests (tests/gpu/test_cuda_*.cpp) and the Qt-free
// gpu_selfcheck tool: every CUDA kernel against its CPU twin, and the whole CUDA backend against
// the CPU backend on the fixture checkpoints. Each check is a named case whose run() returns an
// Outcome (never throws, never aborts).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fm::gpucheck {

struct Outcome {
    bool pass = false;
    double max_abs_err = 0.0;  // over the compared values
    std::string detail;        // what was compared; on failure, the worst element
};

struct Case {
    std::string name;
    std::function<Outcome()> run;
};

// True when a CUDA device can run kernels; otherwise `why` says what is missing.
bool have_device(std::string* why);

// Every kernel against its CPU twin, at odd and 7B-like shapes.
std::vector<Case> kernel_cases();

// The CUDA backend against the CPU backend on the fixture checkpoints under data_dir
// (tests/data): logits, chunking, graphs, state round trips.
std::vector<Case> backend_cases(const std::string& data_dir);

// |got - ref| <= atol + rtol * |ref| for every element (NaN only matches NaN).
Outcome compare(const std::vector<float>& got, const std::vector<float>& ref, double atol, double rtol,
                const std::string& what);

// Runs a case body, turning exceptions into a failed Outcome.
Outcome guarded(const std::function<Outcome()>& body);

}  // namespace fm::gpucheck
