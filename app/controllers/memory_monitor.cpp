#include "app/controllers/memory_monitor.h"

#include <QLocale>

#include "app/process_memory.h"

namespace fm::app {

MemoryMonitor::MemoryMonitor(QObject* parent) : QObject(parent) {
    pollTimer_.setInterval(500);
    connect(&pollTimer_, &QTimer::timeout, this, &MemoryMonitor::pollResident);
    pollTimer_.start();
    pollResident();
}

QString MemoryMonitor::formatBytes(qint64 bytes) {
    if (bytes < 0) return QStringLiteral("—");
    return QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeIecFormat);
}

void MemoryMonitor::setFigures(const MemoryFigures& figures) {
    figures_ = figures;
    emit figuresChanged();
    addHistoryPoint();
}

void MemoryMonitor::pollResident() {
    const qint64 rss = fm::app::residentBytes();  // the free function, not the getter
    if (rss == residentBytes_) return;
    residentBytes_ = rss;
    emit residentChanged();
}

void MemoryMonitor::noteTokens(int count) {
    // A rolling figure over the last second or so: the first batch starts the clock.
    if (!rateTimer_.isValid()) {
        rateTimer_.start();
        rateTokens_ = 0;
        return;
    }
    rateTokens_ += count;
    const qint64 ms = rateTimer_.elapsed();
    if (ms >= 1000) {
        tokensPerSecond_ = 1000.0 * rateTokens_ / static_cast<double>(ms);
        rateTimer_.restart();
        rateTokens_ = 0;
        emit tokensPerSecondChanged();
    }
}

void MemoryMonitor::noteGenerationFinished(double tokensPerSecond) {
    rateTimer_.invalidate();
    if (tokensPerSecond > 0) {
        tokensPerSecond_ = tokensPerSecond;
        emit tokensPerSecondChanged();
    }
}

void MemoryMonitor::clearHistory() {
    history_.clear();
    lastHistoryTokens_ = -1;
    emit historyChanged();
}

void MemoryMonitor::addHistoryPoint() {
    if (figures_.tokensProcessed == lastHistoryTokens_) return;
    if (figures_.tokensProcessed < lastHistoryTokens_) history_.clear();  // a new session
    lastHistoryTokens_ = figures_.tokensProcessed;
    pollResident();
    constexpr double kMiB = 1024.0 * 1024.0;
    history_.append(QVariantMap{
        {QStringLiteral("tokens"), figures_.tokensProcessed},
        {QStringLiteral("processMiB"), static_cast<double>(residentBytes_) / kMiB},
        {QStringLiteral("modelMiB"), static_cast<double>(figures_.backend.weight_bytes + figures_.backend.state_bytes +
                                                         figures_.backend.workspace_bytes) /
                                         kMiB},
    });
    if (history_.size() > kMaxHistory) {
        // Keep the whole span visible: drop every other point of the older half.
        QVariantList thinned;
        for (int i = 0; i < history_.size(); ++i)
            if (i >= history_.size() / 2 || i % 2 == 0) thinned.append(history_.at(i));
        history_ = thinned;
    }
    emit historyChanged();
}

}  // namespace fm::app
