#include "app/controllers/checkpoint_list_model.h"

namespace fm::app {

CheckpointListModel::CheckpointListModel(QObject* parent) : QAbstractListModel(parent) {}

int CheckpointListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

QVariant CheckpointListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const FoundCheckpoint& row = rows_.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case NameRole: return row.displayName;
    case Qt::ToolTipRole:
    case PathRole: return row.path;
    case ModelTypeRole: return row.modelType;
    default: return {};
    }
}

QHash<int, QByteArray> CheckpointListModel::roleNames() const {
    return {{PathRole, "path"}, {NameRole, "name"}, {ModelTypeRole, "modelType"}, {Qt::DisplayRole, "display"}};
}

void CheckpointListModel::setCheckpoints(const QList<FoundCheckpoint>& checkpoints) {
    // Small lists that change rarely and wholesale: a reset is the honest signal.
    const bool countChanges = checkpoints.size() != rows_.size();
    beginResetModel();
    rows_ = checkpoints;
    endResetModel();
    if (countChanges) emit countChanged();
}

}  // namespace fm::app
