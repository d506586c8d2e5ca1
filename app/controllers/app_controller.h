#pragma once
// The root of the app: opens the conversation database, starts the inference and saver
// threads, and owns the controllers the window binds to. main() and the UI tests create one
// and hand it to the window as its required `app` property (no context properties, no
// global singletons).

#include <QtQml/qqmlregistration.h>
#include <QObject>
#include <QString>
#include <QThread>

#include <memory>

#include "app/controllers/chat/chat_controller.h"
#include "app/controllers/chat/chat_errors.h"
#include "app/controllers/chat/chat_settings.h"
#include "app/controllers/chat/conversations_controller.h"
#include "app/controllers/memory_monitor.h"
#include "app/controllers/model_controller.h"
#include "app/controllers/snapshot_controller.h"
#include "app/controllers/ui_settings.h"
#include "app/export/export_controller.h"
#include "app/startup/app_environment.h"

namespace fm {
class Database;
class ConversationStore;
}  // namespace fm

namespace fm::app {

class InferenceWorker;
class StreamingSaver;

class AppController : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("AppController is created by main()")
    // The chat, one object per feature: the conversations in the sidebar, the messages and the
    // reply on screen, the chat's settings, and the error banner.
    Q_PROPERTY(fm::app::ConversationsController* conversations READ conversations CONSTANT)
    Q_PROPERTY(fm::app::ChatController* chat READ chat CONSTANT)
    Q_PROPERTY(fm::app::ChatSettings* chatSettings READ chatSettings CONSTANT)
    Q_PROPERTY(fm::app::ChatErrors* errors READ errors CONSTANT)
    Q_PROPERTY(fm::app::ModelController* models READ models CONSTANT)
    Q_PROPERTY(fm::app::MemoryMonitor* memory READ memory CONSTANT)
    Q_PROPERTY(fm::app::UiSettings* ui READ ui CONSTANT)
    // Saved conversation states (instant resume): retention setting and disk usage.
    Q_PROPERTY(fm::app::SnapshotController* snapshots READ snapshots CONSTANT)
    Q_PROPERTY(fm::ExportController* exporter READ exporter CONSTANT)
    Q_PROPERTY(QString version READ version CONSTANT)
    // Non-empty when the database could not be opened: the window says so instead of crashing.
    Q_PROPERTY(QString startupError READ startupError CONSTANT)
    // Replies cut off by a crash or a killed process, found at this start.
    Q_PROPERTY(int interruptedReplies READ interruptedReplies CONSTANT)

public:
    explicit AppController(const AppEnvironment& environment, QObject* parent = nullptr);
    ~AppController() override;

    ConversationsController* conversations() { return conversations_.get(); }
    ChatController* chat() { return chat_.get(); }
    ChatSettings* chatSettings() { return settings_.get(); }
    ChatErrors* errors() { return errors_.get(); }
    ModelController* models() { return models_.get(); }
    MemoryMonitor* memory() { return memory_.get(); }
    UiSettings* ui() { return ui_.get(); }
    SnapshotController* snapshots() { return snapshots_.get(); }
    ExportController* exporter() { return exporter_.get(); }
    QString version() const;
    QString startupError() const { return startupError_; }
    int interruptedReplies() const { return interruptedReplies_; }

    fm::ConversationStore* store() { return store_.get(); }
    InferenceWorker* worker() { return worker_; }
    const AppEnvironment& environment() const { return environment_; }

private:
    AppEnvironment environment_;
    QString startupError_;
    int interruptedReplies_ = 0;

    std::unique_ptr<fm::Database> database_;
    std::unique_ptr<fm::ConversationStore> store_;
    QThread workerThread_;
    QThread saverThread_;
    InferenceWorker* worker_ = nullptr;  // lives on workerThread_, deleted when it finishes
    StreamingSaver* saver_ = nullptr;    // lives on saverThread_, likewise

    std::unique_ptr<UiSettings> ui_;
    std::unique_ptr<MemoryMonitor> memory_;
    std::unique_ptr<ModelController> models_;
    std::unique_ptr<ChatErrors> errors_;
    std::unique_ptr<ChatSettings> settings_;
    std::unique_ptr<ConversationsController> conversations_;
    std::unique_ptr<ChatController> chat_;
    std::unique_ptr<SnapshotController> snapshots_;
    std::unique_ptr<ExportController> exporter_;
};

}  // namespace fm::app
