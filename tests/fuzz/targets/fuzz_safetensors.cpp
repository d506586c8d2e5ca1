// safetensors header and index: the input is a model.safetensors file, or (first byte 'I') a
// model.safetensors.index.json next to the tiny test checkpoint's shards. Opening never
// throws or crashes, and every tensor of a store that opens lies inside its file. The input
// is read from memory (TensorStore::from_bytes, open_index): the same checks as a file's.
#include <cstdlib>

#include "inference/checkpoint/safetensors.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace fs = std::filesystem;
    static const fs::path shards = FM_TEST_DATA_DIR "/checkpoints/tiny-f32-sharded";
    auto store = size > 0 && data[0] == 'I'
                     ? fm::TensorStore::open_index(fm::fuzz::as_text(data + 1, size - 1),
                                                   "fuzz/model.safetensors.index.json", shards)
                     : fm::TensorStore::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz/model.safetensors");
    if (!store) {
        if (store.error().empty()) std::abort();
        return 0;
    }
    for (const auto& [name, t] : store->tensors()) {
        bool inside = false;
        for (const auto& f : store->files())
            inside = inside || (t.data >= f->data() && t.data + t.byte_size <= f->data() + f->size());
        if (!inside) std::abort();
    }
    return 0;
}
