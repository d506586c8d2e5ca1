import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import QtQuick.Layouts
import FalconMamba.App
import "Icons.js" as Icons

// The conversation on screen: header, messages (streaming in), composer.
Item {
    id: root
    required property AppController app
    property color subtleText
    property color dividerColor
    signal openModels()

    readonly property int contentWidth: Math.min(width - 48, 820)

    function focusComposer() { composer.focusInput() }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        // ---- Header --------------------------------------------------------------------
        RowLayout {
            Layout.fillWidth: true
            Layout.preferredHeight: 56
            Layout.leftMargin: 20
            Layout.rightMargin: 12
            spacing: 8
            Label {
                Layout.fillWidth: true
                text: root.app.chat.currentTitle.length > 0 ? root.app.chat.currentTitle : qsTr("New chat")
                font.pixelSize: 16
                font.weight: Font.DemiBold
                elide: Text.ElideRight
                Accessible.role: Accessible.Heading
                Accessible.name: text
            }
            Rectangle {
                visible: root.app.chat.settings.completionMode
                implicitWidth: modeLabel.implicitWidth + 16
                implicitHeight: 24
                radius: 12
                color: "transparent"
                border.color: root.dividerColor
                Label {
                    id: modeLabel
                    anchors.centerIn: parent
                    text: qsTr("Completion")
                    font.pixelSize: 12
                    color: root.subtleText
                }
            }
            IconButton {
                iconPath: Icons.sliders
                tip: qsTr("Generation settings")
                onClicked: settingsDrawer.open()
            }
        }
        Rectangle { Layout.fillWidth: true; implicitHeight: 1; color: root.dividerColor }

        Banner {
            Layout.fillWidth: true
            Layout.margins: 12
            Layout.bottomMargin: 0
            text: root.app.startupError.length > 0 ? root.app.startupError : root.app.chat.errorMessage
            onDismissed: root.app.chat.dismissError()
        }
        Banner {
            Layout.fillWidth: true
            Layout.margins: 12
            Layout.bottomMargin: 0
            error: false
            property bool shown: root.app.interruptedReplies > 0
            text: shown ? qsTr("%n reply(s) were cut off when the app last stopped; they are kept and marked interrupted.", "", root.app.interruptedReplies) : ""
            onDismissed: shown = false
        }

        // ---- Messages ------------------------------------------------------------------
        ListView {
            id: messageList
            objectName: "messageList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: root.app.chat.messages
            reuseItems: true
            cacheBuffer: 1200
            spacing: 4
            topMargin: 16
            bottomMargin: 16
            boundsBehavior: Flickable.StopAtBounds
            Accessible.name: qsTr("Messages")
            ScrollBar.vertical: ScrollBar { policy: ScrollBar.AsNeeded }

            // Stay pinned to the bottom while a reply streams, unless the user scrolled up.
            property bool follow: true
            onMovementEnded: follow = atYEnd
            onContentHeightChanged: if (follow) Qt.callLater(positionViewAtEnd)
            onCountChanged: { follow = true; Qt.callLater(positionViewAtEnd) }

            delegate: MessageDelegate {
                width: ListView.view.width
                contentWidth: root.contentWidth
                app: root.app
                subtleText: root.subtleText
                dividerColor: root.dividerColor
                lastRow: index === ListView.view.count - 1
            }
        }

        ProgressBar {
            Layout.fillWidth: true
            visible: root.app.chat.prefillProgress >= 0
            value: root.app.chat.prefillProgress
            Accessible.name: qsTr("Reading the conversation")
        }
        // Why the conversation is read again instead of resumed from its saved state.
        Label {
            Layout.fillWidth: true
            Layout.leftMargin: 16
            Layout.rightMargin: 16
            visible: root.app.chat.resumeNotice.length > 0 && root.app.chat.generating
            text: root.app.chat.resumeNotice
            wrapMode: Text.Wrap
            font.pixelSize: 12
            color: root.subtleText
            Accessible.name: text
        }

        Composer {
            id: composer
            Layout.alignment: Qt.AlignHCenter
            Layout.preferredWidth: root.contentWidth
            Layout.maximumWidth: root.contentWidth
            Layout.bottomMargin: 16
            Layout.topMargin: 4
            app: root.app
            subtleText: root.subtleText
            dividerColor: root.dividerColor
            onOpenModels: root.openModels()
        }
    }

    ColumnLayout {
        anchors.centerIn: parent
        anchors.verticalCenterOffset: -60
        visible: messageList.count === 0
        spacing: 12
        width: Math.min(parent.width - 64, 460)
        Rectangle {
            Layout.alignment: Qt.AlignHCenter
            implicitWidth: 56
            implicitHeight: 56
            radius: 16
            gradient: Gradient {
                GradientStop { position: 0; color: "#5b7cfa" }
                GradientStop { position: 1; color: "#8b5cf6" }
            }
            Label {
                anchors.centerIn: parent
                text: "FM"
                color: "white"
                font.pixelSize: 20
                font.bold: true
            }
        }
        Label {
            Layout.alignment: Qt.AlignHCenter
            text: root.app.models.loaded ? qsTr("How can I help?") : qsTr("Welcome to Falcon Mamba Chat")
            font.pixelSize: 22
            font.weight: Font.DemiBold
        }
        Label {
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.Wrap
            color: root.subtleText
            text: root.app.models.loaded
                  ? qsTr("Chatting with %1 on %2. Everything stays on this computer, and memory stays flat however long the conversation gets.")
                    .arg(root.app.models.modelName).arg(root.app.models.backendName)
                  : qsTr("Private, local chat with Falcon Mamba. Choose a checkpoint to begin.")
        }
        Button {
            Layout.alignment: Qt.AlignHCenter
            visible: !root.app.models.loaded
            text: root.app.models.loading ? qsTr("Loading…") : qsTr("Choose a model")
            highlighted: true
            Accessible.name: text
            onClicked: root.openModels()
        }
    }

    Drawer {
        id: settingsDrawer
        objectName: "settingsDrawer"
        edge: Qt.RightEdge
        width: 360
        height: root.Window.window ? root.Window.window.height : root.height
        SettingsPanel {
            anchors.fill: parent
            settings: root.app.chat.settings
            subtleText: root.subtleText
            onCloseRequested: settingsDrawer.close()
        }
    }
}
