#include "inference/checkpoint/quant4.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <system_error>

#include <nlohmann/json.hpp>

#include "inference/core/json_reader.h"

#include "inference/checkpoint/safetensors_writer.h"
#include "kernels/common/numerics.h"
#include "kernels/cpu/q4.h"
#include "kernels/cpu/thread_pool.h"

namespace fm {

const float kNf4Codebook[16] = {-1.0f,
                                -0.6961928009986877f,
                                -0.5250730514526367f,
                                -0.39491748809814453f,
                                -0.28444138169288635f,
                                -0.18477343022823334f,
                                -0.09105003625154495f,
                                0.0f,
                                0.07958029955625534f,
                                0.16093020141124725f,
                                0.24611230194568634f,
                                0.33791524171829224f,
                                0.44070982933044434f,
                                0.5626170039176941f,
                                0.7229568362236023f,
                                1.0f};

const float kFp4Codebook[16] = {0.0f,
                                0.0052083334885537624f,
                                0.6666666865348816f,
                                1.0f,
                                0.3333333432674408f,
                                0.5f,
                                0.1666666716337204f,
                                0.25f,
                                -0.0f,
                                -0.0052083334885537624f,
                                -0.6666666865348816f,
                                -1.0f,
                                -0.3333333432674408f,
                                -0.5f,
                                -0.1666666716337204f,
                                -0.25f};

namespace {

using json = nlohmann::json;

// Where a missing tensor was looked for: the checkpoint's file(s).
std::string files_of(const TensorStore& store) {
    const auto& files = store.files();
    if (files.empty()) return "the checkpoint";
    if (files.size() == 1) return files[0]->path().string();
    return files[0]->path().parent_path().string() + " (" + std::to_string(files.size()) + " safetensors files)";
}

bool is_float(DType t) {
    return t == DType::F32 || t == DType::F16 || t == DType::BF16;
}

// A positive integer field of the quant-state JSON.
Result<int64_t> positive_int(const json& state, const char* key, const std::string& where) {
    auto it = state.find(key);
    if (it == state.end()) return Error{where + ": the quant-state JSON has no \"" + key + "\""};
    if (!it->is_number_integer())
        return Error{where + ": \"" + key + "\" in the quant-state JSON must be a positive integer, got " + it->dump()};
    const int64_t v = it->get<int64_t>();
    if (v <= 0 || v > (int64_t{1} << 30))
        return Error{where + ": \"" + key + "\" in the quant-state JSON must be a positive integer, got " +
                     std::to_string(v)};
    return v;
}

// absmax as fp32, plain or double-quantized (docs/model.md, 4-bit weights).
Status load_scales(const TensorStore& store, const std::string& name, const json& state, const std::string& state_where,
                   int64_t blocks, std::vector<float>& scales) {
    const std::string absmax_name = name + ".absmax";
    const TensorInfo* absmax = store.find(absmax_name);
    if (!absmax)
        return Error{"missing tensor '" + absmax_name + "' (the per-block scales of '" + name + "') in " +
                     files_of(store)};
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
        for (int64_t j = 0; j < blocks; ++j) scales[static_cast<size_t>(j)] = absmax->element_as_float(j);
    } else if (absmax->dtype == DType::U8) {
        // Double quantization: absmax[j] = nested_quant_map[u8[j]] * nested_absmax[j / nested_blocksize] +
        // nested_offset.
        auto nested_block = positive_int(state, "nested_blocksize", state_where);
        if (!nested_block) return Error{nested_block.error() + " (absmax is U8: double quantization)"};
        auto off = state.find("nested_offset");
        if (off == state.end() || !off->is_number())
            return Error{state_where +
                         ": the quant-state JSON has no numeric \"nested_offset\" (absmax is U8: double quantization)"};
        const float offset = off->get<float>();
        const std::string nabs_name = name + ".nested_absmax", nmap_name = name + ".nested_quant_map";
        const TensorInfo* nabs = store.find(nabs_name);
        const TensorInfo* nmap = store.find(nmap_name);
        if (!nabs)
            return Error{"missing tensor '" + nabs_name + "' (absmax of '" + name +
                         "' is U8: double quantization) in " + files_of(store)};
        if (!nmap)
            return Error{"missing tensor '" + nmap_name + "' (absmax of '" + name +
                         "' is U8: double quantization) in " + files_of(store)};
        if (!is_float(nmap->dtype) || nmap->elements() != 256)
            return Error{nmap->describe() + ": the nested code book must hold 256 floats"};
        const int64_t nested_blocks = (blocks + *nested_block - 1) / *nested_block;
        if (!is_float(nabs->dtype)) return Error{nabs->describe() + ": nested_absmax must be F32"};
        if (nabs->elements() < nested_blocks)
            return Error{nabs->describe() + ": nested_absmax too short: " + std::to_string(nabs->elements()) +
                         " scales, but " + std::to_string(blocks) + " absmax values in blocks of " +
                         std::to_string(*nested_block) + " need " + std::to_string(nested_blocks)};
        float map[256];
        for (int k = 0; k < 256; ++k) map[k] = nmap->element_as_float(k);
        std::vector<float> nested(static_cast<size_t>(nested_blocks));
        for (int64_t k = 0; k < nested_blocks; ++k) nested[static_cast<size_t>(k)] = nabs->element_as_float(k);
        for (int64_t j = 0; j < blocks; ++j)
            scales[static_cast<size_t>(j)] =
                map[absmax->data[j]] * nested[static_cast<size_t>(j / *nested_block)] + offset;
    } else {
        return Error{absmax->describe() + ": absmax must be F32 (or U8 with double quantization)"};
    }
    for (int64_t j = 0; j < blocks; ++j)
        if (!std::isfinite(scales[static_cast<size_t>(j)]))
            return Error{absmax->describe() + ": the scale of block " + std::to_string(j) + " is not finite"};
    // Converted into `scales`: the mapped bytes (20 MB on the mid model) are not read again.
    if (absmax->file && absmax->file->mapped()) release_pages(absmax->data, absmax->byte_size);
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
    const std::string fp4_name = name + ".quant_state.bitsandbytes__fp4",
                      nf4_name = name + ".quant_state.bitsandbytes__nf4";
    const TensorInfo* fp4 = store.find(fp4_name);
    const TensorInfo* nf4 = store.find(nf4_name);
    if (!fp4 && !nf4)
        return Error{weight->describe() + ": the 4-bit quant state is missing: expected tensor '" + fp4_name +
                     "' or '" + nf4_name + "' (is this a bitsandbytes 4-bit checkpoint?)"};
    if (fp4 && nf4) return Error{weight->describe() + ": has both an fp4 and an nf4 quant state; expected one"};
    const TensorInfo* qs = fp4 ? fp4 : nf4;
    const std::string suffix_type = fp4 ? "fp4" : "nf4";
    const std::string qs_where = qs->describe();
    if (qs->dtype != DType::U8) return Error{qs_where + ": the quant state must be U8 bytes holding JSON"};
    const char* text = reinterpret_cast<const char*>(qs->data);
    auto parsed_state = parse_json(std::string_view(text, qs->byte_size), qs_where + ": the quant state");
    if (!parsed_state) return Error{parsed_state.error() + " (garbled quant-state bytes)"};
    const json state = std::move(*parsed_state);
    if (!state.is_object())
        return Error{qs_where + ": the quant state is JSON but not an object: " + state.dump().substr(0, 80)};

    auto qt = state.find("quant_type");
    if (qt == state.end() || !qt->is_string()) return Error{qs_where + ": the quant-state JSON has no \"quant_type\""};
    const std::string quant_type = qt->get<std::string>();
    if (quant_type != "fp4" && quant_type != "nf4")
        return Error{qs_where + ": unknown quant type \"" + quant_type + "\" (supported: fp4, nf4)"};
    if (quant_type != suffix_type)
        return Error{qs_where + ": quant_type \"" + quant_type + "\" contradicts the tensor name (bitsandbytes__" +
                     suffix_type + ")"};

    auto blocksize = positive_int(state, "blocksize", qs_where);
    if (!blocksize) return Error{blocksize.error()};

    auto sh = state.find("shape");
    if (sh == state.end() || !sh->is_array()) return Error{qs_where + ": the quant-state JSON has no \"shape\" array"};
    std::vector<int64_t> shape;
    for (const auto& d : *sh) {
        if (!d.is_number_integer())
            return Error{qs_where + ": \"shape\" in the quant-state JSON holds a non-integer: " + sh->dump()};
        shape.push_back(d.get<int64_t>());
    }
    if (shape != std::vector<int64_t>{rows, cols})
        return Error{qs_where + ": the quantized shape " + shape_string(shape) +
                     " disagrees with config.json, which gives '" + name + "' the shape " + shape_string({rows, cols})};

    const int64_t n = rows * cols;
    const int64_t code_bytes = (n + 1) / 2;
    if (weight->dtype != DType::U8)
        return Error{weight->describe() + ": a bitsandbytes 4-bit weight must be U8 packed codes, not " +
                     dtype_name(weight->dtype)};
    if (static_cast<int64_t>(weight->byte_size) < code_bytes)
        return Error{weight->describe() + ": codes too short: " + std::to_string(weight->byte_size) + " bytes, but " +
                     shape_string({rows, cols}) + " at 4 bits needs " + std::to_string(code_bytes)};
    if (static_cast<int64_t>(weight->byte_size) > code_bytes)
        return Error{weight->describe() + ": " + std::to_string(weight->byte_size) + " bytes of codes, more than the " +
                     std::to_string(code_bytes) + " that " + shape_string({rows, cols}) + " at 4 bits needs"};

    const std::string map_name = name + ".quant_map";
    const TensorInfo* qmap = store.find(map_name);
    if (!qmap)
        return Error{"missing tensor '" + map_name + "' (the 4-bit code book of '" + name + "') in " + files_of(store)};
    if (!is_float(qmap->dtype) || qmap->elements() != 16)
        return Error{qmap->describe() + ": the code book must hold 16 floats, got " + std::to_string(qmap->elements()) +
                     (is_float(qmap->dtype) ? "" : std::string(" of ") + dtype_name(qmap->dtype))};
    for (int k = 0; k < 16; ++k) {
        storage.codebook[k] = qmap->element_as_float(k);
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

Result<MatrixView> quantize_q4(const MatrixView& source, Q4Storage& storage, ThreadPool* pool,
                               const std::string& name) {
    const std::string what = name.empty() ? "matrix " + shape_string({source.rows, source.cols})
                                          : "'" + name + "' " + shape_string({source.rows, source.cols});
    if (source.dtype != DType::F32 && source.dtype != DType::F16 && source.dtype != DType::BF16)
        return Error{"cannot quantize " + what + " to 4 bits: it is " + dtype_name(source.dtype) +
                     ", expected F32, F16 or BF16"};
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
            const int64_t bad =
                cpu::quantize_q4_blocks(f, len, static_cast<int32_t>(block), kNf4Codebook,
                                        storage.codes.data() + begin / 2, storage.scales.data() + begin / block);
            if (bad >= 0) {
                int64_t prev = first_bad.load();
                while (begin + bad < prev && !first_bad.compare_exchange_weak(prev, begin + bad)) {}
            }
        }
    };
    if (pool)
        pool->parallel_for(tasks, 1, work);
    else
        work(0, tasks);
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

// ---------------------------------------------------------------------------------------------
// The quantize-on-load cache.

namespace {

namespace fs = std::filesystem;

constexpr int kQ4CacheVersion = 1;  // bump when the quantizer or the file layout changes
const char* const kCacheKeyTensor = "fm_q4_cache.key";

// The matrices quantize-on-load turns into 4 bits, by tensor name. With tied embeddings
// lm_head is the embedding's view and is not listed separately.
std::vector<std::pair<std::string, MatrixView*>> quantized_matrices(ModelWeights& w, bool embeddings, bool tied) {
    std::vector<std::pair<std::string, MatrixView*>> out;
    if (embeddings) out.emplace_back("backbone.embeddings.weight", &w.embedding);
    for (size_t l = 0; l < w.layers.size(); ++l) {
        const std::string p = "backbone.layers." + std::to_string(l) + ".mixer.";
        LayerWeights& lw = w.layers[l];
        out.emplace_back(p + "in_proj.weight", &lw.in_proj);
        out.emplace_back(p + "x_proj.weight", &lw.x_proj);
        out.emplace_back(p + "dt_proj.weight", &lw.dt_proj);
        out.emplace_back(p + "out_proj.weight", &lw.out_proj);
    }
    if (embeddings && !tied) out.emplace_back("lm_head.weight", &w.lm_head);
    return out;
}

bool is_inside(const fs::path& inner, const fs::path& outer) {
    std::error_code ec;
    const fs::path a = fs::weakly_canonical(fs::absolute(inner, ec), ec);
    const fs::path b = fs::weakly_canonical(fs::absolute(outer, ec), ec);
    auto ai = a.begin();
    for (auto bi = b.begin(); bi != b.end(); ++bi, ++ai) {
        if (bi->empty()) continue;  // trailing separator
        if (ai == a.end() || *ai != *bi) return false;
    }
    return true;
}

nlohmann::json cache_key_json(const std::string& key, const std::string& fingerprint, const fs::path& checkpoint_dir) {
    std::error_code ec;
    return {{"version", kQ4CacheVersion},
            {"key", key},
            {"fingerprint", fingerprint},
            {"checkpoint", fs::weakly_canonical(fs::absolute(checkpoint_dir, ec), ec).string()},
            {"block", kQ4Block}};
}

std::optional<nlohmann::json> read_cache_key(const TensorStore& store) {
    const TensorInfo* k = store.find(kCacheKeyTensor);
    if (!k || k->dtype != DType::U8) return std::nullopt;
    const char* text = reinterpret_cast<const char*>(k->data);
    auto j = parse_json(std::string_view(text, k->byte_size), "the 4-bit cache key");
    if (!j || !j->is_object()) return std::nullopt;
    return std::move(*j);
}

// Replaces the listed matrices of `w` with the cached 4-bit ones; on any mismatch says why
// and leaves `w` untouched.
Status apply_cache(ModelWeights& w, const fs::path& file, const std::string& key, bool embeddings, bool tied) {
    auto store = TensorStore::open_file(file);
    if (!store) return Error{store.error()};
    auto header = read_cache_key(*store);
    if (!header || header->value("key", "") != key || header->value("version", 0) != kQ4CacheVersion ||
        header->value("block", 0) != kQ4Block)
        return Error{file.string() + ": not a 4-bit cache of this checkpoint (key or version differs)"};
    std::vector<std::pair<MatrixView*, std::unique_ptr<Q4Storage>>> loaded;
    std::vector<MatrixView> views;
    for (auto& [name, view] : quantized_matrices(w, embeddings, tied)) {
        const int64_t n = view->elements();
        const TensorInfo* codes = store->find(name + ".q4codes");
        const TensorInfo* scales = store->find(name + ".q4scales");
        const TensorInfo* book = store->find(name + ".q4codebook");
        if (!codes || !scales || !book) return Error{file.string() + ": lacks the 4-bit tensors of '" + name + "'"};
        if (codes->dtype != DType::U8 || static_cast<int64_t>(codes->byte_size) != (n + 1) / 2 ||
            scales->dtype != DType::F32 || scales->elements() != (n + kQ4Block - 1) / kQ4Block ||
            book->dtype != DType::F32 || book->elements() != 16)
            return Error{file.string() + ": the 4-bit tensors of '" + name + "' do not fit its shape"};
        auto storage = std::make_unique<Q4Storage>();
        storage->codes.assign(codes->data, codes->data + codes->byte_size);
        storage->scales.resize(static_cast<size_t>(scales->elements()));
        std::memcpy(storage->scales.data(), scales->data, scales->byte_size);
        std::memcpy(storage->codebook, book->data, sizeof storage->codebook);
        for (float v : storage->codebook)
            if (!std::isfinite(v)) return Error{file.string() + ": the code book of '" + name + "' is not finite"};
        MatrixView q;
        q.dtype = DType::Q4;
        q.rows = view->rows;
        q.cols = view->cols;
        q.q4 = Q4Data{storage->codes.data(), storage->scales.data(), storage->codebook, kQ4Block};
        views.push_back(q);
        loaded.emplace_back(view, std::move(storage));
    }
    for (size_t i = 0; i < loaded.size(); ++i) {
        *loaded[i].first = views[i];
        w.q4_storage.push_back(std::move(loaded[i].second));
    }
    if (embeddings && tied) w.lm_head = w.embedding;
    w.format = WeightFormat::Q4;
    return {};
}

Status write_cache(ModelWeights& q, const fs::path& file, const nlohmann::json& key, bool embeddings, bool tied) {
    std::vector<TensorToWrite> tensors;
    const std::string key_text = key.dump();
    tensors.push_back(TensorToWrite::from_bytes(kCacheKeyTensor, DType::U8, {static_cast<int64_t>(key_text.size())},
                                                std::vector<uint8_t>(key_text.begin(), key_text.end())));
    for (auto& [name, view] : quantized_matrices(q, embeddings, tied)) {
        if (view->dtype != DType::Q4 || view->q4.block != kQ4Block)
            return Error{"'" + name + "' is not a 4-bit matrix with blocks of " + std::to_string(kQ4Block)};
        const int64_t n = view->elements();
        const Q4Data d = view->q4;
        auto from = [](const void* src) {
            return [src](uint8_t* dst, uint64_t offset, uint64_t size) {
                std::memcpy(dst, static_cast<const uint8_t*>(src) + offset, size);
            };
        };
        tensors.push_back({name + ".q4codes", DType::U8, {(n + 1) / 2}, from(d.codes)});
        tensors.push_back({name + ".q4scales", DType::F32, {(n + kQ4Block - 1) / kQ4Block}, from(d.scales)});
        tensors.push_back({name + ".q4codebook", DType::F32, {16}, from(d.codebook)});
    }
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    if (ec) return Error{file.parent_path().string() + ": cannot create the cache folder: " + ec.message()};
    return write_safetensors(file, tensors, {{"format", "fm-q4-cache"}});
}

// Removes the cache files of an older state of the same checkpoint folder (a different
// fingerprint); files of the current state with other options stay.
void prune_cache(const fs::path& cache_dir, const fs::path& keep, const std::string& checkpoint,
                 const std::string& fingerprint) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(cache_dir, ec)) {
        const fs::path p = entry.path();
        if (p == keep || p.extension() != ".safetensors" || p.stem().extension() != ".q4") continue;
        bool stale = false;
        {
            auto store = TensorStore::open_file(p);
            if (!store) continue;  // not ours to judge
            auto header = read_cache_key(*store);
            stale = header && header->value("checkpoint", "") == checkpoint &&
                    header->value("fingerprint", "") != fingerprint;
        }
        if (stale) fs::remove(p, ec);
    }
}

}  // namespace

Result<Q4CachedLoad> load_weights_q4_cached(const fs::path& checkpoint_dir, const LoadOptions& options,
                                            const fs::path& cache_dir) {
    Q4CachedLoad out;
    if (!options.quantize_4bit) {
        auto w = load_weights(checkpoint_dir, options);
        if (!w) return Error{w.error()};
        out.weights = *w;
        out.note = "not quantizing: no cache needed";
        return out;
    }
    if (cache_dir.empty()) return Error{"no folder given for the 4-bit cache"};
    if (is_inside(cache_dir, checkpoint_dir))
        return Error{"the 4-bit cache folder " + cache_dir.string() + " is inside the checkpoint folder " +
                     checkpoint_dir.string() + ": use an app data folder, the checkpoint is never written to"};

    // The unquantized load only maps the files: cheap, and it gives the fingerprint.
    LoadOptions plain = options;
    plain.quantize_4bit = false;
    plain.quantize_embeddings = false;
    auto native = load_weights(checkpoint_dir, plain);
    if (!native) return Error{native.error()};
    std::shared_ptr<ModelWeights> w = *native;
    if (w->config.quantization.enabled) {
        out.weights = w;
        out.note = "bitsandbytes checkpoint: already 4-bit, nothing to cache";
        return out;
    }
    const bool embeddings = options.quantize_embeddings;
    const bool tied = w->lm_head.data == w->embedding.data;
    const std::string fingerprint = w->fingerprint();
    const std::string key = fingerprint + "-q4v" + std::to_string(kQ4CacheVersion) + (embeddings ? "-emb" : "");
    out.cache_file = cache_dir / (key + ".q4.safetensors");

    std::error_code ec;
    if (fs::exists(out.cache_file, ec)) {
        if (auto s = apply_cache(*w, out.cache_file, key, embeddings, tied); s) {
            out.weights = w;
            out.from_cache = true;
            out.note = "4-bit weights read from the cache " + out.cache_file.string();
            return out;
        } else {
            out.note = "ignored a broken 4-bit cache file (" + s.error() + "); ";
            fs::remove(out.cache_file, ec);
        }
    }

    auto q = load_weights(checkpoint_dir, options);
    if (!q) return Error{q.error()};
    out.weights = *q;
    const nlohmann::json header = cache_key_json(key, fingerprint, checkpoint_dir);
    if (auto s = write_cache(*out.weights, out.cache_file, header, embeddings, tied); !s) {
        out.note += "quantized; the cache could not be written: " + s.error();
        return out;
    }
    prune_cache(cache_dir, out.cache_file, header.value("checkpoint", ""), fingerprint);
    out.note += "quantized and cached in " + out.cache_file.string();
    return out;
}

}  // namespace fm
