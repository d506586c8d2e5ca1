#pragma once
// A list of checkpoint folders for the model page: recently used ones, or the Falcon Mamba
// snapshots found in the Hugging Face cache. GUI thread only; rows are plain values.

#include <QtQml/qqmlregistration.h>
#include <QAbstractListModel>
#include <QList>

#include "app/checkpoint_inspection.h"

namespace fm::app {

class CheckpointListModel : public QAbstractListModel {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("CheckpointListModel is provided by ModelController")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)

public:
    enum Role {
        PathRole = Qt::UserRole + 1,  // "path"
        NameRole,                     // "name"
        ModelTypeRole,                // "modelType"
    };
    Q_ENUM(Role)

    explicit CheckpointListModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    void setCheckpoints(const QList<FoundCheckpoint>& checkpoints);
    const QList<FoundCheckpoint>& checkpoints() const { return rows_; }

signals:
    void countChanged();

private:
    QList<FoundCheckpoint> rows_;
};

}  // namespace fm::app
