#pragma once
// Everything a QML engine needs before it loads the window: shared by main() and the UI tests
// so both see exactly the same configuration.

#include <QUrl>

class QQmlEngine;
class QQuickWindow;

namespace fm::app {

// The Quick Controls style; call before the first engine is created.
void setUpQuickControlsStyle();
// Import paths for the statically linked modules.
void setUpQmlEngine(QQmlEngine& engine);
// qrc URL of the main window (FalconMamba.Ui's Main.qml).
QUrl mainWindowUrl();
// Shows `window` (restored if minimised) above the others and gives it the keyboard.
void bringToFront(QQuickWindow* window);

}  // namespace fm::app
