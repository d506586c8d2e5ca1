import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import QtQuick.Layouts
import QtQuick.Window
import FalconMamba.App

// The main window: conversations on the left, the chat (or the model page) in the middle,
// the live memory panel on the right.
ApplicationWindow {
    id: window
    required property AppController app
    // "chat" or "models"
    property string page: "chat"

    readonly property bool dark: app.ui.dark
    readonly property color surface: dark ? "#1b1c21" : "#ffffff"
    readonly property color sidebarColor: dark ? "#141519" : "#f6f7f9"
    readonly property color dividerColor: dark ? "#2a2c33" : "#e4e6eb"
    readonly property color subtleText: dark ? "#9ca3af" : "#6b7280"

    width: 1280
    height: 820
    // Fits a 1920x1080 screen at 200% (960x540 less a panel) with room to spare.
    minimumWidth: 640
    minimumHeight: 480
    visible: true
    title: app.conversations.currentTitle.length > 0 ? app.conversations.currentTitle + " — Falcon Mamba Chat" : "Falcon Mamba Chat"
    color: surface

    Material.theme: dark ? Material.Dark : Material.Light
    Material.accent: dark ? "#7aa2ff" : "#3d63dd"
    Material.primary: Material.accent
    Material.background: surface
    font.pixelSize: 14
    // Tab and Shift+Tab move between the regions (search, chats, messages, message box);
    // buttons are reached with their shortcuts (Ctrl+/ lists them).

    function showChat() {
        page = "chat"
        chatView.focusComposer()
    }

    Component.onCompleted: {
        const g = app.ui.windowGeometry()
        if (g.width > 0 && g.height > 0) {
            x = g.x; y = g.y; width = g.width; height = g.height
        }
        if (app.ui.windowMaximized())
            showMaximized()
        if (!app.models.loaded && !app.models.loading && app.conversations.list.count === 0)
            page = "models"
        else
            chatView.focusComposer()
    }
    onClosing: app.ui.saveWindowGeometry(x, y, width, height, visibility === Window.Maximized)

    Connections {
        target: window.app.models
        function onModelReady() { window.showChat() }
    }

    // ---- Keyboard shortcuts ---------------------------------------------------------------
    // One sequence per action (a sequence claimed twice is ambiguous and fires neither), all
    // at window level so they work wherever the focus is, the composer included. The list
    // below is also what the Shortcuts overlay (Ctrl+/) shows.
    readonly property var shortcutMap: [
        { keys: "Ctrl+N", action: qsTr("New chat") },
        { keys: "Ctrl+K", action: qsTr("Search chats") },
        { keys: "Ctrl+F", action: qsTr("Search chats") },
        { keys: "Esc", action: qsTr("Stop generating") },
        { keys: "Ctrl+Shift+R", action: qsTr("Regenerate the last reply") },
        { keys: "Ctrl+Shift+C", action: qsTr("Copy the last reply") },
        { keys: "Ctrl+E", action: qsTr("Export this chat") },
        { keys: "Ctrl+O", action: qsTr("Import conversations") },
        { keys: "Ctrl+L", action: qsTr("Models page") },
        { keys: "Ctrl+M", action: qsTr("Show or hide the memory panel") },
        { keys: "Ctrl+,", action: qsTr("Generation settings") },
        { keys: "Ctrl+=", action: qsTr("Larger text") },
        { keys: "Ctrl+-", action: qsTr("Smaller text") },
        { keys: "Ctrl+0", action: qsTr("Text at 100%") },
        { keys: "Ctrl+/", action: qsTr("This list of shortcuts") },
        { keys: "Tab, Shift+Tab", action: qsTr("Next or previous region: search, chats, messages, message box") },
        { keys: "Up, Down", action: qsTr("In the chats or messages: move the selection") },
        { keys: "Enter", action: qsTr("In the chats: open the chat. In the message box: send") },
        { keys: "Shift+Enter", action: qsTr("In the message box: new line") },
        { keys: "F2, Delete", action: qsTr("In the chats: rename or delete the selected chat") },
        { keys: "Ctrl+C, E", action: qsTr("In the messages: copy or edit the selected message") },
        { keys: "Alt+Left, Alt+Right", action: qsTr("In the messages: previous or next version") }
    ]
    Shortcut {
        sequence: StandardKey.New
        onActivated: { window.app.conversations.newConversation(); window.showChat() }
    }
    Shortcut {
        sequences: ["Ctrl+K", StandardKey.Find]
        onActivated: sidebar.focusSearch()
    }
    Shortcut {
        sequence: "Esc"
        enabled: window.app.chat.generating
        onActivated: window.app.chat.stop()
    }
    Shortcut {
        sequence: "Ctrl+Shift+C"
        onActivated: window.app.chat.copyLastReply()
    }
    Shortcut {
        sequence: "Ctrl+Shift+R"
        enabled: window.app.chat.canSend
        onActivated: window.app.chat.regenerate()
    }
    Shortcut {
        sequence: "Ctrl+E"
        onActivated: sidebar.exportCurrent()
    }
    Shortcut {
        sequence: "Ctrl+O"
        onActivated: sidebar.openImport()
    }
    Shortcut {
        sequence: "Ctrl+L"
        onActivated: window.page = window.page === "models" ? "chat" : "models"
    }
    Shortcut {
        sequence: "Ctrl+M"
        onActivated: window.app.ui.memoryPanelVisible = !window.app.ui.memoryPanelVisible
    }
    Shortcut {
        sequence: "Ctrl+,"
        onActivated: { window.page = "chat"; chatView.openSettings() }
    }
    Shortcut {
        // Ctrl++ is Ctrl+Shift+= on most layouts; both zoom in.
        sequences: ["Ctrl+=", "Ctrl++"]
        onActivated: window.app.ui.zoomIn()
    }
    Shortcut {
        sequence: "Ctrl+-"
        onActivated: window.app.ui.zoomOut()
    }
    Shortcut {
        sequence: "Ctrl+0"
        onActivated: window.app.ui.resetZoom()
    }
    Shortcut {
        sequences: ["Ctrl+/", "F1"]
        onActivated: shortcutsOverlay.visible ? shortcutsOverlay.close() : shortcutsOverlay.open()
    }

    RowLayout {
        anchors.fill: parent
        spacing: 0

        Sidebar {
            id: sidebar
            Layout.preferredWidth: window.width < 900 ? 220 : 272
            Layout.fillHeight: true
            app: window.app
            page: window.page
            color: window.sidebarColor
            subtleText: window.subtleText
            onOpenModels: window.page = "models"
            onOpenChat: window.showChat()
            onOpenHit: query => { window.page = "chat"; chatView.jumpToText(query) }
        }
        Rectangle { Layout.fillHeight: true; implicitWidth: 1; color: window.dividerColor }

        StackLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            currentIndex: window.page === "models" ? 1 : 0

            ChatView {
                id: chatView
                app: window.app
                textScale: window.app.ui.textScale
                subtleText: window.subtleText
                dividerColor: window.dividerColor
                onOpenModels: window.page = "models"
            }
            ModelsPage {
                app: window.app
                subtleText: window.subtleText
                dividerColor: window.dividerColor
                onDone: window.showChat()
            }
        }

        Rectangle {
            Layout.fillHeight: true
            implicitWidth: 1
            color: window.dividerColor
            visible: memoryPanel.visible
        }
        MemoryPanel {
            id: memoryPanel
            Layout.preferredWidth: 300
            Layout.fillHeight: true
            visible: window.app.ui.memoryPanelVisible && window.width >= 1060
            app: window.app
            color: window.sidebarColor
            subtleText: window.subtleText
            dividerColor: window.dividerColor
        }
    }

    // ---- Undo after deleting a conversation ----------------------------------------------
    Rectangle {
        id: undoToast
        visible: window.app.conversations.undoAvailable
        anchors.horizontalCenter: parent.horizontalCenter
        anchors.bottom: parent.bottom
        anchors.bottomMargin: 24
        width: undoRow.implicitWidth + 32
        height: 48
        radius: 10
        color: window.dark ? "#e8eaed" : "#25262b"
        Accessible.role: Accessible.AlertMessage
        Accessible.name: undoLabel.text

        RowLayout {
            id: undoRow
            anchors.centerIn: parent
            spacing: 12
            Label {
                id: undoLabel
                text: qsTr("Deleted “%1”").arg(window.app.conversations.undoTitle)
                color: window.dark ? "#202124" : "#f1f3f4"
                elide: Text.ElideRight
                Layout.maximumWidth: 320
            }
            Button {
                text: qsTr("Undo")
                flat: true
                Material.foreground: window.dark ? "#3d63dd" : "#9bb5ff"
                Accessible.name: qsTr("Undo delete")
                onClicked: window.app.conversations.undoDelete()
            }
        }
        Timer {
            running: undoToast.visible
            interval: 8000
            onTriggered: window.app.conversations.dismissUndo()
        }
    }

    ShortcutsOverlay {
        id: shortcutsOverlay
        objectName: "shortcutsOverlay"
        shortcuts: window.shortcutMap
        subtleText: window.subtleText
    }
}
