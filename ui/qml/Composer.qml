import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import QtQuick.Layouts
import FalconMamba.App
import FalconMamba.Ui.Controls

// Where the user types. Enter sends, Shift+Enter breaks the line; while a reply streams the
// send button becomes a stop button (Esc does the same). Disabled, with the reason, while
// no model is loaded.
ColumnLayout {
    id: root
    required property AppController app
    property color subtleText
    property color dividerColor
    property real textScale: 1
    signal openModels()

    readonly property bool dark: Material.theme === Material.Dark
    readonly property bool modelReady: app.models.loaded

    function focusInput() { input.forceActiveFocus() }
    function submit() {
        if (!root.app.chat.canSend || input.text.trim().length === 0)
            return
        if (root.app.chat.send(input.text))
            input.clear()
    }

    spacing: 6

    Rectangle {
        Layout.fillWidth: true
        implicitHeight: Math.min(Math.max(input.implicitHeight, 24), 220) + 20
        radius: 16
        color: root.dark ? "#24262d" : "#f4f5f7"
        border.color: input.activeFocus ? root.Material.accent : root.dividerColor
        border.width: input.activeFocus ? 1.5 : 1
        opacity: root.modelReady ? 1 : 0.7

        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: 14
            anchors.rightMargin: 8
            anchors.topMargin: 6
            anchors.bottomMargin: 6
            spacing: 8

            ScrollView {
                id: scroll
                Layout.fillWidth: true
                Layout.fillHeight: true
                Layout.alignment: Qt.AlignVCenter
                ScrollBar.horizontal.policy: ScrollBar.AlwaysOff

                TextArea {
                    id: input
                    objectName: "composerInput"
                    enabled: root.modelReady
                    wrapMode: TextEdit.Wrap
                    selectByMouse: true
                    placeholderText: root.modelReady
                                     ? (root.app.chatSettings.completionMode ? qsTr("Text to continue…") : qsTr("Message Falcon Mamba…"))
                                     : root.app.chat.composerDisabledReason
                    background: null
                    topPadding: 8
                    bottomPadding: 8
                    leftPadding: 0
                    rightPadding: 0
                    font.pixelSize: Math.round(15 * root.textScale)
                    Accessible.name: qsTr("Message")
                    Accessible.description: root.modelReady ? qsTr("Enter sends, Shift+Enter starts a new line")
                                                            : root.app.chat.composerDisabledReason
                    Keys.onPressed: event => {
                        // Tab leaves the message box (a text area would insert a tab and
                        // trap the keyboard); the next region gets the focus.
                        if (event.key === Qt.Key_Tab || event.key === Qt.Key_Backtab) {
                            event.accepted = true
                            const forward = event.key === Qt.Key_Tab && !(event.modifiers & Qt.ShiftModifier)
                            const next = input.nextItemInFocusChain(forward)
                            if (next)
                                next.forceActiveFocus(forward ? Qt.TabFocusReason : Qt.BacktabFocusReason)
                            return
                        }
                        if ((event.key === Qt.Key_Return || event.key === Qt.Key_Enter)
                                && !(event.modifiers & Qt.ShiftModifier)) {
                            event.accepted = true
                            root.submit()
                        }
                    }
                }
            }

            RoundButton {
                id: actionButton
                Layout.alignment: Qt.AlignBottom
                Layout.bottomMargin: 2
                implicitWidth: 38
                implicitHeight: 38
                padding: 0
                flat: false
                highlighted: true
                enabled: root.app.chat.generating || (root.app.chat.canSend && input.text.trim().length > 0)
                Material.elevation: 0
                Accessible.name: root.app.chat.generating ? qsTr("Stop generating") : qsTr("Send message")
                ToolTip.visible: hovered
                ToolTip.delay: 600
                ToolTip.text: root.app.chat.generating ? qsTr("Stop (Esc)") : qsTr("Send (Enter)")
                onClicked: root.app.chat.generating ? root.app.chat.stop() : root.submit()
                contentItem: Item {
                    Icon {
                        anchors.centerIn: parent
                        path: root.app.chat.generating ? Icons.stop : Icons.send
                        size: 18
                        color: actionButton.enabled ? "white" : root.subtleText
                    }
                }
            }
        }
    }

    RowLayout {
        Layout.fillWidth: true
        Layout.leftMargin: 6
        Layout.rightMargin: 6
        Label {
            Layout.fillWidth: true
            font.pixelSize: 12
            color: root.subtleText
            elide: Text.ElideRight
            text: root.modelReady
                  ? qsTr("%1 · Enter to send · Shift+Enter for a new line").arg(root.app.models.modelName)
                  : root.app.chat.composerDisabledReason
        }
        Button {
            visible: !root.modelReady && !root.app.models.loading
            flat: true
            text: qsTr("Choose a model")
            font.pixelSize: 12
            implicitHeight: 28
            Accessible.name: text
            onClicked: root.openModels()
        }
    }
}
