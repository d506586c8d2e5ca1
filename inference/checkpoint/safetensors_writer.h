#pragma once
// Writing safetensors files: for the checkpoint generator, the 4-bit cache and tests that need
// malformed or synthetic checkpoints. Data is produced tensor by tensor through a callback, so a
// 14 GB checkpoint is written without holding it in memory.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "inference/core/result.h"
#include "kernels/common/matrix_view.h"

namespace fm {

struct TensorToWrite {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    // Fills dst with bytes [offset, offset + size) of the tensor's data.
    std::function<void(uint8_t* dst, uint64_t offset, uint64_t size)> fill;

    uint64_t byte_size() const;
    static TensorToWrite from_bytes(std::string name, DType dtype, std::vector<int64_t> shape,
                                    std::vector<uint8_t> bytes);
    static TensorToWrite from_floats(std::string name, std::vector<int64_t> shape, const std::vector<float>& values,
                                     DType dtype = DType::F32);
};

// The whole file in memory, for small synthetic checkpoints (tests, fuzzing): the same bytes
// write_safetensors writes.
std::vector<uint8_t> safetensors_bytes(const std::vector<TensorToWrite>& tensors,
                                       const std::map<std::string, std::string>& metadata = {});

// Writes to `path.tmp`, then renames over `path`, so a failed write never leaves a half file.
Status write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

}  // namespace fm
