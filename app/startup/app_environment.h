#pragma once
// Where the app keeps its files. Tests point everything at a temporary folder.

#include <QString>

namespace fm::app {

struct AppEnvironment {
    QString dataDir;                 // the conversation database lives here
    QString settingsFile;            // QSettings INI file for window and UI preferences; empty: the platform's default
    QString hubCacheDir;             // Hugging Face hub cache; empty: from HF_HUB_CACHE / HF_HOME / ~/.cache
    bool autoLoadLastModel = false;  // load the most recently used checkpoint at start

    QString databasePath() const;
};

// QStandardPaths::AppDataLocation, or $FM_DATA_DIR when set (tests, portable installs).
AppEnvironment defaultAppEnvironment();

}  // namespace fm::app
