#pragma once
// Loading a model for a CLI command from the common options:
//   --model DIR  [--4bit] [--backend auto|cpu|cuda] [--threads N]

#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>

#include "app/cli/cli_args.h"
#include "inference/model/model.h"

namespace fm::cli {

inline const std::set<std::string> kModelFlags = {"--4bit"};
inline const std::set<std::string> kModelOptions = {"--model", "--backend", "--threads"};

// The model named by --model, through Model::load. Prints the reason to `err` when CUDA was
// wanted and the CPU took over. `backend_override` replaces --backend (info needs no device).
Result<std::unique_ptr<Model>> load_model(const Args& args, std::ostream& err,
                                          TokenizerPolicy tokenizer = TokenizerPolicy::IfPresent,
                                          std::optional<BackendKind> backend_override = std::nullopt);

// Peak and current resident memory of this process, from /proc/self/status (bytes; -1 if unknown).
int64_t peak_resident_bytes();
int64_t current_resident_bytes();

}  // namespace fm::cli
