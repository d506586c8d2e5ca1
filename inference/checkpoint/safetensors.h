#pragma once
// Memory-mapped safetensors files: a single model.safetensors or the shards listed in
// model.safetensors.index.json. Every tensor's dtype, shape and byte range are checked against
// the file when it is opened; errors name the file and the tensor.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "inference/core/result.h"
#include "kernels/common/matrix_view.h"

namespace fm {

class MappedFile {
public:
    static Result<std::shared_ptr<MappedFile>> open(const std::filesystem::path& path);
    // Bytes already in memory, read like a mapped file called `path` (tests, fuzzing).
    static std::shared_ptr<MappedFile> from_bytes(std::vector<uint8_t> bytes, const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    uint64_t size() const { return size_; }
    const std::filesystem::path& path() const { return path_; }
    // Whether the bytes are a read-only file mapping (not from_bytes): only such pages may be
    // released (release_pages), heap pages never.
    bool mapped() const { return mapped_; }

private:
    MappedFile() = default;
    std::filesystem::path path_;
    const uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
    bool mapped_ = false;         // data_ is a mapping of size_ bytes (munmap'd on destruction)
    std::vector<uint8_t> owned_;  // from_bytes: the bytes themselves
};

// Memory residency, for honest accounting and for letting go of mapped pages that were read
// once (a matrix quantized on load): release_pages tells the kernel the bytes are not needed
// now (they are read from the file again if touched), resident_bytes counts the bytes of the
// range this process has in RAM (its resident set).
// Both work on whole pages around [data, data + bytes) and do nothing for null or empty ranges.
void release_pages(const void* data, uint64_t bytes);
uint64_t resident_bytes(const void* data, uint64_t bytes);

// A shape as the errors print it: "[2, 3]".
std::string shape_string(const std::vector<int64_t>& shape);

struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const uint8_t* data = nullptr;  // inside the mapping
    uint64_t byte_size = 0;
    std::shared_ptr<MappedFile> file;

    int64_t elements() const;
    std::string describe() const;  // "name (BF16 [2, 3]) in file"
    // Element i of an F32, F16 or BF16 tensor as fp32 (0 for other dtypes).
    float element_as_float(int64_t i) const;
};

class TensorStore {
public:
    // A folder with model.safetensors or model.safetensors.index.json, or one .safetensors file.
    static Result<TensorStore> open(const std::filesystem::path& checkpoint_dir);
    static Result<TensorStore> open_file(const std::filesystem::path& file);
    // A safetensors file's bytes, checked as open_file checks a file (tests, fuzzing).
    static Result<TensorStore> from_bytes(std::vector<uint8_t> bytes, const std::filesystem::path& name);
    // The shards of `dir` that the text of an index (read from `index_path`) lists: what open
    // does once it has read model.safetensors.index.json.
    static Result<TensorStore> open_index(std::string_view index_text, const std::filesystem::path& index_path,
                                          const std::filesystem::path& dir);

    const TensorInfo* find(const std::string& name) const;
    const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
    const std::vector<std::shared_ptr<MappedFile>>& files() const { return files_; }
    uint64_t total_bytes() const;

private:
    Status add_file(const std::filesystem::path& file, const std::vector<std::string>* expected);
    Status add_mapped(std::shared_ptr<MappedFile> file, const std::vector<std::string>* expected);
    std::map<std::string, TensorInfo> tensors_;
    std::vector<std::shared_ptr<MappedFile>> files_;
};

// Parses one file's header and checks it; exposed for tests.
Result<std::vector<TensorInfo>> parse_safetensors(std::shared_ptr<MappedFile> file);

}  // namespace fm
