#pragma once
// Chat settings of the conversation on screen, over app-wide defaults: system prompt, chat vs
// plain completion, and the generation settings (fm::GenerationSettings: sampling, reply
// length, seed). A value the conversation does not set follows the default, so changing a
// default also changes every conversation that never overrode it.

#include <QtQml/qqmlregistration.h>
#include <QObject>
#include <QString>
#include <QVariantMap>

#include "app/storage/storage_types.h"
#include "inference/session/generation.h"

namespace fm {
class ConversationStore;
}

namespace fm::app {

class ChatSettings : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("ChatSettings is provided by AppController")
    Q_PROPERTY(QString systemPrompt READ systemPrompt WRITE setSystemPrompt NOTIFY changed)
    Q_PROPERTY(bool completionMode READ completionMode WRITE setCompletionMode NOTIFY changed)
    // The generation settings in effect, every one set ({temperature, topP, topK, minP,
    // repeatPenalty, maxNewTokens, seed}; seed -1: a new random seed for every reply).
    // Written through change().
    Q_PROPERTY(QVariantMap values READ valueMap NOTIFY changed)
    // The conversation overrides nothing (every value is the default).
    Q_PROPERTY(bool usesDefaults READ usesDefaults NOTIFY changed)

public:
    explicit ChatSettings(fm::ConversationStore* store, QObject* parent = nullptr);

    // Which conversation the values belong to (0: the next one to be created).
    void setConversation(qint64 conversationId, const fm::ConversationOptions& options);
    qint64 conversationId() const { return conversationId_; }
    // The options a conversation has now (for creating one with the values on screen).
    fm::ConversationOptions options() const { return options_; }
    // The mode a new conversation starts in: the loaded checkpoint's.
    void setCheckpointMode(bool completion);

    QString systemPrompt() const;
    bool completionMode() const { return options_.mode == fm::ConversationMode::Completion; }
    // The conversation's values over the defaults: every field set.
    fm::GenerationSettings values() const { return defaults_.overlaidWith(options_.settings); }
    QVariantMap valueMap() const { return values().toVariantMap(); }
    bool usesDefaults() const;

    void setSystemPrompt(const QString& prompt);
    void setCompletionMode(bool on);
    // The conversation overrides each value `overrides` sets (brought into its valid range);
    // e.g. change({.temperature = 0, .maxNewTokens = 24}).
    void change(const fm::GenerationSettings& overrides);
    // The same from QML: change({temperature: 0.7}).
    Q_INVOKABLE void change(const QVariantMap& overrides) { change(fm::GenerationSettings::fromVariantMap(overrides)); }

    // This conversation's values become the defaults (and it stops overriding them).
    Q_INVOKABLE void saveAsDefaults();
    // Drops this conversation's overrides: it follows the defaults again.
    Q_INVOKABLE void resetToDefaults();

    // The engine's parameters for the next reply (a random seed is drawn here when seed is -1).
    fm::GenerationParams engineParams() const;
    // What a reply generated with `params` is stored with: the settings as the engine takes
    // them (its seed drawn, its numbers at the engine's precision).
    static fm::GenerationSettings settingsUsed(const fm::GenerationParams& params);

    // Built-in defaults before the user changed any.
    static fm::GenerationSettings builtInDefaults();

signals:
    void changed();
    void errorOccurred(const QString& message);

private:
    void loadDefaults();
    void persist();

    fm::ConversationStore* store_;
    qint64 conversationId_ = 0;
    fm::ConversationOptions options_;
    fm::GenerationSettings defaults_;  // every field set
    QString defaultSystemPrompt_;
    bool checkpointCompletion_ = false;
};

}  // namespace fm::app
