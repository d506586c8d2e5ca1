#include "app/controllers/ui_settings.h"

#include <algorithm>
#include <cmath>

#include <QCoreApplication>
#include <QDir>
#include <QEvent>
#include <QFileInfo>
#include <QGuiApplication>
#include <QPalette>
#include <QStandardPaths>

namespace fm::app {
namespace {
const QString kTheme = QStringLiteral("ui/theme");
const QString kMemoryPanel = QStringLiteral("ui/memoryPanel");
const QString kTextScale = QStringLiteral("ui/textScale");

// Whole percent within the limits; anything unreadable (a hand-edited file) is 100%.
double clampedScale(double scale) {
    if (!std::isfinite(scale)) return 1.0;
    const double clamped = std::clamp(scale, UiSettings::kMinTextScale, UiSettings::kMaxTextScale);
    return std::round(clamped * 100.0) / 100.0;
}
const QString kRecent = QStringLiteral("models/recent");
const QString kGeometry = QStringLiteral("window/geometry");
const QString kMaximized = QStringLiteral("window/maximized");
const QString kTransferFolder = QStringLiteral("transfer/folder");
}  // namespace

UiSettings::UiSettings(const QString& settingsFile, QObject* parent) : QObject(parent) {
    settings_ = settingsFile.isEmpty() ? std::make_unique<QSettings>()
                                       : std::make_unique<QSettings>(settingsFile, QSettings::IniFormat);
    const QString theme = settings_->value(kTheme, QStringLiteral("system")).toString();
    theme_ = (theme == QStringLiteral("light") || theme == QStringLiteral("dark")) ? theme : QStringLiteral("system");
    memoryPanelVisible_ = settings_->value(kMemoryPanel, true).toBool();
    bool scaleOk = false;
    const double savedScale = settings_->value(kTextScale, 1.0).toDouble(&scaleOk);
    textScale_ = scaleOk ? clampedScale(savedScale) : 1.0;
    recentModels_ = settings_->value(kRecent).toStringList();
    updateSystemDark();
    // The system palette changes when the desktop switches between light and dark.
    if (QCoreApplication::instance()) QCoreApplication::instance()->installEventFilter(this);
}

UiSettings::~UiSettings() {
    if (QCoreApplication::instance()) QCoreApplication::instance()->removeEventFilter(this);
}

bool UiSettings::eventFilter(QObject* watched, QEvent* event) {
    if (watched == QCoreApplication::instance() && event->type() == QEvent::ApplicationPaletteChange)
        updateSystemDark();
    return QObject::eventFilter(watched, event);
}

void UiSettings::updateSystemDark() {
    // Qt 6.4 has no color-scheme hint (6.5 adds QStyleHints::colorScheme): a dark window
    // background in the system palette is the signal desktops give.
    bool isDark = false;
    if (qobject_cast<QGuiApplication*>(QCoreApplication::instance()))
        isDark = QGuiApplication::palette().color(QPalette::Window).lightness() < 128;
    if (isDark == systemDark_) return;
    systemDark_ = isDark;
    emit themeChanged();
}

bool UiSettings::dark() const {
    if (theme_ == QStringLiteral("dark")) return true;
    if (theme_ == QStringLiteral("light")) return false;
    return systemDark_;
}

void UiSettings::setTheme(const QString& theme) {
    const QString valid =
        (theme == QStringLiteral("light") || theme == QStringLiteral("dark")) ? theme : QStringLiteral("system");
    if (valid == theme_) return;
    theme_ = valid;
    settings_->setValue(kTheme, theme_);
    emit themeChanged();
}

void UiSettings::setMemoryPanelVisible(bool visible) {
    if (visible == memoryPanelVisible_) return;
    memoryPanelVisible_ = visible;
    settings_->setValue(kMemoryPanel, visible);
    emit memoryPanelVisibleChanged();
}

void UiSettings::addRecentModel(const QString& path) {
    const QString clean = QDir::cleanPath(path);
    recentModels_.removeAll(clean);
    recentModels_.prepend(clean);
    while (recentModels_.size() > kMaxRecentModels) recentModels_.removeLast();
    settings_->setValue(kRecent, recentModels_);
    emit recentModelsChanged();
}

void UiSettings::removeRecentModel(const QString& path) {
    if (recentModels_.removeAll(QDir::cleanPath(path)) == 0) return;
    settings_->setValue(kRecent, recentModels_);
    emit recentModelsChanged();
}

void UiSettings::setTextScale(double scale) {
    const double clamped = clampedScale(scale);
    if (qFuzzyCompare(clamped, textScale_)) return;
    textScale_ = clamped;
    settings_->setValue(kTextScale, textScale_);
    emit textScaleChanged();
}

void UiSettings::zoomIn() {
    setTextScale(textScale_ + kTextScaleStep);
}

void UiSettings::zoomOut() {
    setTextScale(textScale_ - kTextScaleStep);
}

void UiSettings::resetZoom() {
    setTextScale(1.0);
}

QRect UiSettings::windowGeometry() const {
    return settings_->value(kGeometry).toRect();
}

bool UiSettings::windowMaximized() const {
    return settings_->value(kMaximized, false).toBool();
}

void UiSettings::saveWindowGeometry(int x, int y, int width, int height, bool maximized) {
    // A maximized window's own size is the screen's: keep the last normal geometry instead.
    if (!maximized && width > 0 && height > 0) settings_->setValue(kGeometry, QRect(x, y, width, height));
    settings_->setValue(kMaximized, maximized);
    settings_->sync();
}

QString UiSettings::transferFolder() const {
    const QString saved = settings_->value(kTransferFolder).toString();
    if (!saved.isEmpty() && QDir::isAbsolutePath(saved)) return saved;
    const QString documents = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    return documents.isEmpty() ? QDir::homePath() : documents;
}

QUrl UiSettings::typedFileUrl(const QString& typed) const {
    const QString text = typed.trimmed();
    if (text.isEmpty()) return {};
    // A URL (file:///..., or one pasted from a browser, which names no local file).
    if (text.startsWith(QStringLiteral("file:")) || text.contains(QStringLiteral("://"))) {
        const QUrl url(text);
        return url.isLocalFile() ? url : QUrl();
    }
    QString path = text;
    if (path == QStringLiteral("~"))
        path = QDir::homePath();
    else if (path.startsWith(QStringLiteral("~/")))
        path = QDir::homePath() + path.mid(1);
    else if (QDir::isRelativePath(path))
        path = QDir(transferFolder()).filePath(path);
    return QUrl::fromLocalFile(QDir::cleanPath(path));
}

QString UiSettings::typedPath(const QUrl& file) const {
    return file.isLocalFile() ? file.toLocalFile() : QString();
}

void UiSettings::rememberTransferFile(const QUrl& file) {
    if (!file.isLocalFile()) return;
    const QString folder = QFileInfo(file.toLocalFile()).absolutePath();
    if (folder == transferFolder()) return;
    settings_->setValue(kTransferFolder, folder);
    emit transferFolderChanged();
}

}  // namespace fm::app
