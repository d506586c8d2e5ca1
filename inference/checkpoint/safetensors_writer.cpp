#include "inference/checkpoint/safetensors_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <nlohmann/json.hpp>

#include "kernels/common/numerics.h"

namespace fm {

uint64_t TensorToWrite::byte_size() const {
    uint64_t n = 1;
    for (int64_t d : shape) n *= static_cast<uint64_t>(d);
    return n * static_cast<uint64_t>(dtype_size_bits(dtype)) / 8;
}

TensorToWrite TensorToWrite::from_bytes(std::string name, DType dtype, std::vector<int64_t> shape,
                                        std::vector<uint8_t> bytes) {
    auto data = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
    TensorToWrite t{std::move(name), dtype, std::move(shape), nullptr};
    t.fill = [data](uint8_t* dst, uint64_t offset, uint64_t size) {
        if (size > 0) std::memcpy(dst, data->data() + offset, size);  // an empty tensor has no data pointer
    };
    return t;
}

TensorToWrite TensorToWrite::from_floats(std::string name, std::vector<int64_t> shape, const std::vector<float>& values,
                                         DType dtype) {
    std::vector<uint8_t> bytes;
    if (dtype == DType::F32) {
        bytes.resize(values.size() * 4);
        std::memcpy(bytes.data(), values.data(), bytes.size());
    } else {
        bytes.resize(values.size() * 2);
        for (size_t i = 0; i < values.size(); ++i) {
            uint16_t h = dtype == DType::BF16 ? num::float_to_bf16(values[i]) : num::float_to_f16(values[i]);
            std::memcpy(bytes.data() + 2 * i, &h, 2);
        }
    }
    return from_bytes(std::move(name), dtype, std::move(shape), std::move(bytes));
}

namespace {

// The header's JSON, padded so the data that follows the 8-byte length is 8-byte aligned.
std::string header_text(const std::vector<TensorToWrite>& tensors, const std::map<std::string, std::string>& metadata) {
    nlohmann::ordered_json header;
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const auto& t : tensors) {
        const uint64_t size = t.byte_size();
        header[t.name] = {
            {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + size}}};
        offset += size;
    }
    std::string text = header.dump();
    while ((8 + text.size()) % 8 != 0) text.push_back(' ');
    return text;
}

void put_length(uint8_t* out, uint64_t n) {
    for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>((n >> (8 * i)) & 0xff);
}

}  // namespace

std::vector<uint8_t> safetensors_bytes(const std::vector<TensorToWrite>& tensors,
                                       const std::map<std::string, std::string>& metadata) {
    const std::string text = header_text(tensors, metadata);
    uint64_t total = 8 + text.size();
    for (const auto& t : tensors) total += t.byte_size();
    std::vector<uint8_t> out(total);
    put_length(out.data(), text.size());
    std::memcpy(out.data() + 8, text.data(), text.size());
    uint64_t at = 8 + text.size();
    for (const auto& t : tensors) {
        if (t.byte_size() > 0) t.fill(out.data() + at, 0, t.byte_size());
        at += t.byte_size();
    }
    return out;
}

Status write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata) {
    const std::string text = header_text(tensors, metadata);

    const auto tmp = std::filesystem::path(path.string() + ".tmp");
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(tmp.c_str(), "wb"), &std::fclose);
    if (!f) return Error{tmp.string() + ": cannot create: " + std::strerror(errno)};
    uint8_t len[8];
    put_length(len, text.size());
    bool ok = std::fwrite(len, 1, 8, f.get()) == 8 && std::fwrite(text.data(), 1, text.size(), f.get()) == text.size();
    std::vector<uint8_t> buffer(1 << 22);
    for (const auto& t : tensors) {
        const uint64_t size = t.byte_size();
        for (uint64_t done = 0; ok && done < size;) {
            const uint64_t n = std::min<uint64_t>(buffer.size(), size - done);
            t.fill(buffer.data(), done, n);
            ok = std::fwrite(buffer.data(), 1, n, f.get()) == n;
            done += n;
        }
    }
    if (!ok || std::fflush(f.get()) != 0) {
        const std::string why = std::strerror(errno);
        f.reset();
        std::filesystem::remove(tmp);
        return Error{path.string() + ": write failed (" + why + "); nothing was written"};
    }
    f.reset();
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return Error{path.string() + ": cannot move the finished file into place: " + ec.message()};
    return {};
}

}  // namespace fm
