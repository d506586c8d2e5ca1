import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import QtQuick.Layouts
import FalconMamba.App
import FalconMamba.Ui.Controls

// Conversations by last activity, with search over titles and messages, and the model
// status at the bottom.
Rectangle {
    id: root
    required property AppController app
    property string page
    property color subtleText
    signal openModels()
    signal openChat()
    // A search hit was opened: the chat should show the message that matched `query`.
    signal openHit(string query)

    function openConversation(conversationId) {
        root.app.conversations.selectConversation(conversationId)
        if (root.app.conversations.list.searching)
            root.openHit(root.app.conversations.list.filter)
        else
            root.openChat()
    }

    function focusSearch() {
        searchField.forceActiveFocus()
        searchField.selectAll()
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 12
        spacing: 10

        // ---- Brand and new chat ----------------------------------------------------------
        RowLayout {
            Layout.fillWidth: true
            Layout.topMargin: 4
            spacing: 10
            Rectangle {
                implicitWidth: 30
                implicitHeight: 30
                radius: 8
                gradient: Gradient {
                    GradientStop { position: 0; color: "#5b7cfa" }
                    GradientStop { position: 1; color: "#8b5cf6" }
                }
                Label {
                    anchors.centerIn: parent
                    text: "FM"
                    color: "white"
                    font.bold: true
                    font.pixelSize: 12
                }
            }
            Label {
                Layout.fillWidth: true
                text: "Falcon Mamba"
                font.pixelSize: 16
                font.weight: Font.DemiBold
                elide: Text.ElideRight
            }
            IconButton {
                iconPath: Icons.plus
                tip: qsTr("New chat (Ctrl+N)")
                onClicked: { root.app.conversations.newConversation(); root.openChat() }
            }
            IconButton {
                iconPath: Icons.more
                tip: qsTr("Import and export")
                onClicked: transferMenu.popup()
                Menu {
                    id: transferMenu
                    MenuItem {
                        text: qsTr("Import conversations…")
                        Accessible.name: qsTr("Import conversations from a JSON export")
                        onTriggered: root.openImport()
                    }
                    MenuItem {
                        text: qsTr("Export all conversations…")
                        Accessible.name: qsTr("Export all conversations")
                        onTriggered: exportDialog.openFor(0, "all-conversations")
                    }
                }
            }
        }

        Label {
            id: transferStatus
            Layout.fillWidth: true
            visible: text.length > 0
            wrapMode: Text.Wrap
            font.pixelSize: 12
            color: root.subtleText
            Accessible.name: qsTr("Import and export status")
            Timer { id: transferStatusTimer; interval: 8000; onTriggered: transferStatus.text = "" }
            function show(message) { text = message; transferStatusTimer.restart() }
        }

        TextField {
            id: searchField
            objectName: "searchField"
            Layout.fillWidth: true
            placeholderText: qsTr("Search chats (Ctrl+K)")
            leftPadding: 34
            selectByMouse: true
            Accessible.name: qsTr("Search conversations")
            onTextChanged: searchDebounce.restart()
            Keys.onEscapePressed: { text = ""; root.app.conversations.list.filter = "" }
            Icon {
                anchors.left: parent.left
                anchors.leftMargin: 10
                anchors.verticalCenter: parent.verticalCenter
                path: Icons.search
                size: 15
                color: root.subtleText
            }
            Timer {
                id: searchDebounce
                interval: 150
                onTriggered: root.app.conversations.list.filter = searchField.text
            }
        }

        // ---- Conversations ---------------------------------------------------------------
        ListView {
            id: list
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: 2
            model: root.app.conversations.list
            reuseItems: true
            boundsBehavior: Flickable.StopAtBounds
            objectName: "conversationList"
            Accessible.name: qsTr("Conversations")
            Accessible.role: Accessible.List
            ScrollBar.vertical: ScrollBar { policy: ScrollBar.AsNeeded }
            // A region of the Tab cycle: Up/Down select, Enter opens, F2 renames, Delete
            // deletes (with undo), the menu key opens the row's menu.
            activeFocusOnTab: true
            keyNavigationEnabled: true
            highlightFollowsCurrentItem: false
            onActiveFocusChanged: {
                if (!activeFocus) return
                const shown = root.app.conversations.list.rowOf(root.app.conversations.currentConversationId)
                currentIndex = shown >= 0 ? shown : Math.min(Math.max(currentIndex, 0), count - 1)
            }
            Keys.onPressed: event => {
                if (!currentItem) return
                if (event.key === Qt.Key_Return || event.key === Qt.Key_Enter || event.key === Qt.Key_Space) {
                    root.openConversation(currentItem.conversationId)
                } else if (event.key === Qt.Key_Delete) {
                    root.app.conversations.deleteConversation(currentItem.conversationId)
                } else if (event.key === Qt.Key_F2) {
                    renameDialog.openFor(currentItem.conversationId, currentItem.title)
                } else if (event.key === Qt.Key_Menu) {
                    currentItem.openMenu()
                } else {
                    return
                }
                event.accepted = true
            }
            FocusRing {
                parent: list
                outset: 0
                shown: list.activeFocus
            }
            // Date groups (Today, Yesterday, Previous 7 days, ..., by month); search results
            // are in order of relevance, so they have none.
            section.property: root.app.conversations.list.searching ? "" : "dateGroup"
            section.criteria: ViewSection.FullString
            section.delegate: Label {
                required property string section
                width: ListView.view ? ListView.view.width : 0
                text: section
                topPadding: 10
                bottomPadding: 4
                leftPadding: 12
                font.pixelSize: 12
                font.weight: Font.DemiBold
                color: root.subtleText
                Accessible.role: Accessible.Heading
                Accessible.name: section
            }

            delegate: ItemDelegate {
                id: row
                required property int index
                required property var conversationId
                required property string title
                required property var updatedAt
                required property string snippet
                readonly property bool current: conversationId === root.app.conversations.currentConversationId
                function openMenu() { rowMenu.popup(row, 0, row.height) }

                width: ListView.view.width
                focusPolicy: Qt.NoFocus
                height: snippet.length > 0 ? 62 : 40
                padding: 0
                leftPadding: 12
                rightPadding: 4
                Accessible.name: title
                Accessible.description: snippet.length > 0 ? snippetLabel.text : ""
                highlighted: current
                onClicked: root.openConversation(conversationId)

                background: Rectangle {
                    radius: 8
                    color: row.current ? (root.Material.theme === Material.Dark ? "#262a36" : "#e6ebfa")
                                       : row.hovered ? (root.Material.theme === Material.Dark ? "#1f2026" : "#eceef2")
                                                     : "transparent"
                }

                contentItem: RowLayout {
                    spacing: 4
                    ColumnLayout {
                        Layout.fillWidth: true
                        spacing: 2
                        Label {
                            Layout.fillWidth: true
                            text: row.title
                            elide: Text.ElideRight
                            font.weight: row.current ? Font.DemiBold : Font.Normal
                        }
                        Label {
                            id: snippetLabel
                            Layout.fillWidth: true
                            visible: row.snippet.length > 0
                            text: row.snippet
                            textFormat: Text.StyledText
                            elide: Text.ElideRight
                            maximumLineCount: 1
                            font.pixelSize: 12
                            color: root.subtleText
                        }
                    }
                    IconButton {
                        visible: row.hovered || row.current
                        iconPath: Icons.more
                        iconSize: 16
                        implicitWidth: 28
                        implicitHeight: 28
                        tip: qsTr("Conversation actions")
                        onClicked: rowMenu.popup()
                    }
                }

                FocusRing {
                    outset: 0
                    shown: row.ListView.isCurrentItem && list.activeFocus
                }
                TapHandler {
                    acceptedButtons: Qt.RightButton
                    onTapped: rowMenu.popup()
                }
                Menu {
                    id: rowMenu
                    MenuItem {
                        text: qsTr("Rename…")
                        Accessible.name: qsTr("Rename conversation")
                        onTriggered: renameDialog.openFor(row.conversationId, row.title)
                    }
                    MenuItem {
                        text: qsTr("Export…")
                        Accessible.name: qsTr("Export conversation")
                        onTriggered: exportDialog.openFor(row.conversationId, row.title)
                    }
                    MenuItem {
                        text: qsTr("Delete")
                        Accessible.name: qsTr("Delete conversation")
                        onTriggered: root.app.conversations.deleteConversation(row.conversationId)
                    }
                }
            }

            Label {
                anchors.centerIn: parent
                width: parent.width - 32
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.Wrap
                visible: list.count === 0
                color: root.subtleText
                text: root.app.conversations.list.searching ? qsTr("No chats match “%1”.").arg(searchField.text)
                                                            : qsTr("No chats yet.\nPress Ctrl+N to start one.")
            }
        }

        // ---- Footer: model, theme, memory panel ------------------------------------------
        Rectangle {
            Layout.fillWidth: true
            implicitHeight: 1
            color: root.Material.theme === Material.Dark ? "#2a2c33" : "#e4e6eb"
        }
        ItemDelegate {
            id: modelButton
            Layout.fillWidth: true
            implicitHeight: 52
            leftPadding: 10
            Accessible.name: qsTr("Models: %1").arg(modelLabel.text)
            highlighted: root.page === "models"
            onClicked: root.openModels()
            background: Rectangle {
                radius: 8
                color: modelButton.highlighted ? (root.Material.theme === Material.Dark ? "#262a36" : "#e6ebfa")
                                               : modelButton.hovered ? (root.Material.theme === Material.Dark ? "#1f2026" : "#eceef2")
                                                                     : "transparent"
            }
            contentItem: RowLayout {
                spacing: 10
                Rectangle {
                    implicitWidth: 9
                    implicitHeight: 9
                    radius: 5
                    color: root.app.models.loaded ? "#22c55e"
                                                  : root.app.models.loading ? "#f59e0b"
                                                                            : root.app.models.errorMessage.length > 0 ? "#ef4444" : "#9ca3af"
                }
                ColumnLayout {
                    Layout.fillWidth: true
                    spacing: 0
                    Label {
                        id: modelLabel
                        Layout.fillWidth: true
                        elide: Text.ElideMiddle
                        font.weight: Font.DemiBold
                        text: root.app.models.loaded ? root.app.models.modelName
                                                     : root.app.models.loading ? qsTr("Loading model…") : qsTr("No model loaded")
                    }
                    Label {
                        Layout.fillWidth: true
                        elide: Text.ElideRight
                        font.pixelSize: 12
                        color: root.subtleText
                        text: root.app.models.loaded ? root.app.models.backendName + (root.app.models.quantizedModel ? " · 4-bit" : " · bf16")
                                                     : qsTr("Choose a checkpoint (Ctrl+L)")
                    }
                }
                Icon { path: Icons.box; size: 16; color: root.subtleText }
            }
        }
        RowLayout {
            Layout.fillWidth: true
            spacing: 4
            Label {
                Layout.fillWidth: true
                text: "v" + root.app.version
                color: root.subtleText
                font.pixelSize: 12
                leftPadding: 10
            }
            IconButton {
                iconPath: root.app.ui.theme === "dark" ? Icons.moon : root.app.ui.theme === "light" ? Icons.sun : Icons.monitor
                tip: qsTr("Theme: %1 (click to change)").arg(root.app.ui.theme === "system" ? qsTr("follow the system") : root.app.ui.theme)
                onClicked: root.app.ui.theme = root.app.ui.theme === "system" ? "light"
                                             : root.app.ui.theme === "light" ? "dark" : "system"
            }
            IconButton {
                iconPath: Icons.activity
                tip: qsTr("Memory panel (Ctrl+M)")
                checkable: true
                checked: root.app.ui.memoryPanelVisible
                onToggled: root.app.ui.memoryPanelVisible = checked
            }
        }
    }

    RenameDialog {
        id: renameDialog
        onAccepted: root.app.conversations.renameConversation(conversationId, newTitle)
    }

    // ---- Export and import: a path to type (or Browse…); the work runs on the exporter's
    // own thread -------------------------------------------------------------------------------
    // Ctrl+E: the chat on screen; Ctrl+O: import.
    function exportCurrent() {
        const id = root.app.conversations.currentConversationId
        if (id) exportDialog.openFor(id, root.app.conversations.currentTitle)
    }
    function openImport() { importDialog.openWith("") }

    FileTransferDialog {
        id: exportDialog
        objectName: "exportDialog"
        property var conversationId: 0
        app: root.app
        title: conversationId ? qsTr("Export conversation") : qsTr("Export all conversations")
        formats: root.app.exporter.formats
        function openFor(id, title) {
            conversationId = id
            format = formats[0]
            openWith(root.app.exporter.suggestedFileName(title, format))
        }
        onChosen: (file, format) => {
            if (conversationId)
                root.app.exporter.exportConversation(conversationId, format, file)
            else
                root.app.exporter.exportAll(format, file)
        }
    }
    FileTransferDialog {
        id: importDialog
        objectName: "importDialog"
        app: root.app
        saving: false
        title: qsTr("Import conversations")
        onChosen: file => root.app.exporter.importFile(file)
    }
    Connections {
        target: root.app.exporter
        function onExportFinished(ok, message, file) { transferStatus.show(message) }
        function onImportFinished(ok, message, conversationIds) {
            transferStatus.show(message)
            if (ok) root.app.conversations.list.reload()
        }
    }
}
