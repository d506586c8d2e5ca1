#include "inference/checkpoint/safetensors.h"

#include <fcntl.h>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "inference/core/guarded.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "inference/core/json_reader.h"
#include "kernels/common/numerics.h"

namespace fm {
namespace {

using json = nlohmann::json;

bool parse_dtype(const std::string& name, DType& out) {
    if (name == "F32")
        out = DType::F32;
    else if (name == "F16")
        out = DType::F16;
    else if (name == "BF16")
        out = DType::BF16;
    else if (name == "U8")
        out = DType::U8;
    else
        return false;
    return true;
}

}  // namespace

std::string shape_string(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

Result<std::shared_ptr<MappedFile>> MappedFile::open(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error{path.string() + ": cannot open: " + std::strerror(errno)};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return Error{path.string() + ": not a regular file"};
    }
    std::shared_ptr<MappedFile> file(new MappedFile());
    file->path_ = path;
    file->size_ = static_cast<uint64_t>(st.st_size);
    if (file->size_ > 0) {
        void* p = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            ::close(fd);
            return Error{path.string() + ": cannot map into memory: " + std::strerror(errno)};
        }
        file->data_ = static_cast<const uint8_t*>(p);
        file->mapped_ = true;
    }
    ::close(fd);  // the mapping keeps the file alive
    return file;
}

std::shared_ptr<MappedFile> MappedFile::from_bytes(std::vector<uint8_t> bytes, const std::filesystem::path& path) {
    std::shared_ptr<MappedFile> file(new MappedFile());
    file->path_ = path;
    file->owned_ = std::move(bytes);
    file->size_ = file->owned_.size();
    file->data_ = file->owned_.data();
    return file;
}

MappedFile::~MappedFile() {
    if (data_ && mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

float TensorInfo::element_as_float(int64_t i) const {
    switch (dtype) {
    case DType::F32: {
        float v;
        std::memcpy(&v, data + i * 4, 4);
        return v;
    }
    case DType::F16: {
        uint16_t h;
        std::memcpy(&h, data + i * 2, 2);
        return num::f16_to_float(h);
    }
    case DType::BF16: {
        uint16_t h;
        std::memcpy(&h, data + i * 2, 2);
        return num::bf16_to_float(h);
    }
    default: return 0.0f;
    }
}

int64_t TensorInfo::elements() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

std::string TensorInfo::describe() const {
    return "tensor '" + name + "' (" + dtype_name(dtype) + " " + shape_string(shape) + ") in " +
           (file ? file->path().filename().string() : std::string("?"));
}

Result<std::vector<TensorInfo>> parse_safetensors(std::shared_ptr<MappedFile> file) {
    const std::string where = file->path().string();
    if (file->size() < 8)
        return Error{where + ": too short to be a safetensors file (" + std::to_string(file->size()) + " bytes)"};
    uint64_t header_size = 0;
    for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | file->data()[i];
    if (header_size > file->size() - 8)
        return Error{where + ": header length " + std::to_string(header_size) + " runs past the end of the file (" +
                     std::to_string(file->size()) + " bytes): truncated or not a safetensors file"};
    if (header_size > (100u << 20))
        return Error{where + ": header of " + std::to_string(header_size) + " bytes is implausibly large"};

    const char* header_begin = reinterpret_cast<const char*>(file->data() + 8);
    auto parsed_header = parse_json(std::string_view(header_begin, header_size), where + ": header");
    if (!parsed_header) return Error{parsed_header.error() + ": not a safetensors file"};
    json header = std::move(*parsed_header);
    if (!header.is_object()) return Error{where + ": header is not a JSON object: not a safetensors file"};

    const uint64_t data_start = 8 + header_size;
    const uint64_t data_size = file->size() - data_start;
    std::vector<TensorInfo> tensors;
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == "__metadata__") continue;
        const json& t = it.value();
        TensorInfo info;
        info.name = it.key();
        info.file = file;
        const std::string ctx = where + ": tensor '" + info.name + "'";
        if (!t.is_object()) return Error{ctx + ": entry is not an object"};
        auto dtype = t.find("dtype");
        if (dtype == t.end() || !dtype->is_string()) return Error{ctx + ": missing dtype"};
        if (!parse_dtype(dtype->get<std::string>(), info.dtype))
            return Error{ctx + ": unsupported dtype " + dtype->get<std::string>() + " (supported: F32, F16, BF16, U8)"};
        auto shape = t.find("shape");
        if (shape == t.end() || !shape->is_array()) return Error{ctx + ": missing shape"};
        int64_t elements = 1;
        for (const auto& d : *shape) {
            if (!d.is_number_integer() || d.get<int64_t>() < 0)
                return Error{ctx + ": shape has a negative or non-integer dimension"};
            int64_t dim = d.get<int64_t>();
            if (dim > 0 && elements > (int64_t{1} << 48) / dim) return Error{ctx + ": shape is implausibly large"};
            elements *= dim;
            info.shape.push_back(dim);
        }
        auto offsets = t.find("data_offsets");
        if (offsets == t.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
            !(*offsets)[1].is_number_unsigned())
            return Error{ctx + ": data_offsets must be two non-negative integers"};
        uint64_t begin = (*offsets)[0].get<uint64_t>(), end = (*offsets)[1].get<uint64_t>();
        if (begin > end)
            return Error{ctx + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                         "] are reversed"};
        if (end > data_size)
            return Error{ctx + ": data [" + std::to_string(begin) + ", " + std::to_string(end) +
                         ") runs past the end of the file (" + std::to_string(data_size) +
                         " data bytes): the file is truncated or its header is wrong"};
        const uint64_t expected = static_cast<uint64_t>(elements) * dtype_size_bits(info.dtype) / 8;
        if (end - begin != expected)
            return Error{ctx + ": holds " + std::to_string(end - begin) + " bytes but " + dtype_name(info.dtype) + " " +
                         shape_string(info.shape) + " needs " + std::to_string(expected)};
        info.data = file->data() + data_start + begin;
        info.byte_size = end - begin;
        tensors.push_back(std::move(info));
    }
    // Tensors must not share bytes: a lying header could alias one tensor onto another.
    std::vector<const TensorInfo*> by_offset;
    for (const auto& t : tensors) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->data < b->data; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
        const TensorInfo* prev = by_offset[i - 1];
        if (prev->byte_size > 0 && by_offset[i]->byte_size > 0 && prev->data + prev->byte_size > by_offset[i]->data)
            return Error{where + ": tensors '" + prev->name + "' and '" + by_offset[i]->name + "' overlap in the file"};
    }
    return tensors;
}

Status TensorStore::add_file(const std::filesystem::path& path, const std::vector<std::string>* expected) {
    auto file = MappedFile::open(path);
    if (!file) return Error{file.error()};
    return add_mapped(std::move(*file), expected);
}

Status TensorStore::add_mapped(std::shared_ptr<MappedFile> file, const std::vector<std::string>* expected) {
    const std::filesystem::path path = file->path();
    auto parsed = parse_safetensors(file);
    if (!parsed) return Error{parsed.error()};
    std::set<std::string> present;
    for (auto& t : *parsed) {
        present.insert(t.name);
        if (tensors_.count(t.name))
            return Error{path.string() + ": tensor '" + t.name + "' appears in more than one shard"};
        tensors_.emplace(t.name, std::move(t));
    }
    if (expected)
        for (const auto& name : *expected)
            if (!present.count(name))
                return Error{path.string() + ": the index says it holds tensor '" + name + "', but it does not"};
    files_.push_back(std::move(file));
    return {};
}

Result<TensorStore> TensorStore::from_bytes(std::vector<uint8_t> bytes, const std::filesystem::path& name) {
    return guarded<Result<TensorStore>>(name.string(), [&]() -> Result<TensorStore> {
        TensorStore store;
        if (auto s = store.add_mapped(MappedFile::from_bytes(std::move(bytes), name), nullptr); !s)
            return Error{s.error()};
        return store;
    });
}

Result<TensorStore> TensorStore::open_file(const std::filesystem::path& file) {
    TensorStore store;
    if (auto s = store.add_file(file, nullptr); !s) return Error{s.error()};
    return store;
}

Result<TensorStore> TensorStore::open(const std::filesystem::path& dir) {
    return guarded<Result<TensorStore>>(dir.string(), [&]() -> Result<TensorStore> {
        std::error_code ec;
        if (std::filesystem::is_regular_file(dir, ec)) return open_file(dir);
        const auto single = dir / "model.safetensors";
        const auto index_path = dir / "model.safetensors.index.json";
        if (std::filesystem::exists(index_path, ec)) {
            std::ifstream in(index_path, std::ios::binary);
            std::stringstream buffer;
            buffer << in.rdbuf();
            return open_index(buffer.str(), index_path, dir);
        }
        if (std::filesystem::exists(single, ec)) return open_file(single);
        return Error{dir.string() + ": no model.safetensors or model.safetensors.index.json found"};
    });
}

Result<TensorStore> TensorStore::open_index(std::string_view index_text, const std::filesystem::path& index_path,
                                            const std::filesystem::path& dir) {
    return guarded<Result<TensorStore>>(index_path.string(), [&]() -> Result<TensorStore> {
        std::error_code ec;
        auto parsed_index = parse_json(index_text, index_path.string());
        if (!parsed_index) return Error{parsed_index.error()};
        json index = std::move(*parsed_index);
        if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
            return Error{index_path.string() + ": not a valid index (expected an object with \"weight_map\")"};
        std::map<std::string, std::vector<std::string>> by_file;
        for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
            if (!it.value().is_string())
                return Error{index_path.string() + ": weight_map entry '" + it.key() + "' is not a file name"};
            std::string shard = it.value().get<std::string>();
            if (shard.find('/') != std::string::npos || shard.find("..") != std::string::npos)
                return Error{index_path.string() + ": shard name '" + shard + "' must be a plain file name"};
            by_file[shard].push_back(it.key());
        }
        if (by_file.empty()) return Error{index_path.string() + ": weight_map is empty"};
        TensorStore store;
        for (const auto& [shard, names] : by_file) {
            if (!std::filesystem::exists(dir / shard, ec))
                return Error{index_path.string() + ": lists shard '" + shard + "', which is missing from " +
                             dir.string()};
            if (auto s = store.add_file(dir / shard, &names); !s) return Error{s.error()};
        }
        return store;
    });
}

const TensorInfo* TensorStore::find(const std::string& name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
}

uint64_t TensorStore::total_bytes() const {
    uint64_t total = 0;
    for (const auto& f : files_) total += f->size();
    return total;
}

namespace {
// The whole pages that hold [data, data + bytes).
std::pair<uintptr_t, size_t> page_span(const void* data, uint64_t bytes) {
    const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t begin = reinterpret_cast<uintptr_t>(data) & ~(page - 1);
    const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes + page - 1) & ~(page - 1);
    return {begin, static_cast<size_t>(end - begin)};
}
}  // namespace

void release_pages(const void* data, uint64_t bytes) {
    if (!data || bytes == 0) return;
    const auto [begin, length] = page_span(data, bytes);
    // Only ever called on read-only file mappings (MAP_PRIVATE, never written): dropping their
    // pages loses nothing, a later read faults them in from the file again.
    ::madvise(reinterpret_cast<void*>(begin), length, MADV_DONTNEED);
}

uint64_t resident_bytes(const void* data, uint64_t bytes) {
    if (!data || bytes == 0) return 0;
    const auto [begin, length] = page_span(data, bytes);
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    // /proc/self/pagemap, not mincore: mincore says whether a file page is in the page cache
    // (shared with every process, and kept after we let go of it); pagemap's "present" bit says
    // whether it is mapped into this process, which is what its resident set counts.
    const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return bytes;  // cannot tell: count it all
    std::vector<uint64_t> entries(length / page);
    const auto want = static_cast<ssize_t>(entries.size() * sizeof(uint64_t));
    const ssize_t got =
        ::pread(fd, entries.data(), static_cast<size_t>(want), static_cast<off_t>(begin / page * sizeof(uint64_t)));
    ::close(fd);
    if (got != want) return bytes;
    uint64_t pages = 0;
    for (uint64_t e : entries) pages += (e >> 63) & 1u;
    return std::min<uint64_t>(bytes, pages * page);
}

}  // namespace fm
