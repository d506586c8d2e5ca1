#include "kernels/cpu/thread_pool.h"

#include <algorithm>

namespace fm {

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    grain = std::max<int64_t>(grain, 1);
    const int64_t max_chunks = std::max<int64_t>(1, n / grain);
    const int64_t chunks = std::min<int64_t>(max_chunks, static_cast<int64_t>(size()) * 4);
    std::unique_lock lock(mutex_);
    if (chunks == 1 || workers_.empty() || busy_) {
        lock.unlock();
        fn(0, n);
        return;
    }
    busy_ = true;
    job_ = &fn;
    job_n_ = n;
    job_chunk_ = (n + chunks - 1) / chunks;
    chunks_ = (n + job_chunk_ - 1) / job_chunk_;
    next_chunk_ = 0;
    pending_ = static_cast<int>(workers_.size());
    ++generation_;
    lock.unlock();
    wake_.notify_all();

    // The calling thread takes chunks too.
    for (;;) {
        lock.lock();
        int64_t c = next_chunk_ < chunks_ ? next_chunk_++ : -1;
        lock.unlock();
        if (c < 0) break;
        fn(c * job_chunk_, std::min(n, (c + 1) * job_chunk_));
    }
    lock.lock();
    done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
    busy_ = false;
}

void ThreadPool::worker_loop(int) {
    uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        for (;;) {
            int64_t c = next_chunk_ < chunks_ ? next_chunk_++ : -1;
            if (c < 0) break;
            const auto* fn = job_;
            const int64_t n = job_n_, chunk = job_chunk_;
            lock.unlock();
            (*fn)(c * chunk, std::min(n, (c + 1) * chunk));
            lock.lock();
        }
        if (--pending_ == 0) done_.notify_all();
    }
}

}  // namespace fm
