#include "app/storage/snapshot_store.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QSet>
#include <QSqlQuery>
#include <QUuid>

#include <algorithm>
#include <cstring>

namespace fm {
namespace {

Result<QList<StateSnapshot>> readRows(Result<QSqlQuery> query) {
    return readAll<StateSnapshot>(std::move(query), stateSnapshotFromRow);
}

// The trailing CRC-32 of a snapshot file, read without loading the file.
std::optional<quint32> trailingCrc(const QString& path, qint64* size) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly) || file.size() < 4) {
        return std::nullopt;
    }
    *size = file.size();
    if (!file.seek(file.size() - 4)) {
        return std::nullopt;
    }
    const QByteArray tail = file.read(4);
    if (tail.size() != 4) {
        return std::nullopt;
    }
    quint32 crc = 0;
    std::memcpy(&crc, tail.constData(), 4);  // little-endian, as the file format writes it
    return crc;
}

QString checksumText(quint32 crc) {
    return QStringLiteral("crc32:%1").arg(crc, 8, 16, QLatin1Char('0'));
}

bool isSnapshotFile(const QString& name) {
    return name.endsWith(SnapshotStore::kSuffix);
}

}  // namespace

QString snapshotChecksum(const std::vector<uint8_t>& encoded) {
    quint32 crc = 0;
    if (encoded.size() >= 4) {
        std::memcpy(&crc, encoded.data() + encoded.size() - 4, 4);
    }
    return checksumText(crc);
}

SnapshotStore::SnapshotStore(Database& database, const QString& directory)
    : db_(database), store_(database), directory_(QDir::cleanPath(directory)) {}

QString SnapshotStore::absolutePath(const StateSnapshot& row) const {
    return QDir(directory_).filePath(row.filePath);
}

Status SnapshotStore::open() {
    QDir dir(directory_);
    if (!dir.mkpath(QStringLiteral("."))) {
        return toError(
            QStringLiteral("Cannot create the snapshot folder %1").arg(QDir::toNativeSeparators(directory_)));
    }
    Result<QList<StateSnapshot>> rows =
        readRows(db_.exec(QStringLiteral("SELECT %1 FROM state_snapshots AS s").arg(kStateSnapshotColumns)));
    if (!rows) {
        return rows.status();
    }
    QSet<QString> referenced;
    QList<StateSnapshot> missing;
    for (const StateSnapshot& row : *rows) {
        referenced.insert(row.filePath);
        if (!QFileInfo::exists(absolutePath(row))) {
            missing.append(row);
        }
    }
    if (!missing.isEmpty()) {
        if (Status removed = removeRows(missing); !removed) {
            return removed;
        }
    }
    const QFileInfoList files = dir.entryInfoList(QDir::Files, QDir::Time);  // newest first
    int corruptSeen = 0;
    for (const QFileInfo& file : files) {
        const QString name = file.fileName();
        const bool leftover = name.endsWith(QStringLiteral(".tmp"));
        const bool orphan = isSnapshotFile(name) && !referenced.contains(name);
        const bool oldCorrupt = name.endsWith(kCorruptSuffix) && ++corruptSeen > kCorruptFilesKept;
        if (leftover || orphan || oldCorrupt) {
            QFile::remove(file.filePath());
        }
    }
    return {};
}

Result<StateSnapshot> SnapshotStore::save(qint64 conversationId, qint64 messageId, const QString& kind,
                                          const StoredSnapshot& stored) {
    if (!QDir().mkpath(directory_)) {
        return toError(
            QStringLiteral("Cannot create the snapshot folder %1").arg(QDir::toNativeSeparators(directory_)));
    }
    // A random part: the same message can be snapshotted again (a regenerated prompt), and a
    // name is never reused, so a stale row can never point at a newer file.
    const QString name = QStringLiteral("c%1-m%2-%3-%4%5")
                             .arg(conversationId)
                             .arg(messageId)
                             .arg(kind, QUuid::createUuid().toString(QUuid::Id128).left(10), kSuffix);
    const QString path = QDir(directory_).filePath(name);
    if (Status written = save_snapshot_file(path.toStdString(), stored); !written) {
        return Error{written.error()};
    }
    qint64 size = 0;
    const std::optional<quint32> crc = trailingCrc(path, &size);
    if (!crc) {
        QFile::remove(path);
        return toError(QStringLiteral("The snapshot %1 could not be read back").arg(QDir::toNativeSeparators(path)));
    }

    StateSnapshot row;
    row.conversationId = conversationId;
    row.messageId = messageId;
    row.kind = kind;
    row.fingerprint = QString::fromStdString(stored.fingerprint);
    row.filePath = name;
    row.byteSize = size;
    row.checksum = checksumText(*crc);
    row.tokenCount = static_cast<qint64>(stored.snapshot.tokens.size());

    // A "turn" is the latest completed turn and a checkpoint is one too; "before_reply" is
    // the latest prompt. Older ones of the same role go in the same transaction.
    const bool isBefore = kind == snapshot_kind::kBeforeReply;
    const QString supersededKind = isBefore ? snapshot_kind::kBeforeReply : snapshot_kind::kTurn;
    Result<QList<StateSnapshot>> superseded = readRows(
        db_.exec(QStringLiteral("SELECT %1 FROM state_snapshots AS s WHERE s.conversation_id = ? AND s.kind = ?")
                     .arg(kStateSnapshotColumns),
                 {conversationId, supersededKind}));
    if (!superseded) {
        QFile::remove(path);
        return Error{superseded.error()};
    }
    std::optional<StateSnapshot> added;
    Status recorded = db_.transaction([&]() -> Status {
        Result<StateSnapshot> inserted = store_.addStateSnapshot(row);
        if (!inserted) {
            return inserted.status();
        }
        added = *inserted;
        for (const StateSnapshot& old : *superseded) {
            Result<QSqlQuery> erase = db_.exec(QStringLiteral("DELETE FROM state_snapshots WHERE id = ?"), {old.id});
            if (!erase) {
                return erase.status();
            }
        }
        return {};
    });
    if (!recorded) {
        // Not referenced by any row: remove it now rather than at the next start.
        QFile::remove(path);
        return Error{recorded.error()};
    }
    for (const StateSnapshot& old : *superseded) {
        QFile::remove(absolutePath(old));
    }
    if (kind == snapshot_kind::kCheckpoint) {
        if (Status thinned = thinCheckpoints(conversationId); !thinned) {
            return Error{thinned.error()};
        }
    }
    return *added;
}

Result<QList<SnapshotRow>> SnapshotStore::snapshots(qint64 conversationId) {
    Result<QSqlQuery> q = db_.exec(QStringLiteral("SELECT %1, m.parent_id FROM state_snapshots AS s "
                                                  "LEFT JOIN messages AS m ON m.id = s.message_id "
                                                  "WHERE s.conversation_id = ? ORDER BY s.id")
                                       .arg(kStateSnapshotColumns),
                                   {conversationId});
    if (!q) {
        return Error{q.error()};
    }
    QList<SnapshotRow> rows;
    while (q->next()) {
        rows.append({stateSnapshotFromRow(*q), q->value(10).toLongLong()});
    }
    return rows;
}

QList<SnapshotCandidate> SnapshotStore::applicable(const QList<SnapshotRow>& rows, const QList<PromptMessage>& path) {
    QHash<qint64, int> position;
    for (int i = 0; i < path.size(); ++i) {
        position.insert(path[i].id, i);
    }
    QList<SnapshotCandidate> out;
    for (const SnapshotRow& r : rows) {
        if (r.row.messageId == 0) {
            continue;
        }
        if (r.row.kind == snapshot_kind::kTurn || r.row.kind == snapshot_kind::kCheckpoint) {
            // The state has read the path up to and including this reply.
            const auto it = position.constFind(r.row.messageId);
            if (it != position.cend()) {
                out.append({r.row, *it + 1});
            }
        } else if (r.row.kind == snapshot_kind::kBeforeReply) {
            // The state has read the reply's parent and the start of an assistant turn: it is
            // a prefix when the prompt ends there (regenerate) or goes on with a reply to that
            // same message (this one or a sibling).
            const auto it = position.constFind(r.messageParentId);
            if (r.messageParentId == 0 || it == position.cend()) {
                continue;
            }
            const int i = *it;
            if (i == path.size() - 1 || path[i + 1].role == MessageRole::Assistant) {
                out.append({r.row, i + 1});
            }
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const SnapshotCandidate& a, const SnapshotCandidate& b) {
        if (a.row.tokenCount != b.row.tokenCount) {
            return a.row.tokenCount > b.row.tokenCount;
        }
        return a.row.id > b.row.id;
    });
    return out;
}

Result<QList<SnapshotCandidate>> SnapshotStore::candidates(qint64 conversationId, const QList<PromptMessage>& path) {
    Result<QList<SnapshotRow>> rows = snapshots(conversationId);
    if (!rows) {
        return Error{rows.error()};
    }
    return applicable(*rows, path);
}

SnapshotLoad SnapshotStore::load(const StateSnapshot& row) {
    SnapshotLoad out;
    const QString path = absolutePath(row);
    QFile file(path);
    if (!file.exists()) {
        out.corrupt = true;
        out.error = QStringLiteral("the snapshot file %1 is missing").arg(row.filePath);
        (void)removeRows({row});
        return out;
    }
    QByteArray bytes;
    if (file.open(QIODevice::ReadOnly)) {
        bytes = file.readAll();
    }
    if (!file.isOpen() || file.error() != QFileDevice::NoError) {
        // Unreadable now (permissions, I/O): not proof of damage, so leave it in place.
        out.error = QStringLiteral("the snapshot file %1 cannot be read: %2").arg(row.filePath, file.errorString());
        return out;
    }
    file.close();
    QString damage;
    if (bytes.size() != row.byteSize) {
        damage = QStringLiteral("it has %1 bytes instead of %2 (truncated or overwritten)")
                     .arg(bytes.size())
                     .arg(row.byteSize);
    } else {
        const std::vector<uint8_t> tail(bytes.end() - std::min<qsizetype>(bytes.size(), 4), bytes.end());
        if (bytes.size() < 4 || snapshotChecksum(tail) != row.checksum) {
            damage = QStringLiteral("its checksum does not match the one recorded");
        }
    }
    if (damage.isEmpty()) {
        auto decoded = decode_snapshot(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.constData()),
                                                                static_cast<size_t>(bytes.size())));
        if (!decoded) {
            damage = errorText(decoded);
        } else if (QString::fromStdString(decoded->fingerprint) != row.fingerprint) {
            damage = QStringLiteral("its fingerprint differs from the one recorded");
        } else if (static_cast<qint64>(decoded->snapshot.tokens.size()) != row.tokenCount) {
            damage = QStringLiteral("its token count differs from the one recorded");
        } else {
            out.stored = std::move(*decoded);
            return out;
        }
    }
    out.corrupt = true;
    out.error = QStringLiteral("the snapshot %1 is damaged: %2").arg(row.filePath, damage);
    setAside(row);
    return out;
}

void SnapshotStore::setAside(const StateSnapshot& row) {
    // Row first: a row must never point at a file that is not a good snapshot.
    Result<QSqlQuery> erase = db_.exec(QStringLiteral("DELETE FROM state_snapshots WHERE id = ?"), {row.id});
    Q_UNUSED(erase);
    const QString path = absolutePath(row);
    const QString aside = path + kCorruptSuffix;
    QFile::remove(aside);
    if (!QFile::rename(path, aside)) {
        QFile::remove(path);
    }
}

Status SnapshotStore::remove(const StateSnapshot& row) {
    return removeRows({row});
}

Status SnapshotStore::removeRows(const QList<StateSnapshot>& rows) {
    if (rows.isEmpty()) {
        return {};
    }
    Status erased = db_.transaction([&]() -> Status {
        for (const StateSnapshot& row : rows) {
            Result<QSqlQuery> erase = db_.exec(QStringLiteral("DELETE FROM state_snapshots WHERE id = ?"), {row.id});
            if (!erase) {
                return erase.status();
            }
        }
        return {};
    });
    if (!erased) {
        return erased;
    }
    // Files after the rows: a crash in between leaves orphan files, which open() removes;
    // never rows without files.
    for (const StateSnapshot& row : rows) {
        QFile::remove(absolutePath(row));
    }
    return {};
}

Status SnapshotStore::thinCheckpoints(qint64 conversationId) {
    Result<QList<StateSnapshot>> rows = readRows(
        db_.exec(QStringLiteral("SELECT %1 FROM state_snapshots AS s WHERE s.conversation_id = ? AND s.kind = ? "
                                "ORDER BY s.token_count, s.id")
                     .arg(kStateSnapshotColumns),
                 {conversationId, snapshot_kind::kCheckpoint}));
    if (!rows) {
        return rows.status();
    }
    QList<StateSnapshot> kept = *rows;
    QList<StateSnapshot> dropped;
    // Drop the checkpoint whose removal leaves the smallest gap, never the newest: the rest
    // stay spread over the whole conversation, so an edit anywhere re-reads a bounded part.
    while (kept.size() > kMaxCheckpointsPerConversation) {
        int best = 0;
        qint64 bestGap = -1;
        for (int i = 0; i + 1 < kept.size(); ++i) {
            const qint64 previous = i == 0 ? 0 : kept[i - 1].tokenCount;
            const qint64 gap = kept[i + 1].tokenCount - previous;
            if (bestGap < 0 || gap < bestGap) {
                bestGap = gap;
                best = i;
            }
        }
        dropped.append(kept.takeAt(best));
    }
    return removeRows(dropped);
}

Result<RetentionReport> SnapshotStore::enforceRetention(int keepConversations) {
    Result<QList<StateSnapshot>> rows =
        readRows(db_.exec(QStringLiteral("SELECT %1 FROM state_snapshots AS s WHERE s.conversation_id NOT IN "
                                         "(SELECT c.id FROM conversations AS c WHERE c.deleted_at IS NULL "
                                         " ORDER BY c.updated_at DESC, c.id DESC LIMIT ?)")
                              .arg(kStateSnapshotColumns),
                          {std::max(0, keepConversations)}));
    if (!rows) {
        return Error{rows.error()};
    }
    RetentionReport report;
    for (const StateSnapshot& row : *rows) {
        report.removedBytes += row.byteSize;
    }
    report.removedSnapshots = static_cast<int>(rows->size());
    if (Status removed = removeRows(*rows); !removed) {
        return Error{removed.error()};
    }
    return report;
}

qint64 SnapshotStore::diskUsageBytes() const {
    qint64 total = 0;
    const QFileInfoList files = QDir(directory_).entryInfoList(QDir::Files);
    for (const QFileInfo& file : files) {
        if (isSnapshotFile(file.fileName()) || file.fileName().endsWith(kCorruptSuffix)) {
            total += file.size();
        }
    }
    return total;
}

int SnapshotStore::fileCount() const {
    int count = 0;
    const QFileInfoList files = QDir(directory_).entryInfoList(QDir::Files);
    for (const QFileInfo& file : files) {
        count += isSnapshotFile(file.fileName()) ? 1 : 0;
    }
    return count;
}

}  // namespace fm
