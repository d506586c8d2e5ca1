#include "app/markdown/ordered_render.h"

#include <QThread>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace fm::app {
namespace {

constexpr qsizetype kWindow = 256;
// Below this a helper thread costs more than it saves.
constexpr qsizetype kParallelFrom = 64;

class OrderedRenderer {
public:
    OrderedRenderer(qsizetype count, const std::function<QString(qsizetype)>& render)
        : count_(count), render_(render), results_(size_t(kWindow)), ready_(size_t(kWindow), false) {}

    void run(const std::function<void(qsizetype, QString&&)>& consume) {
        std::thread helper([this] { help(); });
        for (qsizetype i = 0; i < count_; ++i) {
            QString result;
            {
                std::unique_lock lock(mutex_);
                // Waiting for an item the helper is on: render the next one meanwhile.
                while (!ready_[slot(i)]) {
                    if (!claimAndRender(lock)) changed_.wait(lock);
                }
                result = std::move(results_[slot(i)]);
                ready_[slot(i)] = false;
                consumed_ = i + 1;
            }
            changed_.notify_all();
            consume(i, std::move(result));
        }
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        changed_.notify_all();
        helper.join();
    }

private:
    static size_t slot(qsizetype i) { return size_t(i % kWindow); }

    void help() {
        std::unique_lock lock(mutex_);
        while (!done_) {
            if (!claimAndRender(lock)) changed_.wait(lock);
        }
    }

    // Under the lock: takes the next item within the window, renders it with the lock released,
    // and stores it. False when there is nothing to take now.
    bool claimAndRender(std::unique_lock<std::mutex>& lock) {
        if (next_ >= count_ || next_ >= consumed_ + kWindow) return false;
        const qsizetype item = next_++;
        lock.unlock();
        QString result = render_(item);
        lock.lock();
        results_[slot(item)] = std::move(result);
        ready_[slot(item)] = true;
        changed_.notify_all();
        return true;
    }

    const qsizetype count_;
    const std::function<QString(qsizetype)>& render_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<QString> results_;
    std::vector<bool> ready_;
    qsizetype next_ = 0;      // the next item to render
    qsizetype consumed_ = 0;  // items handed to the consumer
    bool done_ = false;
};

}  // namespace

void renderInOrder(qsizetype count, const std::function<QString(qsizetype)>& render,
                   const std::function<void(qsizetype, QString&&)>& consume) {
    if (count < kParallelFrom || QThread::idealThreadCount() < 2) {
        for (qsizetype i = 0; i < count; ++i) consume(i, render(i));
        return;
    }
    OrderedRenderer(count, render).run(consume);
}

}  // namespace fm::app
