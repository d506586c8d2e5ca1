#include "app/worker/streaming_saver.h"

#include "app/storage/conversation_store.h"
#include "app/storage/database.h"

namespace fm::app {

StreamingSaver::StreamingSaver(QObject* parent) : QObject(parent) {}

StreamingSaver::~StreamingSaver() {
    close();
}

void StreamingSaver::open(const QString& databasePath) {
    close();
    auto database = std::make_unique<fm::Database>();
    if (auto status = database->open(databasePath); !status) {
        emit failed(
            QStringLiteral("Cannot open the conversation database for saving replies: %1").arg(errorText(status)));
        return;
    }
    database_ = std::move(database);
    store_ = std::make_unique<fm::ConversationStore>(*database_);
}

void StreamingSaver::close() {
    store_.reset();
    database_.reset();
}

void StreamingSaver::saveStreaming(qint64 messageId, const QString& text) {
    if (!store_) return;
    if (auto status = store_->updateStreamingContent(messageId, text); !status)
        emit failed(QStringLiteral("Saving the reply failed: %1").arg(errorText(status)));
}

void StreamingSaver::finish(qint64 messageId, fm::MessageStatus status, int promptTokens, int completionTokens,
                            const QString& finalText) {
    if (!store_) {
        emit finished(messageId, false, QStringLiteral("The conversation database is not open."));
        return;
    }
    fm::TokenCounts tokens;
    if (promptTokens >= 0) tokens.prompt = promptTokens;
    if (completionTokens >= 0) tokens.completion = completionTokens;
    const auto result = store_->finishMessage(messageId, status, tokens, finalText);
    emit finished(messageId, result.ok(), errorText(result));
}

void StreamingSaver::interrupt(qint64 messageId, const QString& textSoFar) {
    if (!store_) return;
    auto message = store_->message(messageId);
    if (!message || message->status != fm::MessageStatus::Streaming) return;
    finish(messageId, fm::MessageStatus::Interrupted, -1, -1, textSoFar);
}

}  // namespace fm::app
