#pragma once
// A generation session's snapshot on disk: the recurrent state, the tokens and text it has read,
// the logits after them, and the fingerprint of what produced it (checkpoint identity, weight
// format, backend numerics). A snapshot whose fingerprint differs from the current model's must
// not be used: its state would not be what this model computes.
//
// Layout (little-endian): magic "FMSS", u32 version, u32 fingerprint length + bytes,
// u64 token count + i32 tokens, u64 text length + bytes, u64 logit count + f32 logits,
// u64 state length + RecurrentState::serialize() bytes, u64 metadata length + bytes,
// u32 CRC-32 of all before it.
// Written to a temporary file, flushed and renamed, so a crash never leaves half a snapshot.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "inference/core/result.h"
#include "inference/session/generation.h"

namespace fm {

struct StoredSnapshot {
    std::string fingerprint;
    SessionSnapshot snapshot;
    std::string metadata;  // the caller's own (e.g. the CLI chat's messages as JSON)
};

std::vector<uint8_t> encode_snapshot(const StoredSnapshot& s);
Result<StoredSnapshot> decode_snapshot(std::span<const uint8_t> bytes);

Status save_snapshot_file(const std::filesystem::path& path, const StoredSnapshot& s);
Result<StoredSnapshot> load_snapshot_file(const std::filesystem::path& path);

// What a snapshot must match: the checkpoint's fingerprint and the backend's numerics.
std::string snapshot_fingerprint(const Backend& backend);

}  // namespace fm
