#include "inference/checkpoint/weights.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include "inference/core/guarded.h"

#include <nlohmann/json.hpp>

#include "inference/checkpoint/quant4.h"
#include "inference/core/fingerprint.h"
#include "kernels/common/numerics.h"
#include "kernels/cpu/thread_pool.h"

namespace fm {
namespace {

bool is_float(DType t) {
    return t == DType::F32 || t == DType::F16 || t == DType::BF16;
}

// Builds the views of one checkpoint; each lookup checks presence, dtype and shape.
class WeightLoader {
public:
    WeightLoader(ModelWeights& w, const LoadOptions& options) : w_(w), options_(options) {}

    Result<const TensorInfo*> tensor(const std::string& name, const std::vector<int64_t>& shape) {
        const TensorInfo* t = w_.store.find(name);
        if (!t) return Error{"missing tensor '" + name + "' in " + w_.checkpoint_dir.string()};
        if (!is_float(t->dtype)) return Error{t->describe() + ": expected F32, F16 or BF16"};
        if (t->elements() != product(shape) || !compatible(t->shape, shape))
            return Error{t->describe() + ": expected shape " + shape_string(shape) + " from config.json"};
        return t;
    }

    Result<std::vector<float>> vector(const std::string& name, const std::vector<int64_t>& shape) {
        auto t = tensor(name, shape);
        if (!t) return Error{t.error()};
        std::vector<float> out(static_cast<size_t>((*t)->elements()));
        for (int64_t i = 0; i < (*t)->elements(); ++i) out[static_cast<size_t>(i)] = (*t)->element_as_float(i);
        release_if_mapped((*t)->data, (*t)->byte_size);  // converted: the mapped bytes are not read again
        return out;
    }

    Result<MatrixView> matrix(const std::string& name, int64_t rows, int64_t cols, bool quantizable) {
        if (quantizable && w_.config.quantization.enabled) {
            auto storage = std::make_unique<Q4Storage>();
            auto view = load_bnb_linear(w_.store, name, rows, cols, *storage);
            if (!view) return Error{view.error()};
            w_.q4_storage.push_back(std::move(storage));
            return *view;
        }
        auto t = tensor(name, {rows, cols});
        if (!t) return Error{t.error()};
        MatrixView v;
        v.dtype = (*t)->dtype;
        v.rows = rows;
        v.cols = cols;
        v.data = (*t)->data;
        if (reinterpret_cast<uintptr_t>(v.data) % static_cast<uintptr_t>(dtype_size_bits(v.dtype) / 8) != 0) {
            // Writers that do not pad the header leave tensors misaligned; the kernels need
            // aligned elements, so such a tensor is copied once.
            auto copy = std::make_unique<std::vector<uint8_t>>((*t)->data, (*t)->data + (*t)->byte_size);
            v.data = copy->data();
            w_.owned_buffers.push_back(std::move(copy));
        }
        if (w_.stored_dtype == DType::F32 || dtype_size_bits(v.dtype) < dtype_size_bits(w_.stored_dtype))
            w_.stored_dtype = v.dtype;
        if (quantizable && options_.quantize_4bit) return quantize(v);
        return v;
    }

    Result<MatrixView> quantize(const MatrixView& v) {
        auto storage = std::make_unique<Q4Storage>();
        auto q = quantize_q4(v, *storage, pool());
        if (!q) return Error{q.error()};
        w_.q4_storage.push_back(std::move(storage));
        // The source was read once; keeping its pages would make a 4-bit load cost more RAM
        // than the bf16 one (issue 12: 1.20 GB against 1.02 GB on the mid model).
        release_if_mapped(v.data, static_cast<uint64_t>(v.bytes()));
        return *q;
    }

    // Only pages of the checkpoint's read-only mappings: heap pages (a realigned copy) must
    // never be dropped, the allocator may hand them out again.
    bool is_mapped(const void* data, uint64_t bytes) const {
        const auto* p = static_cast<const uint8_t*>(data);
        for (const auto& f : w_.store.files())
            if (f->mapped() && p >= f->data() && p + bytes <= f->data() + f->size()) return true;
        return false;
    }
    void release_if_mapped(const void* data, uint64_t bytes) const {
        if (is_mapped(data, bytes)) release_pages(data, bytes);
    }

private:
    static int64_t product(const std::vector<int64_t>& s) {
        int64_t n = 1;
        for (auto d : s) n *= d;
        return n;
    }
    // conv1d.weight is stored [I, 1, K]; we accept it as [I, K] by dropping unit dimensions.
    static bool compatible(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
        std::vector<int64_t> x, y;
        for (auto d : a)
            if (d != 1) x.push_back(d);
        for (auto d : b)
            if (d != 1) y.push_back(d);
        return x == y;
    }
    ThreadPool* pool() {
        if (!pool_) pool_ = std::make_unique<ThreadPool>(0);
        return pool_.get();
    }

    ModelWeights& w_;
    const LoadOptions& options_;
    std::unique_ptr<ThreadPool> pool_;
};

#define FM_TRY_ASSIGN(target, expr)              \
    do {                                         \
        auto fm_r_ = (expr);                     \
        if (!fm_r_) return Error{fm_r_.error()}; \
        target = std::move(*fm_r_);              \
    } while (0)

}  // namespace

int64_t ModelWeights::weight_bytes() const {
    int64_t total = embedding.bytes() + static_cast<int64_t>(norm_f.size()) * 4;
    if (lm_head.data != embedding.data || lm_head.dtype == DType::Q4) total += lm_head.bytes();
    for (const auto& l : layers) {
        total += l.in_proj.bytes() + l.x_proj.bytes() + l.dt_proj.bytes() + l.out_proj.bytes();
        total += static_cast<int64_t>(l.norm.size() + l.conv_weight.size() + l.conv_bias.size() + l.dt_bias.size() +
                                      l.A.size() + l.D.size()) *
                 4;
    }
    return total;
}

void ModelWeights::release_embedding_rows(const int32_t* ids, int64_t n) const {
    if (!embedding_rows_releasable) return;
    const int64_t row_bytes = embedding.bytes() / std::max<int64_t>(1, embedding.rows);
    const auto begin = reinterpret_cast<uintptr_t>(embedding.data);
    const auto end = begin + static_cast<uintptr_t>(embedding.bytes());
    // A page fault on a file mapping maps its neighbours too (fault-around, and the page cache's
    // large folios of up to 2 MiB): let go of the aligned 2 MiB around the row, within the
    // table. Measured on the mid model: a 64 KiB window still left 25 MB of rows resident after
    // a 10,000-token prompt, 256 KiB 2 MB, 2 MiB none. A later token re-reads its row from the
    // page cache, about a microsecond.
    constexpr uintptr_t kWindow = uintptr_t{2} << 20;
    for (int64_t t = 0; t < n; ++t) {
        if (ids[t] < 0 || ids[t] >= embedding.rows) continue;
        const uintptr_t row = begin + static_cast<uintptr_t>(ids[t] * row_bytes);
        const uintptr_t from = std::max(begin, row & ~(kWindow - 1));
        const uintptr_t to = std::min(end, (row + static_cast<uintptr_t>(row_bytes) + kWindow - 1) & ~(kWindow - 1));
        if (from < to) release_pages(reinterpret_cast<const void*>(from), to - from);
    }
}

int64_t ModelWeights::decode_read_bytes() const {
    const bool tied = lm_head.data == embedding.data && lm_head.dtype != DType::Q4;
    if (tied || embedding.rows <= 0) return weight_bytes();
    return weight_bytes() - embedding.bytes() + embedding.bytes() / embedding.rows;
}

int64_t ModelWeights::resident_bytes() const {
    std::set<const void*> seen;
    int64_t total = 0;
    auto matrix = [&](const MatrixView& m) {
        if (m.dtype == DType::Q4) {
            if (!seen.insert(m.q4.codes).second) return;
            total +=
                static_cast<int64_t>(fm::resident_bytes(m.q4.codes, static_cast<uint64_t>((m.elements() + 1) / 2)));
            total += static_cast<int64_t>(fm::resident_bytes(
                m.q4.scales, static_cast<uint64_t>((m.elements() + m.q4.block - 1) / m.q4.block) * 4));
            return;
        }
        if (!seen.insert(m.data).second) return;
        total += static_cast<int64_t>(fm::resident_bytes(m.data, static_cast<uint64_t>(m.bytes())));
    };
    auto vec = [&](const std::vector<float>& v) { total += static_cast<int64_t>(v.size() * sizeof(float)); };
    matrix(embedding);
    matrix(lm_head);
    vec(norm_f);
    for (const auto& l : layers) {
        for (const MatrixView* m : {&l.in_proj, &l.x_proj, &l.dt_proj, &l.out_proj}) matrix(*m);
        for (const auto* v : {&l.norm, &l.conv_weight, &l.conv_bias, &l.dt_bias, &l.A, &l.D}) vec(*v);
    }
    return total;
}

std::string ModelWeights::fingerprint() const {
    // What identifies the checkpoint and how it was loaded.
    Fingerprint h;
    h.mix(config.to_json().dump());
    h.mix(format == WeightFormat::Q4 ? "q4" : "native");
    for (const auto& f : store.files()) {
        struct stat st {};
        h.mix(f->path().filename().string());
        h.mix(std::to_string(f->size()));
        if (::stat(f->path().c_str(), &st) == 0)
            h.mix(std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec));
    }
    return h.hex();
}

Result<std::shared_ptr<ModelWeights>> load_weights(const std::filesystem::path& dir, const LoadOptions& options) {
    auto config = ModelConfig::load(dir);
    if (!config) return Error{config.error()};
    return load_weights(dir, *config, options);
}

Result<std::shared_ptr<ModelWeights>> load_weights(const std::filesystem::path& dir, const ModelConfig& config,
                                                   const LoadOptions& options) {
    return guarded<Result<std::shared_ptr<ModelWeights>>>(
        "loading the weights of " + dir.string(), [&]() -> Result<std::shared_ptr<ModelWeights>> {
            auto w = std::make_shared<ModelWeights>();
            w->checkpoint_dir = dir;
            w->config = config;
            FM_TRY_ASSIGN(w->store, TensorStore::open(dir));
            w->format =
                (w->config.quantization.enabled || options.quantize_4bit) ? WeightFormat::Q4 : WeightFormat::Native;

            const ModelConfig& c = w->config;
            const int64_t H = c.hidden_size, I = c.intermediate_size, N = c.state_size, R = c.time_step_rank,
                          K = c.conv_kernel, V = c.vocab_size, L = c.num_layers;
            WeightLoader load(*w, options);
            const int64_t total_steps = L + 2;
            auto report = [&](int64_t done) -> Status {
                if (options.cancel && options.cancel->load()) return Error{"loading cancelled"};
                if (options.progress) options.progress(done, total_steps);
                return {};
            };

            const std::string embed_name =
                w->store.find("backbone.embeddings.weight") || !w->store.find("backbone.embedding.weight")
                    ? "backbone.embeddings.weight"
                    : "backbone.embedding.weight";
            FM_TRY_ASSIGN(w->embedding, load.matrix(embed_name, V, H, false));
            if (options.quantize_4bit && options.quantize_embeddings)
                FM_TRY_ASSIGN(w->embedding, load.quantize(w->embedding));
            if (auto s = report(1); !s) return Error{s.error()};

            w->layers.resize(static_cast<size_t>(L));
            for (int64_t l = 0; l < L; ++l) {
                const std::string p = "backbone.layers." + std::to_string(l) + ".";
                LayerWeights& lw = w->layers[static_cast<size_t>(l)];
                FM_TRY_ASSIGN(lw.norm, load.vector(p + "norm.weight", {H}));
                FM_TRY_ASSIGN(lw.in_proj, load.matrix(p + "mixer.in_proj.weight", 2 * I, H, true));
                FM_TRY_ASSIGN(lw.conv_weight, load.vector(p + "mixer.conv1d.weight", {I, 1, K}));
                if (c.use_conv_bias)
                    FM_TRY_ASSIGN(lw.conv_bias, load.vector(p + "mixer.conv1d.bias", {I}));
                else
                    lw.conv_bias.assign(static_cast<size_t>(I), 0.0f);
                FM_TRY_ASSIGN(lw.x_proj, load.matrix(p + "mixer.x_proj.weight", R + 2 * N, I, true));
                FM_TRY_ASSIGN(lw.dt_proj, load.matrix(p + "mixer.dt_proj.weight", I, R, true));
                FM_TRY_ASSIGN(lw.dt_bias, load.vector(p + "mixer.dt_proj.bias", {I}));
                FM_TRY_ASSIGN(lw.A, load.vector(p + "mixer.A_log", {I, N}));
                for (float& a : lw.A) a = -std::exp(a);
                FM_TRY_ASSIGN(lw.D, load.vector(p + "mixer.D", {I}));
                FM_TRY_ASSIGN(lw.out_proj, load.matrix(p + "mixer.out_proj.weight", H, I, true));
                if (auto s = report(2 + l); !s) return Error{s.error()};
            }
            FM_TRY_ASSIGN(w->norm_f, load.vector("backbone.norm_f.weight", {H}));
            if (c.tie_word_embeddings && !w->store.find("lm_head.weight")) {
                w->lm_head = w->embedding;
            } else {
                FM_TRY_ASSIGN(w->lm_head, load.matrix("lm_head.weight", V, H, false));
                if (options.quantize_4bit && options.quantize_embeddings)
                    FM_TRY_ASSIGN(w->lm_head, load.quantize(w->lm_head));
            }
            // Rows of an untied table mapped from the file are read once per token and can be let go
            // of (release_embedding_rows); a tied one is read whole by lm_head every token.
            w->embedding_rows_releasable =
                w->embedding.data != w->lm_head.data && w->embedding.dtype != DType::Q4 &&
                load.is_mapped(w->embedding.data, static_cast<uint64_t>(w->embedding.bytes()));
            if (auto s = report(total_steps); !s) return Error{s.error()};
            return w;
        });
}

}  // namespace fm
