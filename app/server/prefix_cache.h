#pragma once
// Recurrent states of recent prompt prefixes. A Mamba state is the whole conversation up to a
// token, in fixed size; keeping it at the end of each prompt and each reply lets the next
// request that extends one read only its new tokens. Keys are token prefixes (a hash and a
// length to find candidates, the tokens compared in full on a hit), so a restored state has
// read exactly the tokens a fresh start would read first: the reply is the same.

#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <vector>

#include "inference/session/generation.h"

namespace fm::server {

class PrefixCache {
public:
    // Holds at most `capacity_bytes` of snapshots (states, logits and token lists); 0 disables.
    explicit PrefixCache(int64_t capacity_bytes) : capacity_(capacity_bytes) {}

    // The longest cached prefix of `prompt` (whole prompt included), made most recent.
    std::optional<SessionSnapshot> longest_prefix(std::span<const int32_t> prompt);
    // Keeps the snapshot (replacing one with the same tokens), evicting the least recent.
    // A snapshot larger than the whole capacity is not kept.
    void insert(SessionSnapshot snapshot);

    size_t size() const { return entries_.size(); }
    int64_t bytes() const { return bytes_; }
    int64_t capacity_bytes() const { return capacity_; }
    static int64_t cost(const SessionSnapshot& snapshot);

private:
    struct Entry {
        uint64_t hash;
        SessionSnapshot snapshot;
        int64_t bytes;
    };
    int64_t capacity_;
    int64_t bytes_ = 0;
    std::list<Entry> entries_;  // most recent first
};

uint64_t token_prefix_hash(std::span<const int32_t> tokens);

}  // namespace fm::server
