#include "app/controllers/chat/chat_settings.h"

#include <QRandomGenerator>

#include <algorithm>
#include <limits>
#include <type_traits>

#include "app/storage/conversation_store.h"

namespace fm::app {
namespace {
const QString kDefaultsKey = QStringLiteral("generation/defaults");
const QString kSystemPromptKey = QStringLiteral("generation/systemPrompt");

// Each setting's valid range.
fm::GenerationSettings clamped(fm::GenerationSettings s) {
    const auto clamp = [](auto& value, auto low, auto high) {
        if (value) value = std::clamp<std::decay_t<decltype(*value)>>(*value, low, high);
    };
    clamp(s.temperature, 0.0, 5.0);
    clamp(s.topP, 0.0, 1.0);
    clamp(s.topK, 0, std::numeric_limits<int>::max());
    clamp(s.minP, 0.0, 1.0);
    clamp(s.repeatPenalty, 1.0, 3.0);
    clamp(s.maxNewTokens, 1, 1 << 20);
    clamp(s.seed, qint64{-1}, std::numeric_limits<qint64>::max());
    return s;
}

// Each generation setting and the engine parameter it becomes: the one mapping between the
// two, gone over one way by engineParams() and the other by settingsUsed().
template <typename F>
void forEachEngineParam(F&& f) {
    f(
        &fm::GenerationSettings::temperature, [](auto& p) -> auto& { return p.sampling.temperature; });
    f(
        &fm::GenerationSettings::topP, [](auto& p) -> auto& { return p.sampling.top_p; });
    f(
        &fm::GenerationSettings::topK, [](auto& p) -> auto& { return p.sampling.top_k; });
    f(
        &fm::GenerationSettings::minP, [](auto& p) -> auto& { return p.sampling.min_p; });
    f(
        &fm::GenerationSettings::repeatPenalty, [](auto& p) -> auto& { return p.sampling.repeat_penalty; });
    f(
        &fm::GenerationSettings::maxNewTokens, [](auto& p) -> auto& { return p.max_new_tokens; });
    f(
        &fm::GenerationSettings::seed, [](auto& p) -> auto& { return p.sampling.seed; });
}
}  // namespace

fm::GenerationSettings ChatSettings::builtInDefaults() {
    fm::GenerationParams engine;
    engine.max_new_tokens = 1024;
    fm::GenerationSettings s = settingsUsed(engine);
    s.seed = -1;
    return s;
}

ChatSettings::ChatSettings(fm::ConversationStore* store, QObject* parent) : QObject(parent), store_(store) {
    loadDefaults();
}

void ChatSettings::loadDefaults() {
    defaults_ = builtInDefaults();
    if (!store_) return;
    if (auto text = store_->setting(kDefaultsKey); text && text->has_value()) {
        // Keys missing from the saved JSON keep the built-in values.
        defaults_ = defaults_.overlaidWith(fm::GenerationSettings::fromJsonText(**text));
    }
    if (auto prompt = store_->setting(kSystemPromptKey); prompt && prompt->has_value()) defaultSystemPrompt_ = **prompt;
}

void ChatSettings::setConversation(qint64 conversationId, const fm::ConversationOptions& options) {
    conversationId_ = conversationId;
    options_ = options;
    if (conversationId == 0) {
        options_.mode = checkpointCompletion_ ? fm::ConversationMode::Completion : fm::ConversationMode::Chat;
    }
    emit changed();
}

void ChatSettings::setCheckpointMode(bool completion) {
    checkpointCompletion_ = completion;
    if (conversationId_ == 0) {
        options_.mode = completion ? fm::ConversationMode::Completion : fm::ConversationMode::Chat;
        emit changed();
    }
}

void ChatSettings::persist() {
    emit changed();
    if (!store_ || conversationId_ == 0) return;  // applied when the conversation is created
    if (auto status = store_->setConversationOptions(conversationId_, options_); !status)
        emit errorOccurred(errorText(status));
}

// An empty system prompt in the conversation means "the default": a conversation cannot
// override the default with "no system prompt" except by a single space, which is trimmed.
QString ChatSettings::systemPrompt() const {
    return options_.systemPrompt.isEmpty() ? defaultSystemPrompt_ : options_.systemPrompt.trimmed();
}
bool ChatSettings::usesDefaults() const {
    return options_.settings.isDefault() && options_.systemPrompt.isEmpty();
}

void ChatSettings::setSystemPrompt(const QString& prompt) {
    if (prompt == systemPrompt()) return;
    options_.systemPrompt =
        prompt == defaultSystemPrompt_ ? QString() : (prompt.isEmpty() ? QStringLiteral(" ") : prompt);
    persist();
}

void ChatSettings::change(const fm::GenerationSettings& overrides) {
    const fm::GenerationSettings next = options_.settings.overlaidWith(clamped(overrides));
    if (next == options_.settings) return;
    options_.settings = next;
    persist();
}

void ChatSettings::setCompletionMode(bool on) {
    const auto mode = on ? fm::ConversationMode::Completion : fm::ConversationMode::Chat;
    if (options_.mode == mode) return;
    options_.mode = mode;
    persist();
}

void ChatSettings::saveAsDefaults() {
    const fm::GenerationSettings next = values();
    const QString prompt = systemPrompt();
    if (store_) {
        if (auto s = store_->setSetting(kDefaultsKey, next.toJsonText()); !s) {
            emit errorOccurred(errorText(s));
            return;
        }
        if (auto s = store_->setSetting(kSystemPromptKey, prompt); !s) {
            emit errorOccurred(errorText(s));
            return;
        }
    }
    defaults_ = next;
    defaultSystemPrompt_ = prompt;
    options_.settings = {};
    options_.systemPrompt.clear();
    persist();
}

void ChatSettings::resetToDefaults() {
    options_.settings = {};
    options_.systemPrompt.clear();
    persist();
}

fm::GenerationParams ChatSettings::engineParams() const {
    const fm::GenerationSettings v = values();
    fm::GenerationParams params;
    forEachEngineParam([&](auto setting, auto engine) {
        auto& target = engine(params);
        target = static_cast<std::remove_reference_t<decltype(target)>>(*(v.*setting));
    });
    if (*v.seed < 0) params.sampling.seed = QRandomGenerator::global()->generate64();
    return params;
}

fm::GenerationSettings ChatSettings::settingsUsed(const fm::GenerationParams& params) {
    fm::GenerationSettings s;
    forEachEngineParam([&](auto setting, auto engine) {
        using T = typename std::remove_reference_t<decltype(s.*setting)>::value_type;
        s.*setting = static_cast<T>(engine(params));
    });
    return s;
}

}  // namespace fm::app
