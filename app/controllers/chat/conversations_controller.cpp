#include "app/controllers/chat/conversations_controller.h"

#include "app/controllers/chat/chat_errors.h"
#include "app/controllers/chat/chat_settings.h"
#include "app/controllers/model_controller.h"
#include "app/storage/conversation_store.h"

namespace fm::app {

const QString ConversationsController::kNewChatTitle = QStringLiteral("New chat");

ConversationsController::ConversationsController(fm::ConversationStore* store, ChatSettings* settings,
                                                 ChatErrors* errors, ModelController* models, QObject* parent)
    : QObject(parent), store_(store), settings_(settings), errors_(errors), models_(models) {
    list_.setStore(store_);
    connect(&list_, &fm::ConversationListModel::errorOccurred, errors_, &ChatErrors::report);
    settings_->setConversation(0, {});
    // Start where the user left off: the most recent conversation.
    if (list_.count() > 0) selectConversation(list_.idAt(0));
}

QString ConversationsController::titleFrom(const QString& text) {
    QString line = text.trimmed().section(QLatin1Char('\n'), 0, 0).simplified();
    if (line.size() > kTitleLength) {
        line.truncate(kTitleLength - 1);
        const int space = line.lastIndexOf(QLatin1Char(' '));
        if (space > kTitleLength / 2) line.truncate(space);
        line += QChar(0x2026);  // …
    }
    return line.isEmpty() ? kNewChatTitle : line;
}

QString ConversationsController::currentTitle() const {
    if (currentId_ == 0 || !store_) return {};
    const int row = list_.rowOf(currentId_);
    if (row >= 0) return list_.data(list_.index(row), fm::ConversationListModel::TitleRole).toString();
    auto conversation = store_->conversation(currentId_);
    return conversation ? conversation->title : QString();
}

void ConversationsController::showConversation(qint64 conversationId) {
    currentId_ = conversationId;
    if (conversationId == 0) {
        settings_->setConversation(0, {});
    } else if (auto conversation = store_->conversation(conversationId)) {
        settings_->setConversation(conversationId, conversation->options);
    }
    emit currentConversationChanged();
    emit currentTitleChanged();
}

qint64 ConversationsController::newConversation() {
    if (!store_) return 0;
    // Ctrl+N on a conversation that is still empty stays there instead of piling up empties.
    if (currentId_ != 0) {
        if (auto current = store_->conversation(currentId_); current && current->currentLeafMessageId == 0)
            return currentId_;
    }
    const qint64 id = list_.createConversation(kNewChatTitle);
    if (id == 0) return 0;
    // The values shown for "no conversation" (the defaults, the checkpoint's mode) are its own.
    fm::ConversationOptions options = settings_->options();
    if (models_) options.model = models_->modelPath();
    if (auto status = store_->setConversationOptions(id, options); !status) errors_->report(errorText(status));
    showConversation(id);
    return id;
}

bool ConversationsController::selectConversation(qint64 conversationId) {
    if (!store_) return false;
    if (conversationId == currentId_) return true;
    auto conversation = store_->conversation(conversationId);
    if (!conversation || conversation->isDeleted()) {
        errors_->report(conversation ? QStringLiteral("That conversation was deleted.") : errorText(conversation));
        return false;
    }
    showConversation(conversationId);
    return true;
}

bool ConversationsController::renameConversation(qint64 conversationId, const QString& title) {
    const QString clean = title.simplified();
    if (clean.isEmpty()) return false;
    const bool ok = list_.renameConversation(conversationId, clean);
    if (ok && conversationId == currentId_) emit currentTitleChanged();
    return ok;
}

bool ConversationsController::deleteConversation(qint64 conversationId) {
    emit aboutToDelete(conversationId);
    const int row = list_.rowOf(conversationId);
    const QString title =
        row >= 0 ? list_.data(list_.index(row), fm::ConversationListModel::TitleRole).toString() : QString();
    if (!list_.deleteConversation(conversationId)) return false;
    undoConversationId_ = conversationId;
    undoTitle_ = title;
    emit undoChanged();
    if (conversationId == currentId_) {
        // Show the neighbour that took its place, as mail clients do.
        const int next = qMin(row, list_.count() - 1);
        showConversation(next >= 0 ? list_.idAt(next) : 0);
    }
    return true;
}

bool ConversationsController::undoDelete() {
    if (undoConversationId_ == 0) return false;
    const qint64 id = undoConversationId_;
    if (!list_.undoDelete(id)) return false;
    dismissUndo();
    showConversation(id);
    return true;
}

void ConversationsController::dismissUndo() {
    if (undoConversationId_ == 0) return;
    undoConversationId_ = 0;
    undoTitle_.clear();
    emit undoChanged();
}

}  // namespace fm::app
