#include "app/worker/chat_format_adapter.h"

namespace fm::app {

bool formatIsChat(const fm::ChatFormat& format) {
    return format.mode() != fm::ChatMode::Completion;
}

std::shared_ptr<const fm::ChatFormat> formatFor(const fm::ChatFormat& checkpointFormat, bool completion) {
    // A base model has no chat mode to switch to: it stays plain completion.
    if (completion) return std::make_shared<const fm::ChatFormat>(checkpointFormat.as_completion());
    return std::make_shared<const fm::ChatFormat>(checkpointFormat);
}

fm::ChatMessage makeChatMessage(const QString& role, const QString& content) {
    return fm::ChatMessage{role.toStdString(), content.toStdString()};
}

}  // namespace fm::app
