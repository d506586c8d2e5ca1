import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import QtQuick.Layouts
import FalconMamba.App
import FalconMamba.Ui.Controls

// The conversation on screen: header, messages (streaming in), composer.
Item {
    id: root
    required property AppController app
    property color subtleText
    property color dividerColor
    property real textScale: 1
    signal openModels()

    readonly property int contentWidth: Math.min(width - 48, 820)

    function focusComposer() { composer.focusInput() }
    function openSettings() { settingsDrawer.open() }
    function focusMessages() { messageList.forceActiveFocus() }
    // Opens the chat at the first message matching a search (selected and highlighted), with
    // the keyboard in the messages so that Up/Down go on from there.
    function jumpToText(query) {
        const row = root.app.chat.messages.firstRowMatching(query)
        if (row < 0) {
            focusComposer()
            return
        }
        messageList.follow = false
        messageList.highlightedRow = row
        messageList.forceActiveFocus()
        messageList.currentIndex = row
        // After the view has laid out the conversation that was just loaded.
        jumpTimer.row = row
        jumpTimer.restart()
    }
    Timer {
        id: jumpTimer
        property int row: -1
        interval: 50
        onTriggered: {
            messageList.follow = false
            messageList.currentIndex = row
            messageList.positionViewAtIndex(row, ListView.Center)
            highlightTimer.restart()
        }
    }
    Timer {
        id: highlightTimer
        interval: 2500
        onTriggered: messageList.highlightedRow = -1
    }

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
                text: root.app.conversations.currentTitle.length > 0 ? root.app.conversations.currentTitle : qsTr("New chat")
                font.pixelSize: 16
                font.weight: Font.DemiBold
                elide: Text.ElideRight
                Accessible.role: Accessible.Heading
                Accessible.name: text
            }
            Rectangle {
                visible: root.app.chatSettings.completionMode
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
                tip: qsTr("Generation settings (Ctrl+,)")
                onClicked: settingsDrawer.open()
            }
        }
        Rectangle { Layout.fillWidth: true; implicitHeight: 1; color: root.dividerColor }

        Banner {
            Layout.fillWidth: true
            Layout.margins: 12
            Layout.bottomMargin: 0
            text: root.app.errors.message  // start-up storage errors included (AppController)
            onDismissed: root.app.errors.dismiss()
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
            Accessible.role: Accessible.List
            ScrollBar.vertical: ScrollBar { policy: ScrollBar.AsNeeded }
            // A region of the Tab cycle: Up/Down select a message, Ctrl+C copies it, E edits
            // it, Alt+Left/Right switch its version; Page Up/Down and Home/End scroll.
            activeFocusOnTab: true
            keyNavigationEnabled: true
            highlightFollowsCurrentItem: false
            // Focus arriving selects the message in sight (the last one when at the bottom).
            onActiveFocusChanged: {
                if (!activeFocus) return
                const inSight = indexAt(width / 2, contentY + height / 2)
                currentIndex = atYEnd || inSight < 0 ? count - 1 : inSight
            }
            Keys.onPressed: event => {
                if (event.key === Qt.Key_PageDown || event.key === Qt.Key_PageUp) {
                    const step = (event.key === Qt.Key_PageDown ? 1 : -1) * height * 0.9
                    contentY = Math.max(originY - topMargin, Math.min(contentY + step, originY + contentHeight - height + bottomMargin))
                    follow = atYEnd
                    event.accepted = true
                } else if (event.key === Qt.Key_Home) {
                    currentIndex = 0; positionViewAtBeginning(); follow = false; event.accepted = true
                } else if (event.key === Qt.Key_End) {
                    currentIndex = count - 1; positionViewAtEnd(); follow = true; event.accepted = true
                } else if (currentItem && event.matches(StandardKey.Copy)) {
                    root.app.chat.copyMessage(currentItem.messageId); event.accepted = true
                } else if (currentItem && event.key === Qt.Key_E && event.modifiers === Qt.NoModifier) {
                    currentItem.startEditing(); event.accepted = true
                } else if (currentItem && (event.modifiers & Qt.AltModifier)
                           && (event.key === Qt.Key_Left || event.key === Qt.Key_Right)) {
                    root.app.chat.showSibling(currentIndex, event.key === Qt.Key_Left ? -1 : 1); event.accepted = true
                }
            }
            FocusRing {
                parent: messageList
                outset: 0
                shown: messageList.activeFocus
            }

            // Stay pinned to the bottom while a reply streams, unless the user scrolled up.
            property bool follow: true
            property int highlightedRow: -1  // a search hit, briefly
            onMovementEnded: follow = atYEnd
            onContentHeightChanged: if (follow) Qt.callLater(positionViewAtEnd)
            onCountChanged: {
                if (jumpTimer.running) return  // opening at a search hit, not at the end
                follow = true
                Qt.callLater(positionViewAtEnd)
            }

            delegate: MessageDelegate {
                width: ListView.view.width
                contentWidth: root.contentWidth
                app: root.app
                subtleText: root.subtleText
                dividerColor: root.dividerColor
                lastRow: index === ListView.view.count - 1
                textScale: root.textScale
                selected: ListView.isCurrentItem && ListView.view.activeFocus
                searchHit: index === ListView.view.highlightedRow
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
            textScale: root.textScale
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
            settings: root.app.chatSettings
            subtleText: root.subtleText
            onCloseRequested: settingsDrawer.close()
        }
    }
}
