import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import QtQuick.Layouts
import FalconMamba.App
import FalconMamba.Ui.Controls

// Generation settings of the conversation on screen (over the app-wide defaults).
Pane {
    id: root
    required property ChatSettings settings
    property color subtleText
    signal closeRequested()
    padding: 0

    component SliderRow: ColumnLayout {
        id: sliderRow
        property string label
        property string help
        property real from
        property real to
        property real stepSize
        property int decimals: 2
        property real value
        signal moved(real value)
        Layout.fillWidth: true
        spacing: 0
        RowLayout {
            Layout.fillWidth: true
            Label { Layout.fillWidth: true; text: sliderRow.label }
            Label { text: sliderRow.value.toFixed(sliderRow.decimals); color: root.subtleText; font.family: "monospace" }
        }
        Slider {
            Layout.fillWidth: true
            from: sliderRow.from
            to: sliderRow.to
            stepSize: sliderRow.stepSize
            value: sliderRow.value
            Accessible.name: sliderRow.label
            onMoved: sliderRow.moved(value)
        }
        Label {
            Layout.fillWidth: true
            visible: sliderRow.help.length > 0
            text: sliderRow.help
            wrapMode: Text.Wrap
            font.pixelSize: 12
            color: root.subtleText
        }
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0
        Item {
            Layout.fillWidth: true
            implicitHeight: 68
            ColumnLayout {
                anchors.left: parent.left
                anchors.leftMargin: 16
                anchors.verticalCenter: parent.verticalCenter
                spacing: 2
                Label { text: qsTr("Generation settings"); font.pixelSize: 17; font.weight: Font.DemiBold }
                Label {
                    text: root.settings.usesDefaults ? qsTr("This chat uses the defaults") : qsTr("This chat has its own settings")
                    font.pixelSize: 12
                    color: root.subtleText
                }
            }
            IconButton {
                anchors.right: parent.right
                anchors.rightMargin: 8
                anchors.verticalCenter: parent.verticalCenter
                iconPath: Icons.close
                tip: qsTr("Close settings")
                onClicked: root.closeRequested()
            }
        }

        ScrollView {
            Layout.fillWidth: true
            Layout.fillHeight: true
            contentWidth: availableWidth
            ColumnLayout {
                width: parent.width - 32
                x: 16
                spacing: 14

                ColumnLayout {
                    Layout.fillWidth: true
                    spacing: 4
                    Label { text: qsTr("Mode") }
                    Switch {
                        text: qsTr("Plain completion (for base models)")
                        checked: root.settings.completionMode
                        Accessible.name: qsTr("Plain completion mode")
                        onToggled: root.settings.completionMode = checked
                    }
                }

                ColumnLayout {
                    Layout.fillWidth: true
                    spacing: 4
                    enabled: !root.settings.completionMode
                    Label { text: qsTr("System prompt") }
                    TextArea {
                        id: systemPrompt
                        Layout.fillWidth: true
                        Layout.minimumHeight: 80
                        wrapMode: TextEdit.Wrap
                        selectByMouse: true
                        placeholderText: qsTr("You are a helpful assistant.")
                        text: root.settings.systemPrompt
                        Accessible.name: qsTr("System prompt")
                        onEditingFinished: if (text !== root.settings.systemPrompt) root.settings.systemPrompt = text
                    }
                }

                SliderRow {
                    label: qsTr("Temperature")
                    help: qsTr("0 picks the most likely token every time.")
                    from: 0; to: 2; stepSize: 0.05
                    value: root.settings.values.temperature
                    onMoved: v => root.settings.change({temperature: v})
                }
                SliderRow {
                    label: qsTr("Top-p")
                    from: 0.05; to: 1; stepSize: 0.01
                    value: root.settings.values.topP
                    onMoved: v => root.settings.change({topP: v})
                }
                SliderRow {
                    label: qsTr("Min-p")
                    from: 0; to: 0.5; stepSize: 0.01
                    value: root.settings.values.minP
                    onMoved: v => root.settings.change({minP: v})
                }
                SliderRow {
                    label: qsTr("Repetition penalty")
                    from: 1; to: 2; stepSize: 0.01
                    value: root.settings.values.repeatPenalty
                    onMoved: v => root.settings.change({repeatPenalty: v})
                }

                GridLayout {
                    Layout.fillWidth: true
                    columns: 2
                    columnSpacing: 12
                    rowSpacing: 8
                    Label { text: qsTr("Top-k"); Layout.fillWidth: true }
                    SpinBox {
                        Layout.preferredWidth: 150
                        from: 0; to: 1000
                        editable: true
                        value: root.settings.values.topK
                        Accessible.name: qsTr("Top-k")
                        onValueModified: root.settings.change({topK: value})
                    }
                    Label { text: qsTr("Max new tokens"); Layout.fillWidth: true }
                    SpinBox {
                        Layout.preferredWidth: 150
                        from: 1; to: 65536
                        stepSize: 64
                        editable: true
                        value: root.settings.values.maxNewTokens
                        Accessible.name: qsTr("Maximum new tokens")
                        onValueModified: root.settings.change({maxNewTokens: value})
                    }
                    Label { text: qsTr("Seed"); Layout.fillWidth: true }
                    TextField {
                        Layout.preferredWidth: 150
                        text: root.settings.values.seed < 0 ? "" : String(root.settings.values.seed)
                        placeholderText: qsTr("random")
                        validator: RegularExpressionValidator { regularExpression: /[0-9]{0,15}/ }
                        selectByMouse: true
                        Accessible.name: qsTr("Seed (empty for random)")
                        onEditingFinished: root.settings.change({seed: text.length > 0 ? parseInt(text) : -1})
                    }
                }

                RowLayout {
                    Layout.fillWidth: true
                    Layout.topMargin: 8
                    Layout.bottomMargin: 16
                    Button {
                        text: qsTr("Reset to defaults")
                        flat: true
                        enabled: !root.settings.usesDefaults
                        Accessible.name: text
                        onClicked: root.settings.resetToDefaults()
                    }
                    Item { Layout.fillWidth: true }
                    Button {
                        text: qsTr("Save as defaults")
                        Accessible.name: text
                        onClicked: root.settings.saveAsDefaults()
                    }
                }
            }
        }
    }
}
