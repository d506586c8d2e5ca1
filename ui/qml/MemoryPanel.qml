import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import QtQuick.Layouts
import FalconMamba.App

// Live memory figures and the memory-vs-tokens chart. Falcon Mamba keeps a fixed-size
// recurrent state instead of a growing KV cache: the line stays flat.
Rectangle {
    id: root
    required property AppController app
    property color subtleText
    property color dividerColor
    readonly property MemoryMonitor memory: app.memory
    readonly property bool hasModel: app.models.loaded
    function bytes(value) { return hasModel ? memory.formatBytes(value) : "—" }

    component Figure: RowLayout {
        property string label
        property string value
        property color swatch: "transparent"
        Layout.fillWidth: true
        spacing: 8
        Accessible.role: Accessible.StaticText
        Accessible.name: label + ": " + value
        Rectangle { implicitWidth: 8; implicitHeight: 8; radius: 2; color: parent.swatch }
        Label { Layout.fillWidth: true; text: parent.label; color: root.subtleText; elide: Text.ElideRight }
        Label { text: parent.value; font.family: "monospace"; font.pixelSize: 13 }
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 16
        spacing: 10

        Label { text: qsTr("Memory"); font.pixelSize: 16; font.weight: Font.DemiBold }
        Label {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            font.pixelSize: 12
            color: root.subtleText
            // What is flat and what is not: the model's memory (purple) has a fixed size; the
            // process line (blue) also holds the conversations' text and the window, which
            // grow a little with what is open (bench_ui_memory measures it).
            text: qsTr("The model keeps a fixed-size recurrent state instead of a growing KV cache, so its memory (purple) stays flat however long the chat gets. The whole process (blue) also holds the open chats and the window, and may grow a little with them.")
        }

        MemoryChart {
            Layout.fillWidth: true
            Layout.preferredHeight: 170
            history: root.memory.history
            subtleText: root.subtleText
            dividerColor: root.dividerColor
            accent: root.Material.accent
        }

        Rectangle { Layout.fillWidth: true; implicitHeight: 1; color: root.dividerColor }

        Figure { label: qsTr("Weights"); value: root.bytes(root.memory.weightBytes) }
        Figure { label: qsTr("Recurrent state"); value: root.bytes(root.memory.stateBytes) }
        Figure { label: qsTr("Workspace"); value: root.bytes(root.memory.workspaceBytes) }
        Figure {
            label: qsTr("Model total")
            swatch: "#a78bfa"
            value: root.bytes(root.memory.weightBytes + root.memory.stateBytes + root.memory.workspaceBytes)
        }
        Figure {
            visible: root.memory.deviceTotalBytes > 0
            label: qsTr("Device memory used")
            value: root.memory.formatBytes(root.memory.deviceTotalBytes - root.memory.deviceFreeBytes) + " / "
                   + root.memory.formatBytes(root.memory.deviceTotalBytes)
        }
        Figure { label: qsTr("Process (RSS)"); swatch: root.Material.accent; value: root.memory.formatBytes(root.memory.residentBytes) }

        Rectangle { Layout.fillWidth: true; implicitHeight: 1; color: root.dividerColor }

        // The model reads and writes tokens in one session per opened chat: the count starts
        // at 0 when a chat is opened (a resumed chat does not read its history again).
        Figure { label: qsTr("Tokens since opened"); value: Number(root.memory.tokensProcessed).toLocaleString(Qt.locale(), "f", 0) }
        Figure { label: qsTr("Speed"); value: root.memory.tokensPerSecond > 0 ? qsTr("%1 tok/s").arg(root.memory.tokensPerSecond.toFixed(1)) : "—" }

        Rectangle { Layout.fillWidth: true; implicitHeight: 1; color: root.dividerColor }

        // Instant resume: each recent chat keeps its state on disk, so reopening it does not
        // read the history again. What that costs, and how many chats keep one.
        Figure {
            label: qsTr("Saved chat states")
            value: root.memory.formatBytes(root.app.snapshots.diskUsageBytes)
            Accessible.name: qsTr("Saved chat states: %1").arg(root.app.snapshots.diskUsageText)
        }
        RowLayout {
            Layout.fillWidth: true
            spacing: 8
            Label {
                Layout.fillWidth: true
                Layout.leftMargin: 16  // under the figures' labels, past their swatch
                text: qsTr("Recent chats kept")
                color: root.subtleText
                elide: Text.ElideRight
            }
            SpinBox {
                Layout.preferredWidth: 112
                from: 0; to: 1000
                editable: true
                value: root.app.snapshots.retentionConversations
                Accessible.name: qsTr("Keep saved states for this many recent chats (0: none)")
                ToolTip.visible: hovered
                ToolTip.text: qsTr("The most recent chats keep their state on disk and reopen without reading their history again. 0 keeps none.")
                onValueModified: root.app.snapshots.retentionConversations = value
            }
        }

        Item { Layout.fillHeight: true }
    }
}
