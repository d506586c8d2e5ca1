#pragma once
// Replies that stream slowly, for tests that act while a reply is still streaming: a
// TokenPacer (the worker's seam for pacing) that sleeps after each token.

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "app/worker/inference_worker.h"

namespace fm::app::testing {

// Sleeps `ms` after each token, in slices of 5 ms, so that a stop still lands at once.
class SleepPacer final : public InferenceWorker::TokenPacer {
public:
    explicit SleepPacer(int ms) : ms_(ms) {}
    void afterToken(const std::atomic<bool>& cancel) override {
        for (int slept = 0; slept < ms_ && !cancel.load(); slept += 5)
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5, ms_ - slept)));
    }

private:
    int ms_;
};

// A pacer for `ms` per token, or none (full speed) for 0.
inline std::shared_ptr<InferenceWorker::TokenPacer> tokenPace(int ms) {
    if (ms <= 0) return nullptr;
    return std::make_shared<SleepPacer>(ms);
}

}  // namespace fm::app::testing
