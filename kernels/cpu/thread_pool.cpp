#include "kernels/cpu/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FM_PAUSE() _mm_pause()
#else
#define FM_PAUSE() std::this_thread::yield()
#endif

namespace fm {
namespace {

// How long an idle worker spins before it sleeps: longer than the gap between two matrix
// products of one token (a norm, a conv step: a few microseconds), much shorter than the gap
// between tokens as a user sees them.
constexpr auto kSpin = std::chrono::microseconds(200);

}  // namespace

int ThreadPool::default_threads() {
    // Count distinct (package, core) pairs from sysfs; hardware_concurrency() counts SMT siblings.
    std::set<std::pair<std::string, std::string>> cores;
    const unsigned logical = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned cpu = 0; cpu < logical; ++cpu) {
        const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
        std::ifstream pkg(base + "physical_package_id"), core(base + "core_id");
        std::string p, c;
        if (!(pkg >> p) || !(core >> c)) return static_cast<int>(logical);
        cores.emplace(p, c);
    }
    return std::max<int>(1, static_cast<int>(cores.size()));
}

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0) threads = default_threads();
    shares_ = std::vector<Share>(static_cast<size_t>(threads));
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(sleep_mutex_);
        stop_.store(true);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::run_share(int index) {
    if (index >= job_parts_) return;
    // Its own share first, then whatever is left of the others.
    for (int k = 0; k < job_parts_; ++k) {
        Share& share = shares_[static_cast<size_t>((index + k) % job_parts_)];
        for (;;) {
            const int64_t begin = share.next.fetch_add(job_chunk_, std::memory_order_relaxed);
            if (begin >= share.end) break;
            (*job_)(begin, std::min(share.end, begin + job_chunk_));
        }
    }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    grain = std::max<int64_t>(grain, 1);
    const int64_t grains = (n + grain - 1) / grain;
    const int parts = static_cast<int>(std::min<int64_t>(grains, size()));
    bool expected = false;
    if (parts <= 1 || !busy_.compare_exchange_strong(expected, true)) {
        fn(0, n);
        return;
    }
    job_ = &fn;
    job_parts_ = parts;
    // Shares in whole grains, as equal as possible; each handed out in about 8 chunks.
    const int64_t per = grains / parts, extra = grains % parts;
    job_chunk_ = grain * std::max<int64_t>(1, per / 8);
    for (int i = 0; i < parts; ++i) {
        const int64_t g0 = i * per + std::min<int64_t>(i, extra);
        const int64_t g1 = g0 + per + (i < extra ? 1 : 0);
        Share& share = shares_[static_cast<size_t>(i)];
        share.next.store(g0 * grain, std::memory_order_relaxed);
        share.end = std::min(n, g1 * grain);
    }
    pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
        std::lock_guard lock(sleep_mutex_);
        wake_.notify_all();
    }
    run_share(0);
    // The other shares usually end within microseconds of ours; when they do not (a worker was
    // descheduled on a busy machine), give the core away instead of spinning against it.
    for (int polls = 0; pending_.load(std::memory_order_acquire) != 0; ++polls) {
        if (polls < 4096)
            FM_PAUSE();
        else
            std::this_thread::yield();
    }
    job_ = nullptr;
    busy_.store(false, std::memory_order_release);
}

void ThreadPool::worker_loop(int index) {
    uint64_t seen = 0;
    for (;;) {
        // Spin briefly for the next job, then sleep until one comes.
        auto spin_until = std::chrono::steady_clock::now() + kSpin;
        int polls = 0;
        while (generation_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_relaxed)) {
            FM_PAUSE();
            if (++polls % 64 == 0 && std::chrono::steady_clock::now() > spin_until) {
                std::unique_lock lock(sleep_mutex_);
                sleepers_.fetch_add(1, std::memory_order_seq_cst);
                wake_.wait(lock, [&] { return stop_.load() || generation_.load(std::memory_order_seq_cst) != seen; });
                sleepers_.fetch_sub(1, std::memory_order_relaxed);
                spin_until = std::chrono::steady_clock::now() + kSpin;
            }
        }
        if (stop_.load()) return;
        seen = generation_.load(std::memory_order_acquire);
        run_share(index);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

}  // namespace fm
