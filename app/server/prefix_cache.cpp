#include "app/server/prefix_cache.h"

#include <algorithm>

namespace fm::server {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t mix(uint64_t h, int32_t token) {
    const auto u = static_cast<uint32_t>(token);
    for (int shift = 0; shift < 32; shift += 8) {
        h ^= (u >> shift) & 0xffu;
        h *= kFnvPrime;
    }
    return h;
}

}  // namespace

uint64_t token_prefix_hash(std::span<const int32_t> tokens) {
    uint64_t h = kFnvOffset;
    for (int32_t t : tokens) h = mix(h, t);
    return h;
}

int64_t PrefixCache::cost(const SessionSnapshot& s) {
    return s.state.bytes() + static_cast<int64_t>(s.last_logits.size() * sizeof(float)) +
           static_cast<int64_t>(s.tokens.size() * sizeof(int32_t)) + static_cast<int64_t>(s.text.size());
}

std::optional<SessionSnapshot> PrefixCache::longest_prefix(std::span<const int32_t> prompt) {
    if (entries_.empty()) return std::nullopt;
    // One pass over the prompt gives the hash of every prefix length an entry could match.
    std::vector<uint64_t> prefix_hash(prompt.size() + 1);
    prefix_hash[0] = kFnvOffset;
    for (size_t i = 0; i < prompt.size(); ++i) prefix_hash[i + 1] = mix(prefix_hash[i], prompt[i]);
    auto best = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        const auto& tokens = it->snapshot.tokens;
        if (tokens.size() > prompt.size() || it->hash != prefix_hash[tokens.size()]) continue;
        if (best != entries_.end() && best->snapshot.tokens.size() >= tokens.size()) continue;
        // A hash match is a candidate only: the tokens decide.
        if (!std::equal(tokens.begin(), tokens.end(), prompt.begin())) continue;
        // Without logits a state cannot start generating, and an empty prefix saves nothing.
        if (tokens.empty() || it->snapshot.last_logits.empty()) continue;
        best = it;
    }
    if (best == entries_.end()) return std::nullopt;
    entries_.splice(entries_.begin(), entries_, best);
    return entries_.front().snapshot;
}

void PrefixCache::insert(SessionSnapshot snapshot) {
    const int64_t bytes = cost(snapshot);
    if (bytes > capacity_ || snapshot.tokens.empty() || snapshot.last_logits.empty()) return;
    const uint64_t hash = token_prefix_hash(snapshot.tokens);
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it->hash == hash && it->snapshot.tokens == snapshot.tokens) {
            bytes_ -= it->bytes;
            entries_.erase(it);
            break;
        }
    while (!entries_.empty() && bytes_ + bytes > capacity_) {
        bytes_ -= entries_.back().bytes;
        entries_.pop_back();
    }
    entries_.push_front(Entry{hash, std::move(snapshot), bytes});
    bytes_ += bytes;
}

}  // namespace fm::server
