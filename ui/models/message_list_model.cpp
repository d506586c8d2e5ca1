#include "ui/models/message_list_model.h"

#include <QDateTime>
#include <QRegularExpression>
#include <QVariantMap>

namespace fm {

MessageListModel::MessageListModel(QObject* parent) : QAbstractListModel(parent) {}

void MessageListModel::setStore(ConversationStore* store) {
    store_ = store;
}

int MessageListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(rows_.size());
}

QVariant MessageListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const BranchMessage& entry = rows_.at(index.row());
    const Message& m = entry.message;
    switch (role) {
    case Qt::DisplayRole:
    case ContentRole: return m.content;
    case MessageIdRole: return m.id;
    case RoleRole: return toText(m.role);
    case StatusRole: return toText(m.status);
    case CreatedAtRole: return QDateTime::fromMSecsSinceEpoch(m.createdAtMs);
    case TokenCountsRole: {
        QVariantMap counts;
        if (m.tokens.prompt) {
            counts.insert(QStringLiteral("prompt"), *m.tokens.prompt);
        }
        if (m.tokens.completion) {
            counts.insert(QStringLiteral("completion"), *m.tokens.completion);
        }
        return counts;
    }
    case PromptTokensRole: return m.tokens.prompt.value_or(-1);
    case CompletionTokensRole: return m.tokens.completion.value_or(-1);
    case SiblingIndexRole: return entry.siblingIndex;
    case SiblingCountRole: return entry.siblingCount;
    case IsStreamingRole: return m.status == MessageStatus::Streaming;
    case ParentIdRole: return m.parentId;
    case ModelPathRole: return m.model;
    default: return {};
    }
}

QHash<int, QByteArray> MessageListModel::roleNames() const {
    return {
        {MessageIdRole, "messageId"},       {RoleRole, "role"},
        {ContentRole, "content"},           {StatusRole, "status"},
        {CreatedAtRole, "createdAt"},       {TokenCountsRole, "tokenCounts"},
        {PromptTokensRole, "promptTokens"}, {CompletionTokensRole, "completionTokens"},
        {SiblingIndexRole, "siblingIndex"}, {SiblingCountRole, "siblingCount"},
        {IsStreamingRole, "isStreaming"},   {ParentIdRole, "parentId"},
        {ModelPathRole, "modelPath"},
    };
}

bool MessageListModel::report(const QString& error) {
    lastError_ = error;
    emit errorOccurred(error);
    return false;
}

bool MessageListModel::sameDisplay(const BranchMessage& a, const BranchMessage& b) {
    const Message& x = a.message;
    const Message& y = b.message;
    return a.siblingIndex == b.siblingIndex && a.siblingCount == b.siblingCount && x.content == y.content &&
           x.status == y.status && x.tokens == y.tokens && x.role == y.role && x.createdAtMs == y.createdAtMs &&
           x.model == y.model && x.parentId == y.parentId;
}

void MessageListModel::setBranch(qint64 conversationId, const QList<BranchMessage>& branch) {
    const qsizetype before = rows_.size();
    if (conversationId != conversationId_) {
        beginResetModel();
        rows_ = branch;
        conversationId_ = conversationId;
        endResetModel();
        emit conversationIdChanged();
        if (before != rows_.size()) {
            emit countChanged();
        }
        return;
    }

    // Rows up to the first differing id stay (updated in place where their data changed);
    // everything after is the part of the branch that changed.
    qsizetype common = 0;
    while (common < rows_.size() && common < branch.size() && rows_[common].message.id == branch[common].message.id) {
        ++common;
    }
    for (qsizetype i = 0; i < common; ++i) {
        BranchMessage incoming = branch[i];
        if (incoming.message.status == MessageStatus::Streaming &&
            rows_[i].message.status == MessageStatus::Streaming) {
            incoming.message.content = rows_[i].message.content;  // ours is newer
        }
        if (!sameDisplay(rows_[i], incoming)) {
            rows_[i] = incoming;
            emit dataChanged(index(int(i)), index(int(i)));
        } else {
            rows_[i] = incoming;
        }
    }
    if (rows_.size() > common) {
        beginRemoveRows(QModelIndex(), int(common), int(rows_.size() - 1));
        rows_.resize(common);
        endRemoveRows();
    }
    if (branch.size() > common) {
        beginInsertRows(QModelIndex(), int(common), int(branch.size() - 1));
        rows_.append(branch.mid(common));
        endInsertRows();
    }
    if (before != rows_.size()) {
        emit countChanged();
    }
}

bool MessageListModel::updateMessage(const Message& message) {
    const int row = rowOf(message.id);
    if (row < 0) {
        return false;
    }
    rows_[row].message = message;
    emit dataChanged(index(row), index(row));
    return true;
}

void MessageListModel::clear() {
    setBranch(0, {});
}

bool MessageListModel::appendStreamingText(qint64 messageId, const QString& text) {
    const int row = rowOf(messageId);
    if (row < 0) {
        return false;
    }
    rows_[row].message.content.append(text);
    const QModelIndex changed = index(row);
    emit dataChanged(changed, changed, {ContentRole, Qt::DisplayRole});
    return true;
}

QString MessageListModel::contentOf(qint64 messageId) const {
    const int row = rowOf(messageId);
    return row < 0 ? QString() : rows_[row].message.content;
}

bool MessageListModel::loadConversation(qint64 conversationId) {
    if (!store_) {
        return report(tr("No conversation database is open"));
    }
    Result<QList<BranchMessage>> branch = store_->pathToLeaf(conversationId);
    if (!branch) {
        return report(errorText(branch));
    }
    setBranch(conversationId, *branch);
    return true;
}

bool MessageListModel::reload() {
    if (conversationId_ == 0) {
        return true;
    }
    return loadConversation(conversationId_);
}

bool MessageListModel::showSibling(int row, int delta) {
    if (!store_) {
        return report(tr("No conversation database is open"));
    }
    if (row < 0 || row >= rows_.size() || delta == 0) {
        return false;
    }
    const qint64 id = rows_[row].message.id;
    Result<QList<Message>> siblings = store_->siblings(id);
    if (!siblings) {
        return report(errorText(siblings));
    }
    qsizetype position = -1;
    for (qsizetype i = 0; i < siblings->size(); ++i) {
        if (siblings->at(i).id == id) {
            position = i;
        }
    }
    const qsizetype target = position + delta;
    if (position < 0 || target < 0 || target >= siblings->size()) {
        return false;
    }
    if (Result<qint64> leaf = store_->switchToBranch(siblings->at(target).id); !leaf) {
        return report(errorText(leaf));
    }
    return reload();
}

int MessageListModel::rowOf(qint64 messageId) const {
    // From the end: the message being streamed or edited is almost always the last.
    for (qsizetype i = rows_.size() - 1; i >= 0; --i) {
        if (rows_[i].message.id == messageId) {
            return int(i);
        }
    }
    return -1;
}

int MessageListModel::firstRowMatching(const QString& query) const {
    // Words only: the search box's operators and quotes (AND, "a phrase", prefix*) are not
    // what a message contains.
    static const QRegularExpression word(QStringLiteral("[\\w']+"), QRegularExpression::UseUnicodePropertiesOption);
    QStringList words;
    for (auto it = word.globalMatch(query); it.hasNext();) {
        const QString w = it.next().captured();
        if (w != QLatin1String("AND") && w != QLatin1String("OR") && w != QLatin1String("NOT")) words << w;
    }
    if (words.isEmpty()) return -1;
    int anyRow = -1;
    for (qsizetype i = 0; i < rows_.size(); ++i) {
        const QString& text = rows_[i].message.content;
        int found = 0;
        for (const QString& w : words) found += text.contains(w, Qt::CaseInsensitive) ? 1 : 0;
        if (found == words.size()) return int(i);
        if (found > 0 && anyRow < 0) anyRow = int(i);
    }
    return anyRow;
}

qint64 MessageListModel::idAt(int row) const {
    return row >= 0 && row < rows_.size() ? rows_[row].message.id : 0;
}

}  // namespace fm
