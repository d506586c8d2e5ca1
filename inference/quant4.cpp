#include "inference/quant4.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "kernels/common/numerics.h"
#include "kernels/cpu/ops_q4.h"
#include "kernels/cpu/thread_pool.h"

namespace fm {

const float kNf4Codebook[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
    -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
    0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f,
    1.0f};

namespace {

using json = nlohmann::json;

std::string shape_string(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// Where a missing tensor was looked for: the checkpoint's file(s).
std::string files_of(const TensorStore& store) {
    const auto& files = store.files();
    if (files.empty()) return "the checkpoint";
    if (files.size() == 1) return files[0]->path().string();
    return files[0]->path().parent_path().string() + " (" + std::to_string(files.size()) + " safetensors files)";
}

float to_float(const TensorInfo& t, int64_t i) {
    switch (t.dtype) {
        case DType::F32: { float v; std::memcpy(&v, t.data + i * 4, 4); return v; }
        case DType::F16: { uint16_t h; std::memcpy(&h, t.data + i * 2, 2); return num::f16_to_float(h); }
        case DType::BF16: { uint16_t h; std::memcpy(&h, t.data + i * 2, 2); return num::bf16_to_float(h); }
        default: return 0.0f;
    }
}

bool is_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// A positive integer field of the quant-state JSON.
Result<int64_t> positive_int(const json& state, const char* key, const std::string& where) {
    auto it = state.find(key);
    if (it == state.end()) return Error{where + ": the quant-state JSON has no \"" + key + "\""};
    if (!it->is_number_integer())
        return Error{where + ": \"" + key + "\" in the quant-state JSON must be a positive integer, got " + it->dump()};
    const int64_t v = it->get<int64_t>();
    if (v <= 0 || v > (int64_t{1} << 30))
        return Error{where + ": \"" + key + "\" in the quant-state JSON must be a positive integer, got " + std::to_string(v)};
    return v;
}

// absmax as fp32, plain or double-quantized (REFERENCE.md §4).
Status load_scales(const TensorStore& store, const std::string& name, const json& state, const std::string& state_where,
                   int64_t blocks, std::vector<float>& scales) {
    const std::string absmax_name = name + ".absmax";
    const TensorInfo* absmax = store.find(absmax_name);
    if (!absmax) return Error{"missing tensor '" + absmax_name + "' (the per-block scales of '" + name + "') in " + files_of(store)};
    if (absmax->shape.size() != 1)
        return Error{absmax->describe() + ": absmax must be one-dimensional [" + std::to_string(blocks) + "]"};
    const int64_t count = absmax->elements();
    if (count < blocks)
        return Error{absmax->describe() + ": absmax too short: " + std::to_string(count) + " scales, but '" + name +
                     "' has " + std::to_string(blocks) + " blocks"};
    if (count > blocks)
        return Error{absmax->describe() + ": absmax has " + std::to_string(count) + " scales, more than the " +
                     std::to_string(blocks) + " blocks of '" + name + "': blocksize or shape is wrong"};
    scales.resize(static_cast<size_t>(blocks));
    if (is_float(absmax->dtype)) {
        for (int64_t j = 0; j < blocks; ++j) scales[static_cast<size_t>(j)] = to_float(*absmax, j);
    } else if (absmax->dtype == DType::U8) {
        // Double quantization: absmax[j] = nested_quant_map[u8[j]] * nested_absmax[j / nested_blocksize] + nested_offset.
        auto nested_block = positive_int(state, "nested_blocksize", state_where);
        if (!nested_block) return Error{nested_block.error() + " (absmax is U8: double quantization)"};
        auto off = state.find("nested_offset");
        if (off == state.end() || !off->is_number())
            return Error{state_where + ": the quant-state JSON has no numeric \"nested_offset\" (absmax is U8: double quantization)"};
        const float offset = off->get<float>();
        const std::string nabs_name = name + ".nested_absmax", nmap_name = name + ".nested_quant_map";
        const TensorInfo* nabs = store.find(nabs_name);
        const TensorInfo* nmap = store.find(nmap_name);
        if (!nabs) return Error{"missing tensor '" + nabs_name + "' (absmax of '" + name + "' is U8: double quantization) in " + files_of(store)};
        if (!nmap) return Error{"missing tensor '" + nmap_name + "' (absmax of '" + name + "' is U8: double quantization) in " + files_of(store)};
        if (!is_float(nmap->dtype) || nmap->elements() != 256)
            return Error{nmap->describe() + ": the nested code book must hold 256 floats"};
        const int64_t nested_blocks = (blocks + *nested_block - 1) / *nested_block;
        if (!is_float(nabs->dtype)) return Error{nabs->describe() + ": nested_absmax must be F32"};
        if (nabs->elements() < nested_blocks)
            return Error{nabs->describe() + ": nested_absmax too short: " + std::to_string(nabs->elements()) + " scales, but " +
                         std::to_string(blocks) + " absmax values in blocks of " + std::to_string(*nested_block) +
                         " need " + std::to_string(nested_blocks)};
        float map[256];
        for (int k = 0; k < 256; ++k) map[k] = to_float(*nmap, k);
        std::vector<float> nested(static_cast<size_t>(nested_blocks));
        for (int64_t k = 0; k < nested_blocks; ++k) nested[static_cast<size_t>(k)] = to_float(*nabs, k);
        for (int64_t j = 0; j < blocks; ++j)
            scales[static_cast<size_t>(j)] =
                map[absmax->data[j]] * nested[static_cast<size_t>(j / *nested_block)] + offset;
    } else {
        return Error{absmax->describe() + ": absmax must be F32 (or U8 with double quantization)"};
    }
    for (int64_t j = 0; j < blocks; ++j)
        if (!std::isfinite(scales[static_cast<size_t>(j)]))
            return Error{absmax->describe() + ": the scale of block " + std::to_string(j) + " is not finite"};
    return {};
}

}  // namespace

Result<MatrixView> load_bnb_linear(const TensorStore& store, const std::string& name, int64_t rows, int64_t cols,
                                   Q4Storage& storage) {
    const TensorInfo* weight = store.find(name);
    if (!weight) return Error{"missing tensor '" + name + "' in " + files_of(store)};
    if (rows <= 0 || cols <= 0)
        return Error{weight->describe() + ": config.json gives it the empty shape " + shape_string({rows, cols})};

    // The quant state: a JSON document stored as a U8 tensor, named after the quant type.
    const std::string fp4_name = name + ".quant_state.bitsandbytes__fp4", nf4_name = name + ".quant_state.bitsandbytes__nf4";
    const TensorInfo* fp4 = store.find(fp4_name);
    const TensorInfo* nf4 = store.find(nf4_name);
    if (!fp4 && !nf4)
        return Error{weight->describe() + ": the 4-bit quant state is missing: expected tensor '" + fp4_name + "' or '" +
                     nf4_name + "' (is this a bitsandbytes 4-bit checkpoint?)"};
    if (fp4 && nf4) return Error{weight->describe() + ": has both an fp4 and an nf4 quant state; expected one"};
    const TensorInfo* qs = fp4 ? fp4 : nf4;
    const std::string suffix_type = fp4 ? "fp4" : "nf4";
    const std::string qs_where = qs->describe();
    if (qs->dtype != DType::U8) return Error{qs_where + ": the quant state must be U8 bytes holding JSON"};
    const char* text = reinterpret_cast<const char*>(qs->data);
    const json state = json::parse(text, text + qs->byte_size, nullptr, false);
    if (state.is_discarded()) return Error{qs_where + ": the quant state is not valid JSON (garbled quant-state bytes)"};
    if (!state.is_object()) return Error{qs_where + ": the quant state is JSON but not an object: " + state.dump().substr(0, 80)};

    auto qt = state.find("quant_type");
    if (qt == state.end() || !qt->is_string()) return Error{qs_where + ": the quant-state JSON has no \"quant_type\""};
    const std::string quant_type = qt->get<std::string>();
    if (quant_type != "fp4" && quant_type != "nf4")
        return Error{qs_where + ": unknown quant type \"" + quant_type + "\" (supported: fp4, nf4)"};
    if (quant_type != suffix_type)
        return Error{qs_where + ": quant_type \"" + quant_type + "\" contradicts the tensor name (bitsandbytes__" + suffix_type + ")"};

    auto blocksize = positive_int(state, "blocksize", qs_where);
    if (!blocksize) return Error{blocksize.error()};

    auto sh = state.find("shape");
    if (sh == state.end() || !sh->is_array()) return Error{qs_where + ": the quant-state JSON has no \"shape\" array"};
    std::vector<int64_t> shape;
    for (const auto& d : *sh) {
        if (!d.is_number_integer()) return Error{qs_where + ": \"shape\" in the quant-state JSON holds a non-integer: " + sh->dump()};
        shape.push_back(d.get<int64_t>());
    }
    if (shape != std::vector<int64_t>{rows, cols})
        return Error{qs_where + ": the quantized shape " + shape_string(shape) + " disagrees with config.json, which gives '" +
                     name + "' the shape " + shape_string({rows, cols})};

    const int64_t n = rows * cols;
    const int64_t code_bytes = (n + 1) / 2;
    if (weight->dtype != DType::U8)
        return Error{weight->describe() + ": a bitsandbytes 4-bit weight must be U8 packed codes, not " + dtype_name(weight->dtype)};
    if (static_cast<int64_t>(weight->byte_size) < code_bytes)
        return Error{weight->describe() + ": codes too short: " + std::to_string(weight->byte_size) + " bytes, but " +
                     shape_string({rows, cols}) + " at 4 bits needs " + std::to_string(code_bytes)};
    if (static_cast<int64_t>(weight->byte_size) > code_bytes)
        return Error{weight->describe() + ": " + std::to_string(weight->byte_size) + " bytes of codes, more than the " +
                     std::to_string(code_bytes) + " that " + shape_string({rows, cols}) + " at 4 bits needs"};

    const std::string map_name = name + ".quant_map";
    const TensorInfo* qmap = store.find(map_name);
    if (!qmap) return Error{"missing tensor '" + map_name + "' (the 4-bit code book of '" + name + "') in " + files_of(store)};
    if (!is_float(qmap->dtype) || qmap->elements() != 16)
        return Error{qmap->describe() + ": the code book must hold 16 floats, got " + std::to_string(qmap->elements()) +
                     (is_float(qmap->dtype) ? "" : std::string(" of ") + dtype_name(qmap->dtype))};
    for (int k = 0; k < 16; ++k) {
        storage.codebook[k] = to_float(*qmap, k);
        if (!std::isfinite(storage.codebook[k]))
            return Error{qmap->describe() + ": code book entry " + std::to_string(k) + " is not finite"};
    }

    const int64_t blocks = (n + *blocksize - 1) / *blocksize;
    if (auto s = load_scales(store, name, state, qs_where, blocks, storage.scales); !s) return Error{s.error()};

    // The codes stay in the mapping: the loaded store keeps it alive as long as the weights.
    storage.codes.clear();
    MatrixView v;
    v.dtype = DType::Q4;
    v.rows = rows;
    v.cols = cols;
    v.q4.codes = weight->data;
    v.q4.scales = storage.scales.data();
    v.q4.codebook = storage.codebook;
    v.q4.block = static_cast<int32_t>(*blocksize);
    return v;
}

Result<MatrixView> quantize_q4(const MatrixView& source, Q4Storage& storage, ThreadPool* pool, const std::string& name) {
    const std::string what = name.empty() ? "matrix " + shape_string({source.rows, source.cols})
                                          : "'" + name + "' " + shape_string({source.rows, source.cols});
    if (source.dtype != DType::F32 && source.dtype != DType::F16 && source.dtype != DType::BF16)
        return Error{"cannot quantize " + what + " to 4 bits: it is " + dtype_name(source.dtype) + ", expected F32, F16 or BF16"};
    if (source.rows < 0 || source.cols < 0 || (source.elements() > 0 && !source.data))
        return Error{"cannot quantize " + what + ": no data"};
    const int64_t n = source.elements();
    const int64_t block = kQ4Block;
    const int64_t blocks = (n + block - 1) / block;
    storage.codes.assign(static_cast<size_t>((n + 1) / 2), 0);
    storage.scales.assign(static_cast<size_t>(blocks), 0.0f);
    std::memcpy(storage.codebook, kNf4Codebook, sizeof kNf4Codebook);

    // Tasks of 256 blocks (16 Ki weights): converted to fp32 into a per-thread buffer, then
    // quantized block by block. Blocks are independent, so the result never depends on threads.
    constexpr int64_t kTaskBlocks = 256;
    const int64_t tasks = (blocks + kTaskBlocks - 1) / kTaskBlocks;
    std::atomic<int64_t> first_bad{std::numeric_limits<int64_t>::max()};
    auto work = [&](int64_t t0, int64_t t1) {
        thread_local std::vector<float> buf;
        buf.resize(static_cast<size_t>(kTaskBlocks * block));
        for (int64_t task = t0; task < t1; ++task) {
            const int64_t begin = task * kTaskBlocks * block;
            const int64_t len = std::min(n, begin + kTaskBlocks * block) - begin;
            float* f = buf.data();
            switch (source.dtype) {
                case DType::F32:
                    std::memcpy(f, static_cast<const float*>(source.data) + begin, static_cast<size_t>(len) * 4);
                    break;
                case DType::BF16: {
                    const uint16_t* s = static_cast<const uint16_t*>(source.data) + begin;
                    for (int64_t i = 0; i < len; ++i) {
                        const uint32_t bits = static_cast<uint32_t>(s[i]) << 16;
                        std::memcpy(f + i, &bits, 4);
                    }
                    break;
                }
                default: {
                    const uint16_t* s = static_cast<const uint16_t*>(source.data) + begin;
                    for (int64_t i = 0; i < len; ++i) f[i] = num::f16_to_float(s[i]);
                    break;
                }
            }
            const int64_t bad = cpu::quantize_q4_blocks(f, len, static_cast<int32_t>(block), kNf4Codebook,
                                                        storage.codes.data() + begin / 2,
                                                        storage.scales.data() + begin / block);
            if (bad >= 0) {
                int64_t prev = first_bad.load();
                while (begin + bad < prev && !first_bad.compare_exchange_weak(prev, begin + bad)) {}
            }
        }
    };
    if (pool) pool->parallel_for(tasks, 1, work);
    else work(0, tasks);
    if (first_bad.load() != std::numeric_limits<int64_t>::max()) {
        const int64_t i = first_bad.load();
        return Error{"cannot quantize " + what + " to 4 bits: the weight at row " + std::to_string(i / source.cols) +
                     ", column " + std::to_string(i % source.cols) + " is not finite (NaN or infinity)"};
    }

    MatrixView v;
    v.dtype = DType::Q4;
    v.rows = source.rows;
    v.cols = source.cols;
    v.q4.codes = storage.codes.data();
    v.q4.scales = storage.scales.data();
    v.q4.codebook = storage.codebook;
    v.q4.block = static_cast<int32_t>(block);
    return v;
}

}  // namespace fm
