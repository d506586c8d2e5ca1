#pragma once
// Generation settings of the conversation on screen, over app-wide defaults: system prompt,
// sampling (temperature, top-p, top-k, min-p, repetition penalty), reply length, seed, and
// chat vs plain completion. A value the conversation does not set follows the default, so
// changing a default also changes every conversation that never overrode it.

#include <QtQml/qqmlregistration.h>
#include <QObject>
#include <QString>

#include "app/storage/storage_types.h"
#include "inference/session/generation.h"

namespace fm {
class ConversationStore;
}

namespace fm::app {

class GenerationSettings : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("GenerationSettings is provided by ConversationController")
    Q_PROPERTY(QString systemPrompt READ systemPrompt WRITE setSystemPrompt NOTIFY changed)
    Q_PROPERTY(double temperature READ temperature WRITE setTemperature NOTIFY changed)
    Q_PROPERTY(double topP READ topP WRITE setTopP NOTIFY changed)
    Q_PROPERTY(int topK READ topK WRITE setTopK NOTIFY changed)
    Q_PROPERTY(double minP READ minP WRITE setMinP NOTIFY changed)
    Q_PROPERTY(double repeatPenalty READ repeatPenalty WRITE setRepeatPenalty NOTIFY changed)
    Q_PROPERTY(int maxNewTokens READ maxNewTokens WRITE setMaxNewTokens NOTIFY changed)
    // -1: a new random seed for every reply.
    Q_PROPERTY(qint64 seed READ seed WRITE setSeed NOTIFY changed)
    Q_PROPERTY(bool completionMode READ completionMode WRITE setCompletionMode NOTIFY changed)
    // The conversation overrides nothing (every value is the default).
    Q_PROPERTY(bool usesDefaults READ usesDefaults NOTIFY changed)

public:
    explicit GenerationSettings(fm::ConversationStore* store, QObject* parent = nullptr);

    // Which conversation the values belong to (0: the next one to be created).
    void setConversation(qint64 conversationId, const fm::ConversationOptions& options);
    qint64 conversationId() const { return conversationId_; }
    // The options a conversation has now (for creating one with the values on screen).
    fm::ConversationOptions options() const { return options_; }
    // The mode a new conversation starts in: the loaded checkpoint's.
    void setCheckpointMode(bool completion);

    QString systemPrompt() const;
    double temperature() const;
    double topP() const;
    int topK() const;
    double minP() const;
    double repeatPenalty() const;
    int maxNewTokens() const;
    qint64 seed() const;
    bool completionMode() const { return options_.mode == fm::ConversationMode::Completion; }
    bool usesDefaults() const;

    void setSystemPrompt(const QString& prompt);
    void setTemperature(double value);
    void setTopP(double value);
    void setTopK(int value);
    void setMinP(double value);
    void setRepeatPenalty(double value);
    void setMaxNewTokens(int value);
    void setSeed(qint64 value);
    void setCompletionMode(bool on);

    // This conversation's values become the defaults (and it stops overriding them).
    Q_INVOKABLE void saveAsDefaults();
    // Drops this conversation's overrides: it follows the defaults again.
    Q_INVOKABLE void resetToDefaults();

    // The engine's parameters for the next reply (a random seed is drawn here when seed is -1).
    fm::GenerationParams engineParams() const;

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
