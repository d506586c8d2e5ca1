#pragma once
// The few things the worker needs from fm::ChatFormat, in one place: asking which mode a
// checkpoint's format declares, and a copy in the mode a conversation chose.

#include <QString>

#include <filesystem>
#include <memory>

#include "inference/chat/chat_format.h"
#include "inference/core/result.h"
#include "inference/text/tokenizer.h"

namespace fm::app {

bool formatIsChat(const fm::ChatFormat& format);
// The checkpoint's format, switched to plain completion (or back to its chat template).
std::shared_ptr<const fm::ChatFormat> formatFor(const fm::ChatFormat& checkpointFormat, bool completion);
fm::ChatMessage makeChatMessage(const QString& role, const QString& content);

}  // namespace fm::app
