#include "app/controllers/generation_settings.h"

#include <QRandomGenerator>

#include <algorithm>

#include "app/storage/conversation_store.h"

namespace fm::app {
namespace {
const QString kDefaultsKey = QStringLiteral("generation/defaults");
const QString kSystemPromptKey = QStringLiteral("generation/systemPrompt");

template <typename T>
T valueOr(const std::optional<T>& value, const std::optional<T>& fallback) {
    return value.has_value() ? *value : *fallback;
}
}  // namespace

fm::GenerationSettings GenerationSettings::builtInDefaults() {
    fm::GenerationSettings s;
    const fm::SamplingParams engine;
    s.temperature = engine.temperature;
    s.topP = engine.top_p;
    s.topK = engine.top_k;
    s.minP = engine.min_p;
    s.repeatPenalty = engine.repeat_penalty;
    s.maxNewTokens = 1024;
    s.seed = -1;
    return s;
}

GenerationSettings::GenerationSettings(fm::ConversationStore* store, QObject* parent) : QObject(parent), store_(store) {
    loadDefaults();
}

void GenerationSettings::loadDefaults() {
    defaults_ = builtInDefaults();
    if (!store_) return;
    if (auto text = store_->setting(kDefaultsKey); text && text->has_value()) {
        const fm::GenerationSettings saved = fm::GenerationSettings::fromJsonText(**text);
        // Keys missing from the saved JSON keep the built-in values.
        if (saved.temperature) defaults_.temperature = saved.temperature;
        if (saved.topP) defaults_.topP = saved.topP;
        if (saved.topK) defaults_.topK = saved.topK;
        if (saved.minP) defaults_.minP = saved.minP;
        if (saved.repeatPenalty) defaults_.repeatPenalty = saved.repeatPenalty;
        if (saved.maxNewTokens) defaults_.maxNewTokens = saved.maxNewTokens;
        if (saved.seed) defaults_.seed = saved.seed;
    }
    if (auto prompt = store_->setting(kSystemPromptKey); prompt && prompt->has_value()) defaultSystemPrompt_ = **prompt;
}

void GenerationSettings::setConversation(qint64 conversationId, const fm::ConversationOptions& options) {
    conversationId_ = conversationId;
    options_ = options;
    if (conversationId == 0) {
        options_.mode = checkpointCompletion_ ? fm::ConversationMode::Completion : fm::ConversationMode::Chat;
    }
    emit changed();
}

void GenerationSettings::setCheckpointMode(bool completion) {
    checkpointCompletion_ = completion;
    if (conversationId_ == 0) {
        options_.mode = completion ? fm::ConversationMode::Completion : fm::ConversationMode::Chat;
        emit changed();
    }
}

void GenerationSettings::persist() {
    emit changed();
    if (!store_ || conversationId_ == 0) return;  // applied when the conversation is created
    if (auto status = store_->setConversationOptions(conversationId_, options_); !status)
        emit errorOccurred(status.error());
}

// An empty system prompt in the conversation means "the default": a conversation cannot
// override the default with "no system prompt" except by a single space, which is trimmed.
QString GenerationSettings::systemPrompt() const {
    return options_.systemPrompt.isEmpty() ? defaultSystemPrompt_ : options_.systemPrompt.trimmed();
}
double GenerationSettings::temperature() const {
    return valueOr(options_.settings.temperature, defaults_.temperature);
}
double GenerationSettings::topP() const {
    return valueOr(options_.settings.topP, defaults_.topP);
}
int GenerationSettings::topK() const {
    return valueOr(options_.settings.topK, defaults_.topK);
}
double GenerationSettings::minP() const {
    return valueOr(options_.settings.minP, defaults_.minP);
}
double GenerationSettings::repeatPenalty() const {
    return valueOr(options_.settings.repeatPenalty, defaults_.repeatPenalty);
}
int GenerationSettings::maxNewTokens() const {
    return valueOr(options_.settings.maxNewTokens, defaults_.maxNewTokens);
}
qint64 GenerationSettings::seed() const {
    return valueOr(options_.settings.seed, defaults_.seed);
}
bool GenerationSettings::usesDefaults() const {
    return options_.settings.isDefault() && options_.systemPrompt.isEmpty();
}

void GenerationSettings::setSystemPrompt(const QString& prompt) {
    if (prompt == systemPrompt()) return;
    options_.systemPrompt =
        prompt == defaultSystemPrompt_ ? QString() : (prompt.isEmpty() ? QStringLiteral(" ") : prompt);
    persist();
}

#define FM_SETTER(Name, field, Type, clampExpr)       \
    void GenerationSettings::set##Name(Type value) {  \
        value = clampExpr;                            \
        if (options_.settings.field == value) return; \
        options_.settings.field = value;              \
        persist();                                    \
    }
FM_SETTER(Temperature, temperature, double, std::clamp(value, 0.0, 5.0))
FM_SETTER(TopP, topP, double, std::clamp(value, 0.0, 1.0))
FM_SETTER(TopK, topK, int, std::max(value, 0))
FM_SETTER(MinP, minP, double, std::clamp(value, 0.0, 1.0))
FM_SETTER(RepeatPenalty, repeatPenalty, double, std::clamp(value, 1.0, 3.0))
FM_SETTER(MaxNewTokens, maxNewTokens, int, std::clamp(value, 1, 1 << 20))
FM_SETTER(Seed, seed, qint64, std::max<qint64>(value, -1))
#undef FM_SETTER

void GenerationSettings::setCompletionMode(bool on) {
    const auto mode = on ? fm::ConversationMode::Completion : fm::ConversationMode::Chat;
    if (options_.mode == mode) return;
    options_.mode = mode;
    persist();
}

void GenerationSettings::saveAsDefaults() {
    fm::GenerationSettings next = defaults_;
    next.temperature = temperature();
    next.topP = topP();
    next.topK = topK();
    next.minP = minP();
    next.repeatPenalty = repeatPenalty();
    next.maxNewTokens = maxNewTokens();
    next.seed = seed();
    const QString prompt = systemPrompt();
    if (store_) {
        if (auto s = store_->setSetting(kDefaultsKey, next.toJsonText()); !s) {
            emit errorOccurred(s.error());
            return;
        }
        if (auto s = store_->setSetting(kSystemPromptKey, prompt); !s) {
            emit errorOccurred(s.error());
            return;
        }
    }
    defaults_ = next;
    defaultSystemPrompt_ = prompt;
    options_.settings = {};
    options_.systemPrompt.clear();
    persist();
}

void GenerationSettings::resetToDefaults() {
    options_.settings = {};
    options_.systemPrompt.clear();
    persist();
}

fm::GenerationParams GenerationSettings::engineParams() const {
    fm::GenerationParams params;
    params.sampling.temperature = static_cast<float>(temperature());
    params.sampling.top_p = static_cast<float>(topP());
    params.sampling.top_k = topK();
    params.sampling.min_p = static_cast<float>(minP());
    params.sampling.repeat_penalty = static_cast<float>(repeatPenalty());
    const qint64 s = seed();
    params.sampling.seed = s >= 0 ? static_cast<uint64_t>(s) : QRandomGenerator::global()->generate64();
    params.max_new_tokens = maxNewTokens();
    return params;
}

}  // namespace fm::app
