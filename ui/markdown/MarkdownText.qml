import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material

// Selectable Markdown prose. The text comes from ChatController.messageBlocks() with
// raw HTML already escaped, so everything in it is shown as written, nothing interpreted.
TextEdit {
    id: root
    property string markdown
    property real textScale: 1

    text: markdown
    textFormat: TextEdit.MarkdownText
    readOnly: true
    selectByMouse: true
    wrapMode: TextEdit.Wrap
    color: Material.foreground
    selectionColor: Material.accent
    selectedTextColor: "white"
    font.pixelSize: Math.round(15 * textScale)
    Accessible.role: Accessible.StaticText
    Accessible.name: getText(0, length)
    onLinkActivated: link => Qt.openUrlExternally(link)
    HoverHandler {
        enabled: root.hoveredLink.length > 0
        cursorShape: Qt.PointingHandCursor
    }
}
