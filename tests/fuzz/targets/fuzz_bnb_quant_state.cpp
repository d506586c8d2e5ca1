// bitsandbytes quant state: the input replaces the JSON quant state of one 4-bit matrix of the
// tiny NF4 test checkpoint (codes, absmax, code books and nested scales kept). Loading the
// matrix never throws or crashes; a matrix that loads has the checkpoint's shape. The
// checkpoint is built in memory (safetensors_bytes, TensorStore::from_bytes), not on disk.
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "inference/checkpoint/quant4.h"
#include "inference/checkpoint/safetensors.h"
#include "inference/checkpoint/safetensors_writer.h"
#include "inference/checkpoint/weights.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

constexpr char kWeight[] = "backbone.layers.0.mixer.in_proj.weight";
constexpr char kState[] = "backbone.layers.0.mixer.in_proj.weight.quant_state.bitsandbytes__nf4";

struct Matrix {
    std::vector<fm::TensorToWrite> companions;  // everything of kWeight but its quant state
    int64_t rows = 0, cols = 0;
};

const Matrix& matrix() {
    static const Matrix m = [] {
        Matrix out;
        auto store = fm::TensorStore::open_file(FM_TEST_DATA_DIR "/checkpoints/tiny-bnb-nf4-double/model.safetensors");
        if (!store) std::abort();
        for (const auto& [name, t] : store->tensors()) {
            if (name.rfind(kWeight, 0) != 0 || name == kState) continue;
            out.companions.push_back(fm::TensorToWrite::from_bytes(name, t.dtype, t.shape,
                                                                   std::vector<uint8_t>(t.data, t.data + t.byte_size)));
        }
        const fm::TensorInfo* state = store->find(kState);
        if (!state) std::abort();
        auto shape = nlohmann::json::parse(state->data, state->data + state->byte_size).at("shape");
        out.rows = shape[0].get<int64_t>();
        out.cols = shape[1].get<int64_t>();
        return out;
    }();
    return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const Matrix& m = matrix();
    auto tensors = m.companions;
    tensors.push_back(fm::TensorToWrite::from_bytes(kState, fm::DType::U8, {static_cast<int64_t>(size)},
                                                    std::vector<uint8_t>(data, data + size)));
    auto store = fm::TensorStore::from_bytes(fm::safetensors_bytes(tensors), "fuzz/bnb.safetensors");
    if (!store) std::abort();  // the file is well formed; only the quant state's JSON is fuzzed
    fm::Q4Storage storage;
    auto view = fm::load_bnb_linear(*store, kWeight, m.rows, m.cols, storage);
    if (view && (view->rows != m.rows || view->cols != m.cols)) std::abort();
    return 0;
}
