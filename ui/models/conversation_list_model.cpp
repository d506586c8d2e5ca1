#include "ui/models/conversation_list_model.h"

#include <QDateTime>
#include <QLocale>

namespace fm {
namespace {

// Enough for a sidebar; a search matching more is refined by typing more.
constexpr int kSearchLimit = 100;

}  // namespace

ConversationListModel::ConversationListModel(QObject* parent) : QAbstractListModel(parent) {}

void ConversationListModel::setStore(ConversationStore* store) {
    store_ = store;
    reload();
}

int ConversationListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(rows_.size());
}

QVariant ConversationListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const Row& row = rows_.at(index.row());
    const Conversation& c = row.conversation;
    switch (role) {
    case Qt::DisplayRole:
    case TitleRole: return c.title;
    case ConversationIdRole: return c.id;
    case UpdatedAtRole: return QDateTime::fromMSecsSinceEpoch(c.updatedAtMs);
    case CreatedAtRole: return c.createdAtMs ? QDateTime::fromMSecsSinceEpoch(c.createdAtMs) : QDateTime();
    case SnippetRole: return row.snippet;
    case ModelPathRole: return c.options.model;
    case ModeRole: return toText(c.options.mode);
    case DateGroupRole: return dateGroupOf(QDateTime::fromMSecsSinceEpoch(c.updatedAtMs), now_());
    default: return {};
    }
}

QHash<int, QByteArray> ConversationListModel::roleNames() const {
    return {
        {ConversationIdRole, "conversationId"},
        {TitleRole, "title"},
        {UpdatedAtRole, "updatedAt"},
        {CreatedAtRole, "createdAt"},
        {SnippetRole, "snippet"},
        {ModelPathRole, "modelPath"},
        {ModeRole, "mode"},
        {DateGroupRole, "dateGroup"},
    };
}

QString ConversationListModel::dateGroupOf(const QDateTime& updated, const QDateTime& now) {
    // Calendar days in local time, as people count them ("yesterday" at 00:10 is 10 minutes
    // ago for something done at 23:59).
    const qint64 days = updated.date().daysTo(now.date());
    if (days <= 0) return tr("Today");  // the future (a clock set back) counts as today
    if (days == 1) return tr("Yesterday");
    if (days < 7) return tr("Previous 7 days");
    if (days < 30) return tr("Previous 30 days");
    return QLocale().standaloneMonthName(updated.date().month()) + QLatin1Char(' ') +
           QString::number(updated.date().year());
}

void ConversationListModel::setFilter(const QString& filter) {
    if (filter == filter_) {
        return;
    }
    const bool wasSearching = isSearching();
    const QString before = filter_.trimmed();
    filter_ = filter;
    emit filterChanged();
    // Trailing spaces typed between words do not change the query: keep the rows.
    if (wasSearching != isSearching() || before != filter_.trimmed()) {
        reload();
    }
}

bool ConversationListModel::comesBefore(const Conversation& a, const Conversation& b) {
    // Same order as ConversationStore::listConversations.
    if (a.updatedAtMs != b.updatedAtMs) {
        return a.updatedAtMs > b.updatedAtMs;
    }
    return a.id > b.id;
}

int ConversationListModel::sortedPosition(const Conversation& conversation, int ignoringRow) const {
    // The position among the other rows; a linear pass is microseconds for a sidebar.
    int position = 0;
    for (int i = 0; i < rows_.size(); ++i) {
        if (i != ignoringRow && comesBefore(rows_[i].conversation, conversation)) {
            ++position;
        }
    }
    return position;
}

void ConversationListModel::resetRows(QList<Row> rows) {
    const qsizetype before = rows_.size();
    beginResetModel();
    rows_ = std::move(rows);
    endResetModel();
    if (before != rows_.size()) {
        emit countChanged();
    }
}

bool ConversationListModel::report(const QString& error) {
    lastError_ = error;
    emit errorOccurred(error);
    return false;
}

void ConversationListModel::setConversations(const QList<Conversation>& conversations) {
    QList<Row> rows;
    rows.reserve(conversations.size());
    for (const Conversation& c : conversations) {
        if (!c.isDeleted()) {
            rows.append(Row{c, {}});
        }
    }
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Row& a, const Row& b) { return comesBefore(a.conversation, b.conversation); });
    resetRows(std::move(rows));
}

void ConversationListModel::upsert(const Conversation& conversation) {
    if (conversation.isDeleted()) {
        removeConversation(conversation.id);
        return;
    }
    int row = rowOf(conversation.id);
    if (isSearching()) {
        // Whether a new or changed conversation matches is the search's business; keep
        // the result order and just refresh what is shown.
        if (row >= 0) {
            rows_[row].conversation = conversation;
            emit dataChanged(index(row), index(row));
        }
        return;
    }
    if (row < 0) {
        const int position = sortedPosition(conversation, -1);
        beginInsertRows(QModelIndex(), position, position);
        rows_.insert(position, Row{conversation, {}});
        endInsertRows();
        emit countChanged();
        return;
    }
    rows_[row].conversation = conversation;
    const int target = sortedPosition(conversation, row);
    if (target != row) {
        // beginMoveRows wants the destination in pre-move numbering: moving down means
        // "before the row after the target".
        const int destination = target > row ? target + 1 : target;
        beginMoveRows(QModelIndex(), row, row, QModelIndex(), destination);
        rows_.move(row, target);
        endMoveRows();
        row = target;
    }
    emit dataChanged(index(row), index(row));
}

void ConversationListModel::removeConversation(qint64 id) {
    const int row = rowOf(id);
    if (row < 0) {
        return;
    }
    beginRemoveRows(QModelIndex(), row, row);
    rows_.removeAt(row);
    endRemoveRows();
    emit countChanged();
}

void ConversationListModel::reload() {
    if (!store_) {
        resetRows({});
        return;
    }
    if (!isSearching()) {
        Result<QList<Conversation>> list = store_->listConversations();
        if (!list) {
            report(errorText(list));
            resetRows({});
            return;
        }
        setConversations(*list);
        return;
    }
    Result<QList<SearchHit>> hits = store_->search(filter_, kSearchLimit);
    if (!hits) {
        report(errorText(hits));
        resetRows({});
        return;
    }
    QList<Row> rows;
    rows.reserve(hits->size());
    for (const SearchHit& hit : *hits) {
        Row row;
        row.conversation.id = hit.conversationId;
        row.conversation.title = hit.title;
        row.conversation.updatedAtMs = hit.updatedAtMs;
        row.conversation.options.model = hit.model;
        row.conversation.options.mode = hit.mode;
        row.snippet = hit.snippet;
        rows.append(row);
    }
    resetRows(std::move(rows));
}

qint64 ConversationListModel::createConversation(const QString& title) {
    if (!store_) {
        report(tr("No conversation database is open"));
        return 0;
    }
    Result<Conversation> created = store_->createConversation(title);
    if (!created) {
        report(errorText(created));
        return 0;
    }
    upsert(*created);
    return created->id;
}

bool ConversationListModel::renameConversation(qint64 id, const QString& title) {
    if (!store_) {
        return report(tr("No conversation database is open"));
    }
    if (Status renamed = store_->renameConversation(id, title); !renamed) {
        return report(errorText(renamed));
    }
    return refreshConversation(id);
}

bool ConversationListModel::deleteConversation(qint64 id) {
    if (!store_) {
        return report(tr("No conversation database is open"));
    }
    if (Status deleted = store_->deleteConversation(id); !deleted) {
        return report(errorText(deleted));
    }
    removeConversation(id);
    return true;
}

bool ConversationListModel::undoDelete(qint64 id) {
    if (!store_) {
        return report(tr("No conversation database is open"));
    }
    if (Status restored = store_->undoDeleteConversation(id); !restored) {
        return report(errorText(restored));
    }
    if (isSearching()) {
        reload();  // it may or may not match the current search
        return true;
    }
    return refreshConversation(id);
}

bool ConversationListModel::refreshConversation(qint64 id) {
    if (!store_) {
        return report(tr("No conversation database is open"));
    }
    Result<Conversation> conversation = store_->conversation(id);
    if (!conversation) {
        return report(errorText(conversation));
    }
    upsert(*conversation);
    return true;
}

int ConversationListModel::rowOf(qint64 id) const {
    for (int i = 0; i < rows_.size(); ++i) {
        if (rows_[i].conversation.id == id) {
            return i;
        }
    }
    return -1;
}

qint64 ConversationListModel::idAt(int row) const {
    return row >= 0 && row < rows_.size() ? rows_[row].conversation.id : 0;
}

}  // namespace fm
