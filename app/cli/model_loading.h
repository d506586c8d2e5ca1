#pragma once
// Loading a model for a CLI command from the common options:
//   --model DIR  [--4bit] [--backend auto|cpu|cuda] [--threads N]

#include <memory>
#include <ostream>
#include <set>
#include <string>

#include "app/cli/cli_args.h"
#include "inference/backends/backend.h"
#include "inference/checkpoint/weights.h"

namespace fm::cli {

inline const std::set<std::string> kModelFlags = {"--4bit"};
inline const std::set<std::string> kModelOptions = {"--model", "--backend", "--threads"};

struct LoadedModel {
    std::shared_ptr<ModelWeights> weights;
    std::unique_ptr<Backend> backend;
    double load_seconds = 0;
};

// Prints the reason to `err` when CUDA was wanted and the CPU took over.
Result<LoadedModel> load_model(const Args& args, std::ostream& err);

// Peak and current resident memory of this process, from /proc/self/status (bytes; -1 if unknown).
int64_t peak_resident_bytes();
int64_t current_resident_bytes();

}  // namespace fm::cli
