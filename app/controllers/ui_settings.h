#pragma once
// Window and look preferences kept in QSettings: theme (follow the system, or forced light or
// dark), window geometry, the recently used checkpoints, and the folder the export and import
// dialogs start in (with how a typed path is read there).

#include <QtQml/qqmlregistration.h>
#include <QObject>
#include <QRect>
#include <QSettings>
#include <QStringList>
#include <QUrl>

#include <memory>

namespace fm::app {

class UiSettings : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("UiSettings is provided by AppController")
    // "system", "light" or "dark".
    Q_PROPERTY(QString theme READ theme WRITE setTheme NOTIFY themeChanged)
    Q_PROPERTY(bool systemDark READ systemDark NOTIFY themeChanged)
    // What the window should show now: the override, or the system's choice.
    Q_PROPERTY(bool dark READ dark NOTIFY themeChanged)
    Q_PROPERTY(
        bool memoryPanelVisible READ memoryPanelVisible WRITE setMemoryPanelVisible NOTIFY memoryPanelVisibleChanged)
    Q_PROPERTY(QStringList recentModels READ recentModels NOTIFY recentModelsChanged)
    // Text zoom for the conversation and the composer: 1 = 100%, kMinTextScale..kMaxTextScale.
    Q_PROPERTY(double textScale READ textScale WRITE setTextScale NOTIFY textScaleChanged)
    // Where the export and import dialogs start: the folder of the last file exported or
    // imported, else the Documents folder (never the working directory the app started in).
    Q_PROPERTY(QString transferFolder READ transferFolder NOTIFY transferFolderChanged)

public:
    // settingsFile empty: the platform's default location for this application.
    explicit UiSettings(const QString& settingsFile, QObject* parent = nullptr);
    ~UiSettings() override;

    QString theme() const { return theme_; }
    void setTheme(const QString& theme);
    bool systemDark() const { return systemDark_; }
    bool dark() const;

    bool memoryPanelVisible() const { return memoryPanelVisible_; }
    void setMemoryPanelVisible(bool visible);

    double textScale() const { return textScale_; }
    // Clamped to the limits and rounded to whole percent; saved at once.
    void setTextScale(double scale);
    // Ctrl+= / Ctrl+- / Ctrl+0: one step up or down the zoom ladder, or back to 100%.
    Q_INVOKABLE void zoomIn();
    Q_INVOKABLE void zoomOut();
    Q_INVOKABLE void resetZoom();

    QStringList recentModels() const { return recentModels_; }
    void addRecentModel(const QString& path);
    Q_INVOKABLE void removeRecentModel(const QString& path);

    // Window geometry: an invalid rect when none was saved (first start).
    Q_INVOKABLE QRect windowGeometry() const;
    Q_INVOKABLE bool windowMaximized() const;
    Q_INVOKABLE void saveWindowGeometry(int x, int y, int width, int height, bool maximized);

    QString transferFolder() const;
    // A path as the user typed it -> a file URL, without touching the disk: surrounding blanks
    // dropped; `~` and `~/...` are the home folder; `file:` URLs are taken as they are, other
    // URLs refused; a relative path is relative to transferFolder. Empty (invalid URL) for an empty text.
    Q_INVOKABLE QUrl typedFileUrl(const QString& typed) const;
    // The other way, for the path field: a local file URL as a plain path.
    Q_INVOKABLE QString typedPath(const QUrl& file) const;
    // After an export or import: the next dialog starts in this file's folder.
    Q_INVOKABLE void rememberTransferFile(const QUrl& file);

    QSettings& settings() { return *settings_; }

    static constexpr int kMaxRecentModels = 8;
    static constexpr double kMinTextScale = 0.7;
    static constexpr double kMaxTextScale = 2.0;
    static constexpr double kTextScaleStep = 0.1;

signals:
    void themeChanged();
    void memoryPanelVisibleChanged();
    void textScaleChanged();
    void recentModelsChanged();
    void transferFolderChanged();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void updateSystemDark();

    std::unique_ptr<QSettings> settings_;
    QString theme_ = QStringLiteral("system");
    bool systemDark_ = false;
    bool memoryPanelVisible_ = true;
    double textScale_ = 1.0;
    QStringList recentModels_;
};

}  // namespace fm::app
