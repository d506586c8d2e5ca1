#include "app/storage/migrations.h"

namespace fm {
namespace {

// v1: the first release. Linear conversations (messages ordered by id), app settings.
// Times are milliseconds since the Unix epoch (UTC) in INTEGER columns: sortable, compact,
// no time-zone parsing. JSON columns are NULL when "use the app defaults".
SchemaMigration version1() {
    return {1,
            QStringLiteral("conversations, messages and settings"),
            {
                QStringLiteral(R"sql(
CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY,
    title         TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    system_prompt TEXT    NOT NULL DEFAULT '',
    settings      TEXT    CHECK (settings IS NULL OR json_valid(settings)),
    model         TEXT    NOT NULL DEFAULT '',
    mode          TEXT    NOT NULL DEFAULT 'chat' CHECK (mode IN ('chat', 'completion')),
    deleted_at    INTEGER
))sql"),
                // The sidebar query: live conversations by last activity. Partial, so soft-deleted
                // rows cost nothing here.
                QStringLiteral(R"sql(
CREATE INDEX conversations_by_activity ON conversations (updated_at DESC, id DESC)
    WHERE deleted_at IS NULL)sql"),
                QStringLiteral(R"sql(
CREATE INDEX conversations_deleted ON conversations (deleted_at)
    WHERE deleted_at IS NOT NULL)sql"),
                QStringLiteral(R"sql(
CREATE TABLE messages (
    id                INTEGER PRIMARY KEY,
    conversation_id   INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role              TEXT    NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content           TEXT    NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'complete'
                              CHECK (status IN ('complete', 'streaming', 'interrupted', 'error')),
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    model             TEXT,
    settings          TEXT    CHECK (settings IS NULL OR json_valid(settings))
))sql"),
                QStringLiteral(R"sql(
CREATE INDEX messages_by_conversation ON messages (conversation_id, id))sql"),
                QStringLiteral(R"sql(
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT
) WITHOUT ROWID)sql"),
            }};
}

// v2: full-text search. External-content FTS5 tables index the text without storing a
// second copy; triggers keep them in sync. Messages still streaming are deliberately not
// indexed: their content is rewritten about once a second and re-indexing it each time
// would cost more than the write itself. They enter the index when they settle
// (complete / interrupted / error). The UPDATE trigger removes the old entry and adds the
// new one in a single trigger because FTS5 'delete' must see exactly the indexed text, and
// the order of two separate triggers is not something to rely on.
SchemaMigration version2() {
    return {2,
            QStringLiteral("full-text search"),
            {
                QStringLiteral(R"sql(
CREATE VIRTUAL TABLE conversations_fts USING fts5 (
    title,
    content = 'conversations', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
))sql"),
                // prefix indexes make the search-as-you-type prefix match on short stems cheap.
                QStringLiteral(R"sql(
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    content = 'messages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
))sql"),
                QStringLiteral(R"sql(
CREATE TRIGGER conversations_fts_after_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversations_fts (rowid, title) VALUES (new.id, new.title);
END)sql"),
                QStringLiteral(R"sql(
CREATE TRIGGER conversations_fts_after_delete AFTER DELETE ON conversations BEGIN
    INSERT INTO conversations_fts (conversations_fts, rowid, title)
        VALUES ('delete', old.id, old.title);
END)sql"),
                QStringLiteral(R"sql(
CREATE TRIGGER conversations_fts_after_update AFTER UPDATE OF title ON conversations BEGIN
    INSERT INTO conversations_fts (conversations_fts, rowid, title)
        VALUES ('delete', old.id, old.title);
    INSERT INTO conversations_fts (rowid, title) VALUES (new.id, new.title);
END)sql"),
                QStringLiteral(R"sql(
CREATE TRIGGER messages_fts_after_insert AFTER INSERT ON messages
WHEN new.status <> 'streaming' BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END)sql"),
                QStringLiteral(R"sql(
CREATE TRIGGER messages_fts_after_delete AFTER DELETE ON messages
WHEN old.status <> 'streaming' BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.id, old.content);
END)sql"),
                QStringLiteral(R"sql(
CREATE TRIGGER messages_fts_after_update AFTER UPDATE OF content, status ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.id, old.content WHERE old.status <> 'streaming';
    INSERT INTO messages_fts (rowid, content)
        SELECT new.id, new.content WHERE new.status <> 'streaming';
END)sql"),
                // Backfill. Not 'rebuild': that would also index streaming rows and then the
                // triggers' bookkeeping would no longer match the index.
                QStringLiteral(R"sql(
INSERT INTO conversations_fts (rowid, title) SELECT id, title FROM conversations)sql"),
                QStringLiteral(R"sql(
INSERT INTO messages_fts (rowid, content)
    SELECT id, content FROM messages WHERE status <> 'streaming')sql"),
            }};
}

// v3: messages form a tree so a conversation can branch (edit a question, regenerate an
// answer); the conversation remembers which leaf is on screen. Existing linear
// conversations become single-branch trees: each message's parent is the previous one.
// Also adds the table for recurrent-state snapshots (files on disk, referenced here).
SchemaMigration version3() {
    return {3,
            QStringLiteral("message branches and state snapshots"),
            {
                QStringLiteral(R"sql(
ALTER TABLE messages ADD COLUMN parent_id INTEGER
    REFERENCES messages (id) ON DELETE CASCADE)sql"),
                QStringLiteral(R"sql(
ALTER TABLE messages ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0)sql"),
                QStringLiteral(R"sql(
UPDATE messages SET updated_at = created_at)sql"),
                QStringLiteral(R"sql(
UPDATE messages SET parent_id = (
    SELECT MAX(p.id) FROM messages AS p
    WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id))sql"),
                // Siblings (same conversation, same parent, by id); also serves per-conversation
                // lookups, so the v1 index is redundant.
                QStringLiteral(R"sql(
CREATE INDEX messages_tree ON messages (conversation_id, parent_id, id))sql"),
                QStringLiteral(R"sql(
DROP INDEX messages_by_conversation)sql"),
                // Message id -> conversation without touching the table rows (which hold the text):
                // search maps every matching message to its conversation, and a common word can
                // match most messages. Keeps that lookup inside a small index instead of reading
                // tens of megabytes of message pages.
                QStringLiteral(R"sql(
CREATE INDEX messages_owner ON messages (id, conversation_id))sql"),
                // ON DELETE CASCADE through parent_id needs an index led by parent_id, or deleting
                // a conversation would scan the whole table once per message.
                QStringLiteral(R"sql(
CREATE INDEX messages_by_parent ON messages (parent_id))sql"),
                // Nearly always empty; lets the startup "mark interrupted" pass skip a table scan.
                QStringLiteral(R"sql(
CREATE INDEX messages_streaming ON messages (id) WHERE status = 'streaming')sql"),
                QStringLiteral(R"sql(
CREATE TRIGGER messages_parent_in_same_conversation BEFORE INSERT ON messages
WHEN new.parent_id IS NOT NULL
 AND (SELECT conversation_id FROM messages WHERE id = new.parent_id) IS NOT new.conversation_id
BEGIN
    SELECT RAISE(ABORT, 'the parent message belongs to another conversation');
END)sql"),
                QStringLiteral(R"sql(
ALTER TABLE conversations ADD COLUMN current_leaf_message_id INTEGER
    REFERENCES messages (id) ON DELETE SET NULL)sql"),
                QStringLiteral(R"sql(
UPDATE conversations SET current_leaf_message_id = (
    SELECT MAX(m.id) FROM messages AS m WHERE m.conversation_id = conversations.id))sql"),
                QStringLiteral(R"sql(
CREATE INDEX conversations_by_leaf ON conversations (current_leaf_message_id))sql"),
                QStringLiteral(R"sql(
CREATE TRIGGER conversations_leaf_in_same_conversation
BEFORE UPDATE OF current_leaf_message_id ON conversations
WHEN new.current_leaf_message_id IS NOT NULL
 AND (SELECT conversation_id FROM messages WHERE id = new.current_leaf_message_id) IS NOT new.id
BEGIN
    SELECT RAISE(ABORT, 'the current leaf message belongs to another conversation');
END)sql"),
                // A snapshot is the model's recurrent state after `message_id` (for instant resume),
                // stored in `file_path`. `fingerprint` identifies what produced it (model, dtype,
                // prompt format) so a stale snapshot is never loaded into a different model.
                QStringLiteral(R"sql(
CREATE TABLE state_snapshots (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id      INTEGER REFERENCES messages (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    fingerprint     TEXT    NOT NULL,
    file_path       TEXT    NOT NULL UNIQUE,
    byte_size       INTEGER NOT NULL CHECK (byte_size >= 0),
    checksum        TEXT    NOT NULL,
    token_count     INTEGER NOT NULL CHECK (token_count >= 0),
    created_at      INTEGER NOT NULL
))sql"),
                QStringLiteral(R"sql(
CREATE INDEX state_snapshots_by_conversation ON state_snapshots (conversation_id, message_id))sql"),
                QStringLiteral(R"sql(
CREATE INDEX state_snapshots_by_message ON state_snapshots (message_id))sql"),
            }};
}

}  // namespace

const std::vector<SchemaMigration>& schemaMigrations() {
    static const std::vector<SchemaMigration> steps{version1(), version2(), version3()};
    return steps;
}

int latestSchemaVersion() {
    return schemaMigrations().back().version;
}

}  // namespace fm
