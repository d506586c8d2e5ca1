// safetensors header and index: the input is a model.safetensors file, or (first byte 'I') a
// model.safetensors.index.json next to the tiny test checkpoint's shards. Opening never
// throws or crashes, and every tensor of a store that opens lies inside its file.
#include <cstdlib>

#include "inference/checkpoint/safetensors.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace fs = std::filesystem;
    const auto dir = fm::fuzz::scratch_dir() / "st";
    fs::remove_all(dir);
    fs::create_directories(dir);
    if (size > 0 && data[0] == 'I') {
        const fs::path shards = FM_TEST_DATA_DIR "/checkpoints/tiny-f32-sharded";
        for (const char* shard : {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"})
            fs::create_symlink(shards / shard, dir / shard);
        fm::fuzz::write_file(dir / "model.safetensors.index.json", fm::fuzz::as_text(data + 1, size - 1));
    } else {
        fm::fuzz::write_file(dir / "model.safetensors", fm::fuzz::as_text(data, size));
    }
    auto store = fm::TensorStore::open(dir);
    if (!store) return 0;
    for (const auto& [name, t] : store->tensors()) {
        bool inside = false;
        for (const auto& f : store->files())
            inside = inside || (t.data >= f->data() && t.data + t.byte_size <= f->data() + f->size());
        if (!inside) std::abort();
    }
    return 0;
}
