#pragma once
// FNV-1a over a sequence of strings, each followed by a separator byte so that ("ab", "c") and
// ("a", "bc") differ. Not cryptographic: it tells snapshots and caches apart, it does not defend
// against forgery. Header only.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace fm {

class Fingerprint {
public:
    void mix(std::string_view s) {
        for (unsigned char c : s) step(c);
        step(0xff);
    }
    // 16 lower-case hex digits.
    std::string hex() const {
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
        return buf;
    }

private:
    void step(unsigned char c) {
        h_ ^= c;
        h_ *= 1099511628211ull;
    }
    uint64_t h_ = 1469598103934665603ull;
};

}  // namespace fm
