#pragma once
// Saves the reply being streamed, off the GUI thread.
//
// Lives in its own QThread with its own Database connection (one connection per thread, see
// app/storage/database.h). The conversation controller sends it the text so far about once
// a second, so a killed process loses at most about a second of a reply; the final text goes
// through here too, so a late partial save can never overwrite it (one thread, FIFO order).

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
    void close();

signals:
    void finished(qint64 messageId, bool ok, const QString& error);
    void failed(const QString& error);

private:
    std::unique_ptr<fm::Database> database_;
    std::unique_ptr<fm::ConversationStore> store_;
};

}  // namespace fm::app

Q_DECLARE_METATYPE(fm::MessageStatus)
