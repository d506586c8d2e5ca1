#pragma once
// One pool of worker threads for all matrix work on the CPU.
//
// parallel_for(n, grain, fn) gives each thread one contiguous share of [0, n), so that each
// streams its own part of a weight matrix from memory, and returns when all shares are done.
// A share is handed out in chunks from its front; a thread that finishes its own share takes
// chunks from the shares still running, so a thread slowed down by the machine (another
// process on its core) does not hold up the rest.
// A token of decode makes ~250 such calls in a few milliseconds, so hand-over must cost
// microseconds, not the tens of microseconds of a condition-variable wake-up: between calls the
// workers spin on an atomic for a short while (kSpinMicros) and only then sleep. The pool is not
// re-entrant: calls from inside a task run serially.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fm {

class ThreadPool {
public:
    // threads <= 0: one per physical core (default_threads()).
    explicit ThreadPool(int threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return static_cast<int>(workers_.size()) + 1; }

    // Calls fn(begin, end) over disjoint contiguous ranges covering [0, n); range boundaries are
    // multiples of `grain` (only the last range may be shorter).
    void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

    // Physical cores of this machine (hyper-threads share a core's FMA units and its bandwidth,
    // so they rarely help these kernels); at least 1.
    static int default_threads();

private:
    void worker_loop(int index);
    void run_share(int index);

    std::vector<std::thread> workers_;
    // The job: written by the caller before it bumps generation_, read by workers after.
    const std::function<void(int64_t, int64_t)>* job_ = nullptr;
    int64_t job_chunk_ = 1;  // items per hand-out, a multiple of the grain
    int job_parts_ = 0;
    // Per share: the next item to hand out and the end; one cache line each.
    struct alignas(64) Share {
        std::atomic<int64_t> next{0};
        int64_t end = 0;
    };
    std::vector<Share> shares_;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> busy_{false};
    std::atomic<bool> stop_{false};
    // Sleeping workers wait here; the caller notifies only when one may be asleep.
    std::mutex sleep_mutex_;
    std::condition_variable wake_;
    std::atomic<int> sleepers_{0};
};

}  // namespace fm
