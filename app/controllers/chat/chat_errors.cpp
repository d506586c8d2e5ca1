#include "app/controllers/chat/chat_errors.h"

#include "app/controllers/storage_problem.h"

namespace fm::app {

void ChatErrors::report(const QString& message) {
    const StorageProblem problem =
        message.isEmpty() ? StorageProblem{} : classifyStorageError(message, dataDir_, storageFactsFor(dataDir_));
    const QString shown = problem.kind == StorageProblem::Kind::None ? message : problem.message;
    if (problem.kind != StorageProblem::Kind::None) setStorageProblem(problem.message);
    if (shown == message_) return;
    message_ = shown;
    emit messageChanged();
}

void ChatErrors::reportStorageError(const QString& error) {
    report(error);
    // Not one of the known causes: still nothing can be saved.
    if (storageProblem_.isEmpty()) setStorageProblem(error);
}

void ChatErrors::dismiss() {
    // Dismissing is also "I fixed it, try again": the next write finds out.
    if (haveStore_) setStorageProblem({});
    report({});
}

void ChatErrors::setStorageProblem(const QString& problem) {
    if (problem == storageProblem_) return;
    storageProblem_ = problem;
    emit storageProblemChanged();
}

}  // namespace fm::app
