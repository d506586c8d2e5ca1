#include "app/controllers/app_controller.h"

#include <QDir>
#include <QQmlEngine>

#include "app/checkpoint_inspection.h"
#include "app/startup/command_line.h"
#include "app/storage/conversation_store.h"
#include "app/storage/database.h"
#include "app/worker/inference_worker.h"
#include "app/worker/streaming_saver.h"

namespace fm::app {

AppController::AppController(const AppEnvironment& environment, QObject* parent)
    : QObject(parent), environment_(environment) {
    qRegisterMetaType<fm::app::ModelLoadRequest>();
    qRegisterMetaType<fm::app::LoadedModelInfo>();
    qRegisterMetaType<fm::app::GenerationRequest>();
    qRegisterMetaType<fm::app::GenerationSummary>();
    qRegisterMetaType<fm::app::MemoryFigures>();
    qRegisterMetaType<fm::MessageStatus>();

    database_ = std::make_unique<fm::Database>();
    if (auto status = database_->open(environment_.databasePath()); !status) {
        startupError_ = QStringLiteral("The conversation database %1 cannot be opened: %2")
                            .arg(QDir::toNativeSeparators(environment_.databasePath()), errorText(status));
        database_.reset();
    } else {
        store_ = std::make_unique<fm::ConversationStore>(*database_);
        // Before any generation: replies cut off last time are kept, marked interrupted.
        if (auto marked = store_->markInterruptedOnStartup())
            interruptedReplies_ = *marked;
        else
            startupError_ = errorText(marked);
    }

    worker_ = new InferenceWorker;
    worker_->moveToThread(&workerThread_);
    connect(&workerThread_, &QThread::finished, worker_, &QObject::deleteLater);
    workerThread_.setObjectName(QStringLiteral("inference"));
    workerThread_.start();

    saver_ = new StreamingSaver;
    saver_->moveToThread(&saverThread_);
    connect(&saverThread_, &QThread::finished, saver_, &QObject::deleteLater);
    saverThread_.setObjectName(QStringLiteral("reply-saver"));
    saverThread_.start();
    if (store_) {
        QMetaObject::invokeMethod(
            saver_, [saver = saver_, path = environment_.databasePath()] { saver->open(path); }, Qt::QueuedConnection);
    }
    // Streamed replies go from the worker's thread to the saver's in one hop (queued: the
    // objects live on different threads), in the order the worker sends them.
    connect(worker_, &InferenceWorker::replyTextSoFar, saver_, &StreamingSaver::saveStreaming, Qt::QueuedConnection);
    connect(worker_, &InferenceWorker::replyEnded, saver_, &StreamingSaver::finish, Qt::QueuedConnection);

    ui_ = std::make_unique<UiSettings>(environment_.settingsFile);
    memory_ = std::make_unique<MemoryMonitor>();
    const QString hubCache = environment_.hubCacheDir.isEmpty() ? huggingFaceHubCache() : environment_.hubCacheDir;
    models_ = std::make_unique<ModelController>(worker_, ui_.get(), hubCache);
    errors_ = std::make_unique<ChatErrors>(store_ != nullptr);
    errors_->setDataDir(environment_.dataDir);
    settings_ = std::make_unique<ChatSettings>(store_.get());
    connect(settings_.get(), &ChatSettings::errorOccurred, errors_.get(), &ChatErrors::report);
    connect(models_.get(), &ModelController::modelChanged, settings_.get(), [this] {
        if (models_->isLoaded()) settings_->setCheckpointMode(!models_->checkpointIsChat());
    });
    conversations_ =
        std::make_unique<ConversationsController>(store_.get(), settings_.get(), errors_.get(), models_.get());
    chat_ = std::make_unique<ChatController>(
        store_.get(), ChatController::Features{conversations_.get(), settings_.get(), errors_.get()}, worker_, saver_,
        models_.get(), memory_.get());
    // The window shows why nothing can be saved, and the composer stays off until it can.
    if (!startupError_.isEmpty()) {
        errors_->reportStorageError(startupError_);
        startupError_ = errors_->message();
    }
    // Instant resume: the worker keeps conversations' states next to the database.
    snapshots_ = std::make_unique<SnapshotController>(store_.get(), worker_,
                                                      QDir(environment_.dataDir).filePath(QStringLiteral("snapshots")));
    if (store_) snapshots_->start(environment_.databasePath());
    // Export and import run on their own thread with their own database connection.
    exporter_ = std::make_unique<ExportController>(environment_.databasePath());
    connect(worker_, &InferenceWorker::memoryReported, memory_.get(), &MemoryMonitor::setFigures, Qt::QueuedConnection);
    connect(worker_, &InferenceWorker::modelLoaded, memory_.get(), &MemoryMonitor::clearHistory, Qt::QueuedConnection);
    connect(conversations_.get(), &ConversationsController::currentConversationChanged, this, [this] {
        // One active session: another conversation's reply starts from a fresh state, and
        // the chart starts over with it.
        memory_->clearHistory();
    });
    // QML-owned? No: these objects belong to this controller, whatever QML does with them.
    for (QObject* object :
         std::initializer_list<QObject*>{ui_.get(), memory_.get(), models_.get(), errors_.get(), settings_.get(),
                                         conversations_.get(), chat_.get(), snapshots_.get(), exporter_.get()})
        QQmlEngine::setObjectOwnership(object, QQmlEngine::CppOwnership);
}

AppController::~AppController() {
    // Stop generating and loading now (the flags are checked between tokens), then let the
    // worker's thread finish: this is the one place the GUI thread waits for it.
    worker_->requestStopAll();
    worker_->requestCancelLoad();
    workerThread_.quit();
    workerThread_.wait();
    chat_->shutdown();
    // Quit the saver from inside its own queue: every save queued before runs first.
    QMetaObject::invokeMethod(
        saver_, [] { QThread::currentThread()->quit(); }, Qt::QueuedConnection);
    saverThread_.wait();
    chat_.reset();
    conversations_.reset();
    models_.reset();
}

QString AppController::version() const {
    return applicationVersion();
}

}  // namespace fm::app
