import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material

// A Markdown pipe table: a grid whose columns are as wide as their widest cell (shared out
// when the table is wider than the message), each cell aligned as its column says.
Item {
    id: root
    property var rows: []          // header first; each row a list of cell Markdown
    property var alignments: []    // per column: "left", "center" or "right"
    property real textScale: 1
    property color dividerColor
    readonly property int columnCount: alignments.length
    readonly property int cellPadding: 8
    readonly property var columnWidths: {
        const natural = []
        for (let c = 0; c < columnCount; ++c) {
            let widest = 0
            for (let r = 0; r < rows.length; ++r)
                widest = Math.max(widest, metrics.widthOf(rows[r][c] ?? "", r === 0))
            natural.push(Math.ceil(widest) + 2 * cellPadding)
        }
        const total = natural.reduce((a, b) => a + b, 0)
        if (total <= width || total === 0)
            return natural
        // Too wide: every column gets its share of the width, wrapping its cells.
        return natural.map(w => Math.max(40, Math.floor(w * width / total)))
    }

    implicitHeight: grid.height + 2
    Accessible.role: Accessible.Table
    Accessible.name: qsTr("Table")

    FontMetrics {
        id: regularMetrics
        font.pixelSize: Math.round(15 * root.textScale)
    }
    FontMetrics {
        id: boldMetrics
        font.pixelSize: Math.round(15 * root.textScale)
        font.bold: true
    }
    QtObject {
        id: metrics
        // The longest line of the cell; Markdown markers make it a little wider, never narrower.
        function widthOf(markdown, bold) {
            const fontMetrics = bold ? boldMetrics : regularMetrics
            let widest = 0
            for (const line of markdown.split("\n"))
                widest = Math.max(widest, fontMetrics.advanceWidth(line))
            return widest
        }
    }

    Rectangle {
        width: Math.min(root.width, grid.width) + 1
        height: grid.height + 1
        color: "transparent"
        border.color: root.dividerColor
        radius: 4
    }

    Grid {
        id: grid
        x: 0.5
        y: 0.5
        columns: Math.max(1, root.columnCount)
        Repeater {
            model: root.rows.length * root.columnCount
            delegate: Rectangle {
                required property int index
                readonly property int row: Math.floor(index / root.columnCount)
                readonly property int column: index % root.columnCount
                width: root.columnWidths[column] ?? 0
                height: rowHeight()
                color: row === 0 ? Qt.rgba(0.5, 0.5, 0.5, 0.12) : "transparent"
                border.color: root.dividerColor
                border.width: 0.5
                // Every cell of a row as tall as the row's tallest cell.
                function rowHeight() {
                    let tallest = cell.implicitHeight
                    const cells = grid.children
                    for (let i = 0; i < cells.length; ++i) {
                        const other = cells[i]
                        if (other && other.row === row && other.cellHeight !== undefined)
                            tallest = Math.max(tallest, other.cellHeight)
                    }
                    return tallest + 2 * root.cellPadding
                }
                readonly property real cellHeight: cell.implicitHeight
                MarkdownText {
                    id: cell
                    x: root.cellPadding
                    y: root.cellPadding
                    width: parent.width - 2 * root.cellPadding
                    markdown: root.rows[parent.row]?.[parent.column] ?? ""
                    textScale: root.textScale
                    font.bold: parent.row === 0
                    horizontalAlignment: root.alignments[parent.column] === "right" ? TextEdit.AlignRight
                                       : root.alignments[parent.column] === "center" ? TextEdit.AlignHCenter
                                       : TextEdit.AlignLeft
                }
            }
        }
    }
}
