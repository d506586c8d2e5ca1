import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import QtQuick.Dialogs
import QtQuick.Layouts
import FalconMamba.App
import FalconMamba.Ui.Controls

// Choosing and loading a checkpoint: a folder (checked before loading), recently used ones,
// and Falcon Mamba snapshots from the Hugging Face cache; the backend and weight format.
Item {
    id: root
    required property AppController app
    property color subtleText
    property color dividerColor
    signal done()

    readonly property bool dark: Material.theme === Material.Dark
    readonly property color cardColor: dark ? "#202127" : "#fafbfc"
    property var check: ({ ok: false, message: "" })

    function recheck() { check = root.app.models.checkFolder(pathField.text) }

    Component.onCompleted: root.app.models.refreshHubModels()

    FolderDialog {
        id: folderDialog
        title: qsTr("Choose a checkpoint folder")
        onAccepted: {
            pathField.text = decodeURIComponent(selectedFolder.toString().replace(/^file:\/\//, ""))
            root.recheck()
        }
    }

    ScrollView {
        anchors.fill: parent
        contentWidth: availableWidth

        ColumnLayout {
            width: Math.min(root.width - 64, 760)
            x: (root.width - width) / 2
            spacing: 16

            Item { implicitHeight: 12 }
            RowLayout {
                Layout.fillWidth: true
                Label {
                    Layout.fillWidth: true
                    text: qsTr("Models")
                    font.pixelSize: 24
                    font.weight: Font.DemiBold
                    Accessible.role: Accessible.Heading
                    Accessible.name: text
                }
                Button {
                    visible: root.app.models.loaded
                    text: qsTr("Back to chat")
                    flat: true
                    Accessible.name: text
                    onClicked: root.done()
                }
            }

            // ---- What is loaded ----------------------------------------------------------
            Rectangle {
                Layout.fillWidth: true
                implicitHeight: current.implicitHeight + 32
                radius: 12
                color: root.cardColor
                border.color: root.dividerColor

                ColumnLayout {
                    id: current
                    anchors.fill: parent
                    anchors.margins: 16
                    spacing: 8
                    RowLayout {
                        Layout.fillWidth: true
                        spacing: 12
                        Icon { path: Icons.box; size: 22; color: root.Material.accent }
                        ColumnLayout {
                            Layout.fillWidth: true
                            spacing: 2
                            Label {
                                Layout.fillWidth: true
                                elide: Text.ElideMiddle
                                font.pixelSize: 16
                                font.weight: Font.DemiBold
                                text: root.app.models.loaded ? root.app.models.modelName
                                    : root.app.models.loading ? qsTr("Loading %1").arg(root.app.models.loadingPath)
                                    : qsTr("No model loaded")
                            }
                            Label {
                                Layout.fillWidth: true
                                elide: Text.ElideMiddle
                                color: root.subtleText
                                text: root.app.models.loaded
                                      ? root.app.models.backendName + " · " + (root.app.models.quantizedModel ? qsTr("4-bit weights") : qsTr("bf16 weights"))
                                        + " · " + (root.app.models.checkpointIsChat ? qsTr("chat template") : qsTr("plain completion"))
                                      : root.app.models.loading ? qsTr("%1%").arg(Math.round(root.app.models.progress * 100))
                                      : qsTr("Pick a checkpoint folder below.")
                            }
                        }
                        Button {
                            visible: root.app.models.loading
                            text: qsTr("Cancel")
                            Accessible.name: qsTr("Cancel loading")
                            onClicked: root.app.models.cancelLoad()
                        }
                        Button {
                            visible: root.app.models.loaded
                            text: qsTr("Unload")
                            flat: true
                            Accessible.name: qsTr("Unload model")
                            onClicked: root.app.models.unload()
                        }
                    }
                    ProgressBar {
                        Layout.fillWidth: true
                        visible: root.app.models.loading
                        value: root.app.models.progress
                        Accessible.name: qsTr("Loading progress")
                    }
                    Label {
                        Layout.fillWidth: true
                        visible: root.app.models.loaded && root.app.models.fallbackReason.length > 0
                        wrapMode: Text.Wrap
                        color: "#f59e0b"
                        text: qsTr("Running on the CPU: %1").arg(root.app.models.fallbackReason)
                    }
                    Label {
                        Layout.fillWidth: true
                        visible: root.app.models.loaded
                        elide: Text.ElideMiddle
                        font.pixelSize: 12
                        color: root.subtleText
                        text: root.app.models.modelPath
                    }
                }
            }

            Banner {
                Layout.fillWidth: true
                text: root.app.models.errorMessage
                onDismissed: root.app.models.dismissError()
            }

            // ---- Load a checkpoint -------------------------------------------------------
            Label { text: qsTr("Load a checkpoint"); font.pixelSize: 16; font.weight: Font.DemiBold }
            Rectangle {
                Layout.fillWidth: true
                implicitHeight: loadForm.implicitHeight + 32
                radius: 12
                color: root.cardColor
                border.color: root.dividerColor

                ColumnLayout {
                    id: loadForm
                    anchors.fill: parent
                    anchors.margins: 16
                    spacing: 10

                    RowLayout {
                        Layout.fillWidth: true
                        spacing: 8
                        TextField {
                            id: pathField
                            Layout.fillWidth: true
                            // Not its placeholder's width: the page must fit narrow windows.
                            Layout.preferredWidth: 120
                            Layout.minimumWidth: 60
                            placeholderText: qsTr("Checkpoint folder (config.json, *.safetensors, tokenizer)")
                            selectByMouse: true
                            Accessible.name: qsTr("Checkpoint folder")
                            onTextChanged: checkDebounce.restart()
                            onAccepted: if (root.check.ok) root.app.models.load(text)
                            Timer { id: checkDebounce; interval: 250; onTriggered: root.recheck() }
                        }
                        Button {
                            text: qsTr("Browse…")
                            Accessible.name: qsTr("Browse for a checkpoint folder")
                            onClicked: folderDialog.open()
                        }
                    }
                    Label {
                        Layout.fillWidth: true
                        visible: pathField.text.length > 0 && root.check.message.length > 0
                        wrapMode: Text.Wrap
                        font.pixelSize: 13
                        color: root.check.ok ? "#16a34a" : "#ef4444"
                        text: (root.check.ok ? "✓ " : "✗ ") + root.check.message
                        Accessible.name: text
                    }

                    GridLayout {
                        Layout.fillWidth: true
                        columns: 2
                        columnSpacing: 16
                        rowSpacing: 4
                        Label { text: qsTr("Backend"); color: root.subtleText }
                        // Flows onto a second line in a narrow window instead of overflowing it.
                        Flow {
                            Layout.fillWidth: true
                            Layout.preferredWidth: 0
                            spacing: 0
                            RadioButton {
                                text: qsTr("Automatic")
                                checked: root.app.models.backend === "auto"
                                Accessible.name: qsTr("Automatic backend")
                                onClicked: root.app.models.backend = "auto"
                            }
                            RadioButton {
                                text: qsTr("CUDA")
                                enabled: root.app.models.cudaAvailable
                                checked: root.app.models.backend === "cuda"
                                Accessible.name: qsTr("CUDA backend")
                                onClicked: root.app.models.backend = "cuda"
                            }
                            RadioButton {
                                text: qsTr("CPU")
                                checked: root.app.models.backend === "cpu"
                                Accessible.name: qsTr("CPU backend")
                                onClicked: root.app.models.backend = "cpu"
                            }
                        }
                        Item { implicitWidth: 1; visible: cudaNote.visible }
                        Label {
                            id: cudaNote
                            Layout.fillWidth: true
                            Layout.preferredWidth: 0
                            wrapMode: Text.Wrap
                            font.pixelSize: 12
                            color: root.subtleText
                            text: root.app.models.cudaAvailable ? qsTr("CUDA device: %1").arg(root.app.models.cudaDevice)
                                                                : qsTr("CUDA is unavailable: %1").arg(root.app.models.cudaReason)
                        }
                        Label { text: qsTr("Weights"); color: root.subtleText }
                        Flow {
                            Layout.fillWidth: true
                            Layout.preferredWidth: 0
                            spacing: 0
                            RadioButton {
                                text: qsTr("bf16 (as stored)")
                                checked: !root.app.models.quantize4bit
                                Accessible.name: qsTr("Full-precision weights")
                                onClicked: root.app.models.quantize4bit = false
                            }
                            RadioButton {
                                text: qsTr("4-bit (quantize on load)")
                                checked: root.app.models.quantize4bit
                                Accessible.name: qsTr("4-bit weights")
                                onClicked: root.app.models.quantize4bit = true
                            }
                        }
                        Label { text: qsTr("CPU threads"); color: root.subtleText }
                        SpinBox {
                            id: threadsBox
                            from: 0
                            to: 256
                            value: root.app.models.cpuThreads
                            // 0 is "one per physical core": hyper-threads share a core's memory
                            // bandwidth and FMA units, so more threads than cores rarely help.
                            textFromValue: function (v) {
                                return v === 0 ? qsTr("Auto (%1)").arg(root.app.models.defaultCpuThreads) : String(v)
                            }
                            Accessible.name: qsTr("CPU threads for the next load")
                            ToolTip.visible: hovered
                            ToolTip.text: qsTr("Used when the model runs on the CPU; takes effect at the next load")
                            onValueModified: root.app.models.cpuThreads = value
                        }
                    }
                    Button {
                        Layout.alignment: Qt.AlignRight
                        text: qsTr("Load model")
                        highlighted: true
                        enabled: root.check.ok && !root.app.models.loading
                        Accessible.name: text
                        onClicked: root.app.models.load(pathField.text)
                    }
                }
            }

            // ---- Recent and cached checkpoints -------------------------------------------
            Label {
                visible: root.app.models.recentModels.count > 0
                text: qsTr("Recently used")
                font.pixelSize: 16
                font.weight: Font.DemiBold
            }
            Repeater {
                model: root.app.models.recentModels
                delegate: CheckpointRow {
                    onLoad: root.app.models.load(path)
                    removable: true
                    onRemove: root.app.models.forgetRecent(path)
                }
            }

            RowLayout {
                Layout.fillWidth: true
                Label {
                    Layout.fillWidth: true
                    text: qsTr("Hugging Face cache")
                    font.pixelSize: 16
                    font.weight: Font.DemiBold
                }
                BusyIndicator { running: root.app.models.scanning; visible: running; implicitWidth: 24; implicitHeight: 24 }
                IconButton {
                    iconPath: Icons.refresh
                    tip: qsTr("Scan the Hugging Face cache again")
                    onClicked: root.app.models.refreshHubModels()
                }
            }
            Label {
                Layout.fillWidth: true
                visible: root.app.models.hubModels.count === 0
                wrapMode: Text.Wrap
                color: root.subtleText
                text: qsTr("No Falcon Mamba checkpoints in %1. Download one with `huggingface-cli download tiiuae/falcon-mamba-7b-instruct`.")
                      .arg(root.app.models.hubCachePath)
            }
            Repeater {
                model: root.app.models.hubModels
                delegate: CheckpointRow { onLoad: root.app.models.load(path) }
            }
            GetModelsView {
                Layout.fillWidth: true
                subtleText: root.subtleText
                dividerColor: root.dividerColor
                cardColor: root.cardColor
                cachePath: root.app.models.hubCachePath
                onDownloaded: root.app.models.refreshHubModels()
                onLoadRequested: (path) => root.app.models.load(path)
            }
            Item { implicitHeight: 24 }
        }
    }

    component CheckpointRow: Rectangle {
        id: row
        required property string path
        required property string name
        required property string modelType
        property bool removable: false
        signal load()
        signal remove()

        Layout.fillWidth: true
        implicitHeight: 56
        radius: 10
        color: rowHover.hovered ? (root.dark ? "#262830" : "#f1f3f6") : "transparent"
        border.color: root.dividerColor
        Accessible.role: Accessible.ListItem
        Accessible.name: name
        HoverHandler { id: rowHover }

        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: 14
            anchors.rightMargin: 8
            spacing: 10
            Icon { path: Icons.folder; size: 18; color: root.subtleText }
            ColumnLayout {
                Layout.fillWidth: true
                spacing: 0
                Label { Layout.fillWidth: true; text: row.name; elide: Text.ElideRight; font.weight: Font.DemiBold }
                Label {
                    Layout.fillWidth: true
                    text: row.modelType === "missing" ? qsTr("Missing: %1").arg(row.path) : row.path
                    elide: Text.ElideMiddle
                    font.pixelSize: 12
                    color: row.modelType === "missing" ? "#ef4444" : root.subtleText
                }
            }
            Button {
                text: qsTr("Load")
                flat: true
                enabled: !root.app.models.loading && row.modelType !== "missing"
                Accessible.name: qsTr("Load %1").arg(row.name)
                onClicked: row.load()
            }
            IconButton {
                visible: row.removable
                iconPath: Icons.close
                iconSize: 14
                tip: qsTr("Remove from the list")
                onClicked: row.remove()
            }
        }
    }
}
