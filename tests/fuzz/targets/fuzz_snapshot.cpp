// Conversation snapshot files: decoding never throws, crashes or allocates more than the bytes
// imply; a snapshot that decodes encodes back to the same bytes.
#include <cstdlib>

#include "inference/session/snapshot_file.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto s = fm::decode_snapshot(std::span<const uint8_t>(data, size));
    if (s && fm::encode_snapshot(*s) != std::vector<uint8_t>(data, data + size)) std::abort();
    return 0;
}
