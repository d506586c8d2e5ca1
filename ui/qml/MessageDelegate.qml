import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import FalconMamba.App
import FalconMamba.Ui.Controls
import FalconMamba.Ui.Markdown

// One message: the user's on the right in a tinted bubble, the model's on the left as
// Markdown blocks (prose, boxed code, quotes, tables). Actions (copy, edit, regenerate,
// branch) show on hover. Reused by the ListView: everything comes from required properties.
//
// Positioners and explicit sizes only, no Qt Quick Layouts: a Layout inside a recycled
// ListView delegate keeps pointers to the Repeater's children in its layout engine until its
// next polish, and a width change in between (a resize, a streamed token that rebuilds the
// blocks) re-arranged it synchronously over deleted items (Qt 6.4: SIGSEGV in
// QQuickLayout::effectiveSizePolicy_helper / qmlAttachedPropertiesObject).
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
    property real textScale: 1
    // The keyboard's current message in the focused list: ringed.
    property bool selected: false
    // The message a search opened the chat at: tinted for a moment.
    property bool searchHit: false

    function startEditing() {
        if (root.isStreaming || root.app.chat.generating)
            return
        editArea.text = root.content
        root.editing = true
        editArea.forceActiveFocus()
    }

    readonly property bool isUser: role === "user"
    readonly property bool dark: Material.theme === Material.Dark
    property bool editing: false
    // One entry per block; the Repeater below only sees the count, so a streamed token that
    // extends the last block updates that block's text instead of rebuilding every block.
    readonly property var blocks: app.chat.messageBlocks(content)
    readonly property int avatarSpace: 40
    readonly property int bubbleMaxWidth: isUser ? Math.round(contentWidth * 0.8) : contentWidth - avatarSpace
    readonly property int bubbleWidth: editing || !isUser ? bubbleMaxWidth
                                                        : Math.min(bubbleMaxWidth, Math.ceil(measure.implicitWidth) + 30)
    readonly property int bubblePadding: isUser ? 14 : 0

    implicitHeight: column.height + 12
    ListView.onReused: editing = false

    HoverHandler { id: hover }
    Rectangle {
        x: column.x - 6
        y: -2
        width: column.width + 12
        height: column.height + 4
        radius: 8
        color: Qt.rgba(1.0, 0.8, 0.2, 0.22)
        opacity: root.searchHit ? 1 : 0
        visible: opacity > 0
        Behavior on opacity { NumberAnimation { duration: 400 } }
    }
    FocusRing {
        anchors.fill: undefined
        x: column.x - 6
        y: -2
        width: column.width + 12
        height: column.height + 4
        shown: root.selected
    }

    // The natural width of the user's text (longest line), for the bubble.
    Text {
        id: measure
        visible: false
        text: root.isUser ? root.content : ""
        textFormat: Text.PlainText
        font.pixelSize: Math.round(15 * root.textScale)
    }

    Column {
        id: column
        width: root.contentWidth
        x: Math.round((root.width - width) / 2)
        spacing: 4

        Item {
            id: messageRow
            width: column.width
            height: Math.max(root.isUser ? 0 : 30, bubble.height)

            Rectangle {
                visible: !root.isUser
                y: 2
                width: 28
                height: 28
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
                x: root.isUser ? messageRow.width - width : root.avatarSpace
                width: root.bubbleWidth
                height: (root.editing ? editor.height + 20 : body.height + (root.isUser ? 20 : 4))
                radius: 14
                color: root.isUser ? (root.dark ? "#2b3350" : "#eef2ff") : "transparent"

                Column {
                    id: body
                    visible: !root.editing
                    x: root.bubblePadding
                    y: root.isUser ? 10 : 2
                    width: bubble.width - 2 * root.bubblePadding
                    spacing: 8

                    Repeater {
                        model: root.editing ? 0 : root.blocks.length
                        delegate: Loader {
                            required property int index
                            readonly property var block: root.blocks[index] ?? ({kind: "prose", text: ""})
                            width: body.width
                            sourceComponent: block.kind === "code" ? codeComponent
                                           : block.kind === "table" ? tableComponent
                                           : block.kind === "quote" ? quoteComponent : proseComponent
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

                Column {
                    id: editor
                    visible: root.editing
                    x: 10
                    y: 10
                    width: bubble.width - 20
                    spacing: 8
                    TextArea {
                        id: editArea
                        width: editor.width
                        wrapMode: TextEdit.Wrap
                        selectByMouse: true
                        font.pixelSize: Math.round(15 * root.textScale)
                        Accessible.name: qsTr("Edit message")
                        Keys.onEscapePressed: root.editing = false
                    }
                    Row {
                        anchors.right: parent.right
                        spacing: 4
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
        }

        // ---- Actions and status --------------------------------------------------------
        Item {
            width: column.width
            height: root.editing ? 0 : actions.height
            visible: !root.editing
            Row {
                id: actions
                x: root.isUser ? parent.width - width : root.avatarSpace
                layoutDirection: root.isUser ? Qt.RightToLeft : Qt.LeftToRight
                spacing: 0
                opacity: hover.hovered || root.lastRow || root.siblingCount > 1 || activeFocusItemInside ? 1 : 0
                readonly property bool activeFocusItemInside: copyButton.activeFocus || editButton.activeFocus
                                                              || regenerateButton.activeFocus
                Behavior on opacity { NumberAnimation { duration: 120 } }

                IconButton {
                    id: copyButton
                    iconPath: Icons.copy
                    iconSize: 15
                    implicitWidth: 30
                    implicitHeight: 30
                    tip: qsTr("Copy message")
                    enabled: root.content.length > 0
                    onClicked: root.app.chat.copyMessage(root.messageId)
                }
                IconButton {
                    id: editButton
                    visible: !root.isStreaming
                    iconPath: Icons.edit
                    iconSize: 15
                    implicitWidth: 30
                    implicitHeight: 30
                    tip: root.isUser ? qsTr("Edit and continue from here") : qsTr("Edit reply")
                    enabled: !root.app.chat.generating
                    onClicked: root.startEditing()
                }
                IconButton {
                    id: regenerateButton
                    visible: !root.isUser && root.lastRow && !root.isStreaming
                    iconPath: Icons.refresh
                    iconSize: 15
                    implicitWidth: 30
                    implicitHeight: 30
                    tip: qsTr("Regenerate reply (Ctrl+Shift+R)")
                    enabled: root.app.chat.canSend
                    onClicked: root.app.chat.regenerate()
                }
                Row {
                    visible: root.siblingCount > 1
                    spacing: 0
                    IconButton {
                        iconPath: Icons.chevronLeft
                        iconSize: 14
                        implicitWidth: 26
                        implicitHeight: 26
                        anchors.verticalCenter: parent.verticalCenter
                        tip: qsTr("Previous version")
                        enabled: root.siblingIndex > 0 && !root.app.chat.generating
                        onClicked: root.app.chat.showSibling(root.index, -1)
                    }
                    Label {
                        anchors.verticalCenter: parent.verticalCenter
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
                        anchors.verticalCenter: parent.verticalCenter
                        tip: qsTr("Next version")
                        enabled: root.siblingIndex < root.siblingCount - 1 && !root.app.chat.generating
                        onClicked: root.app.chat.showSibling(root.index, 1)
                    }
                }
                Label {
                    anchors.verticalCenter: parent.verticalCenter
                    leftPadding: 8
                    rightPadding: 8
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
    }

    Component {
        id: proseComponent
        MarkdownText {
            markdown: parent ? parent.block.text : ""
            textScale: root.textScale
        }
    }
    Component {
        id: quoteComponent
        Item {
            implicitHeight: quoteText.height + 8
            Rectangle {
                width: 3
                height: parent.height
                radius: 1.5
                color: root.Material.accent
            }
            MarkdownText {
                id: quoteText
                x: 14
                y: 4
                width: parent.width - 14
                markdown: parent.parent ? parent.parent.block.text : ""
                textScale: root.textScale
                color: root.subtleText
                Accessible.description: qsTr("Quote")
            }
        }
    }
    Component {
        id: tableComponent
        MarkdownTable {
            rows: parent ? parent.block.rows : []
            alignments: parent ? parent.block.alignments : []
            textScale: root.textScale
            dividerColor: root.dividerColor
        }
    }
    Component {
        id: codeComponent
        CodeBlock {
            code: parent ? parent.block.text : ""
            language: parent ? parent.block.language : ""
            app: root.app
            dividerColor: root.dividerColor
            subtleText: root.subtleText
            textScale: root.textScale
        }
    }
}
