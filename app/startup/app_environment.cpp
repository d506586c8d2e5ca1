#include "app/startup/app_environment.h"

#include <QDir>
#include <QStandardPaths>

namespace fm::app {

QString AppEnvironment::databasePath() const {
    return QDir(dataDir).filePath(QStringLiteral("conversations.sqlite"));
}

AppEnvironment defaultAppEnvironment() {
    AppEnvironment env;
    env.dataDir = qEnvironmentVariable("FM_DATA_DIR");
    if (env.dataDir.isEmpty())
        env.dataDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    else
        env.settingsFile = QDir(env.dataDir).filePath(QStringLiteral("settings.ini"));
    return env;
}

}  // namespace fm::app
