#pragma once
// Saves the reply being streamed, off the GUI thread.
//
// Lives in its own QThread with its own Database connection (one connection per thread, see
// app/storage/database.h). The inference worker sends it the text so far about once a second
// (InferenceWorker::replyTextSoFar), so a killed process loses at most about a second of a
// reply, and then the reply's end (InferenceWorker::replyEnded): one hop from the worker, and
// a late partial save can never overwrite the final text (one sender, FIFO order).

#include <QObject>
#include <QString>

#include <memory>

#include "app/storage/storage_types.h"

namespace fm {
class Database;
class ConversationStore;
}  // namespace fm

namespace fm::app {

class StreamingSaver : public QObject {
    Q_OBJECT
public:
    explicit StreamingSaver(QObject* parent = nullptr);
    ~StreamingSaver() override;

public slots:
    void open(const QString& databasePath);
    void saveStreaming(qint64 messageId, const QString& text);
    void finish(qint64 messageId, fm::MessageStatus status, int promptTokens, int completionTokens,
                const QString& finalText);
    // Marks the reply interrupted with `textSoFar` if nothing ended it yet (the app is closing
    // and the worker never got to it).
    void interrupt(qint64 messageId, const QString& textSoFar);
    void close();

signals:
    void finished(qint64 messageId, bool ok, const QString& error);
    void failed(const QString& error);

private:
    std::unique_ptr<fm::Database> database_;
    std::unique_ptr<fm::ConversationStore> store_;
};

}  // namespace fm::app
