#pragma once
// The conversation database schema as an ordered list of forward migrations. A database's
// `PRAGMA user_version` says how many steps have been applied; opening runs the missing
// ones, each in its own transaction. Steps are never edited once released: old DDL stays
// here verbatim because it is both what users' databases went through and what the
// migration tests replay to build databases at every earlier version.

#include <QString>
#include <QStringList>

#include <vector>

namespace fm {

struct SchemaMigration {
    int version = 0;         // user_version after this step
    QString summary;         // shown in error messages ("migrating to v2 (full-text search)")
    QStringList statements;  // one SQL statement each (the SQLite driver runs one per exec)
};

// All steps, ascending and contiguous from version 1.
const std::vector<SchemaMigration>& schemaMigrations();

// The version this build writes; a database above it was made by a newer app.
int latestSchemaVersion();

}  // namespace fm
