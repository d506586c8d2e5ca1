#pragma once
// The memory panel's figures: what the backend reports (weights, recurrent state, workspace,
// device memory) plus this process's resident memory, tokens processed and tokens/s, and a
// history of memory against tokens processed for the chart. Falcon Mamba's state has a fixed
// size, so the chart's line stays flat however long the conversation gets.

#include <QtQml/qqmlregistration.h>
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <QVariantList>

#include "app/worker/inference_types.h"

namespace fm::app {

class MemoryMonitor : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("MemoryMonitor is provided by AppController")
    Q_PROPERTY(qint64 weightBytes READ weightBytes NOTIFY figuresChanged)
    Q_PROPERTY(qint64 stateBytes READ stateBytes NOTIFY figuresChanged)
    Q_PROPERTY(qint64 workspaceBytes READ workspaceBytes NOTIFY figuresChanged)
    Q_PROPERTY(qint64 deviceFreeBytes READ deviceFreeBytes NOTIFY figuresChanged)
    Q_PROPERTY(qint64 deviceTotalBytes READ deviceTotalBytes NOTIFY figuresChanged)
    Q_PROPERTY(qint64 residentBytes READ residentBytes NOTIFY residentChanged)
    Q_PROPERTY(qint64 tokensProcessed READ tokensProcessed NOTIFY figuresChanged)
    Q_PROPERTY(double tokensPerSecond READ tokensPerSecond NOTIFY tokensPerSecondChanged)
    // [{tokens, processMiB, modelMiB}], oldest first, at most kMaxHistory points.
    Q_PROPERTY(QVariantList history READ history NOTIFY historyChanged)

public:
    explicit MemoryMonitor(QObject* parent = nullptr);

    qint64 weightBytes() const { return figures_.backend.weight_bytes; }
    qint64 stateBytes() const { return figures_.backend.state_bytes; }
    qint64 workspaceBytes() const { return figures_.backend.workspace_bytes; }
    qint64 deviceFreeBytes() const { return figures_.backend.device_free_bytes; }
    qint64 deviceTotalBytes() const { return figures_.backend.device_total_bytes; }
    qint64 residentBytes() const { return residentBytes_; }
    qint64 tokensProcessed() const { return figures_.tokensProcessed; }
    double tokensPerSecond() const { return tokensPerSecond_; }
    QVariantList history() const { return history_; }

    // "1.2 GiB", "640 KiB": what the panel prints.
    Q_INVOKABLE static QString formatBytes(qint64 bytes);

    static constexpr int kMaxHistory = 240;

public slots:
    void setFigures(const fm::app::MemoryFigures& figures);
    void noteTokens(int count);  // while streaming: for the live tokens/s
    void noteGenerationFinished(double tokensPerSecond);
    void pollResident();
    void clearHistory();

signals:
    void figuresChanged();
    void residentChanged();
    void tokensPerSecondChanged();
    void historyChanged();

private:
    void addHistoryPoint();

    MemoryFigures figures_;
    qint64 residentBytes_ = 0;
    double tokensPerSecond_ = 0;
    QElapsedTimer rateTimer_;
    int rateTokens_ = 0;
    QTimer pollTimer_;
    QVariantList history_;
    qint64 lastHistoryTokens_ = -1;
};

}  // namespace fm::app
