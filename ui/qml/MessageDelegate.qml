import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import QtQuick.Layouts
import FalconMamba.App
import "Icons.js" as Icons

// One message: the user's on the right in a tinted bubble, the model's on the left as
// Markdown with boxed code blocks. Actions (copy, edit, regenerate, branch) show on hover.
// Reused by the ListView: everything comes from required properties, nothing is cached.
Item {
    id: root
    required property int index
    required property var messageId
    required property string role
    required property string content
    required property string status
    required property int siblingIndex
    required property int siblingCount
    required property bool isStreaming
    required property int completionTokens
    required property AppController app
    property int contentWidth: 760
    property color subtleText
    property color dividerColor
    property bool lastRow: false

    readonly property bool isUser: role === "user"
    readonly property bool dark: Material.theme === Material.Dark
    property bool editing: false

    implicitHeight: column.implicitHeight + 12
    ListView.onReused: editing = false

    HoverHandler { id: hover }

    // The natural width of the user's text (longest line), for the bubble.
    Text {
        id: measure
        visible: false
        text: root.isUser ? root.content : ""
        textFormat: Text.PlainText
        font.pixelSize: 15
    }

    ColumnLayout {
        id: column
        width: root.contentWidth
        anchors.horizontalCenter: parent.horizontalCenter
        spacing: 4

        RowLayout {
            Layout.fillWidth: true
            spacing: 12
            layoutDirection: root.isUser ? Qt.RightToLeft : Qt.LeftToRight

            Rectangle {
                visible: !root.isUser
                Layout.alignment: Qt.AlignTop
                Layout.topMargin: 2
                implicitWidth: 28
                implicitHeight: 28
                radius: 14
                gradient: Gradient {
                    GradientStop { position: 0; color: "#5b7cfa" }
                    GradientStop { position: 1; color: "#8b5cf6" }
                }
                Label {
                    anchors.centerIn: parent
                    text: "FM"
                    color: "white"
                    font.pixelSize: 10
                    font.bold: true
                }
            }

            // The message body (or the editor while editing).
            Rectangle {
                id: bubble
                Layout.maximumWidth: root.isUser ? root.contentWidth * 0.8 : root.contentWidth - 40
                // The model's replies take the column; the user's bubble hugs its text.
                Layout.preferredWidth: root.editing || !root.isUser ? Layout.maximumWidth
                                                                    : Math.min(Layout.maximumWidth, measure.implicitWidth + 30)
                implicitHeight: (root.editing ? editor.implicitHeight : body.implicitHeight) + (root.isUser ? 20 : 4)
                radius: 14
                color: root.isUser ? (root.dark ? "#2b3350" : "#eef2ff") : "transparent"

                ColumnLayout {
                    id: body
                    visible: !root.editing
                    x: root.isUser ? 14 : 0
                    y: root.isUser ? 10 : 2
                    width: bubble.width - (root.isUser ? 28 : 0)
                    spacing: 8

                    Repeater {
                        model: root.app.chat.messageBlocks(root.content)
                        delegate: Loader {
                            required property var modelData
                            Layout.fillWidth: true
                            Layout.maximumWidth: body.width
                            sourceComponent: modelData.code ? codeComponent : proseComponent
                            property var block: modelData
                        }
                    }
                    // Thinking dots before the first token arrives.
                    Label {
                        visible: root.isStreaming && root.content.length === 0
                        text: "●  ●  ●"
                        color: root.subtleText
                        font.pixelSize: 10
                        SequentialAnimation on opacity {
                            running: root.isStreaming && root.content.length === 0
                            loops: Animation.Infinite
                            NumberAnimation { from: 0.3; to: 1; duration: 500 }
                            NumberAnimation { from: 1; to: 0.3; duration: 500 }
                        }
                    }
                }

                ColumnLayout {
                    id: editor
                    visible: root.editing
                    x: 10
                    y: 10
                    width: bubble.width - 20
                    spacing: 8
                    TextArea {
                        id: editArea
                        Layout.fillWidth: true
                        wrapMode: TextEdit.Wrap
                        selectByMouse: true
                        Accessible.name: qsTr("Edit message")
                        Keys.onEscapePressed: root.editing = false
                    }
                    RowLayout {
                        Layout.alignment: Qt.AlignRight
                        Button {
                            text: qsTr("Cancel")
                            flat: true
                            Accessible.name: qsTr("Cancel editing")
                            onClicked: root.editing = false
                        }
                        Button {
                            text: root.isUser ? qsTr("Save and send") : qsTr("Save")
                            highlighted: true
                            enabled: editArea.text.trim().length > 0 && !root.app.chat.generating
                            Accessible.name: text
                            onClicked: {
                                root.editing = false
                                root.app.chat.editMessage(root.messageId, editArea.text)
                            }
                        }
                    }
                }
            }
            Item { Layout.fillWidth: true }
        }

        // ---- Actions and status --------------------------------------------------------
        RowLayout {
            Layout.fillWidth: true
            Layout.leftMargin: root.isUser ? 0 : 40
            layoutDirection: root.isUser ? Qt.RightToLeft : Qt.LeftToRight
            spacing: 0
            opacity: hover.hovered || root.lastRow || root.siblingCount > 1 ? 1 : 0
            Behavior on opacity { NumberAnimation { duration: 120 } }
            visible: !root.editing

            IconButton {
                iconPath: Icons.copy
                iconSize: 15
                implicitWidth: 30
                implicitHeight: 30
                tip: qsTr("Copy message")
                enabled: root.content.length > 0
                onClicked: root.app.chat.copyMessage(root.messageId)
            }
            IconButton {
                visible: !root.isStreaming
                iconPath: Icons.edit
                iconSize: 15
                implicitWidth: 30
                implicitHeight: 30
                tip: root.isUser ? qsTr("Edit and continue from here") : qsTr("Edit reply")
                enabled: !root.app.chat.generating
                onClicked: {
                    editArea.text = root.content
                    root.editing = true
                    editArea.forceActiveFocus()
                }
            }
            IconButton {
                visible: !root.isUser && root.lastRow && !root.isStreaming
                iconPath: Icons.refresh
                iconSize: 15
                implicitWidth: 30
                implicitHeight: 30
                tip: qsTr("Regenerate reply (Ctrl+Shift+R)")
                enabled: root.app.chat.canSend
                onClicked: root.app.chat.regenerate()
            }
            RowLayout {
                visible: root.siblingCount > 1
                spacing: 0
                IconButton {
                    iconPath: Icons.chevronLeft
                    iconSize: 14
                    implicitWidth: 26
                    implicitHeight: 26
                    tip: qsTr("Previous version")
                    enabled: root.siblingIndex > 0 && !root.app.chat.generating
                    onClicked: root.app.chat.showSibling(root.index, -1)
                }
                Label {
                    text: (root.siblingIndex + 1) + " / " + root.siblingCount
                    font.pixelSize: 12
                    color: root.subtleText
                    Accessible.name: qsTr("Version %1 of %2").arg(root.siblingIndex + 1).arg(root.siblingCount)
                }
                IconButton {
                    iconPath: Icons.chevronRight
                    iconSize: 14
                    implicitWidth: 26
                    implicitHeight: 26
                    tip: qsTr("Next version")
                    enabled: root.siblingIndex < root.siblingCount - 1 && !root.app.chat.generating
                    onClicked: root.app.chat.showSibling(root.index, 1)
                }
            }
            Label {
                Layout.leftMargin: 8
                Layout.rightMargin: 8
                visible: text.length > 0
                font.pixelSize: 12
                color: root.status === "error" ? "#ef4444" : root.status === "interrupted" ? "#f59e0b" : root.subtleText
                text: root.isStreaming ? qsTr("Generating…")
                    : root.status === "interrupted" ? qsTr("Interrupted")
                    : root.status === "error" ? qsTr("Failed")
                    : (!root.isUser && root.completionTokens > 0) ? qsTr("%n token(s)", "", root.completionTokens) : ""
            }
        }
    }

    Component {
        id: proseComponent
        TextEdit {
            text: block.text
            textFormat: TextEdit.MarkdownText
            readOnly: true
            selectByMouse: true
            wrapMode: TextEdit.Wrap
            color: root.Material.foreground
            selectionColor: root.Material.accent
            selectedTextColor: "white"
            font.pixelSize: 15
            Accessible.role: Accessible.StaticText
            Accessible.name: block.text
            onLinkActivated: link => Qt.openUrlExternally(link)
            HoverHandler {
                enabled: parent.hoveredLink.length > 0
                cursorShape: Qt.PointingHandCursor
            }
        }
    }
    Component {
        id: codeComponent
        CodeBlock {
            code: block.text
            language: block.language
            app: root.app
            dividerColor: root.dividerColor
            subtleText: root.subtleText
        }
    }
}
