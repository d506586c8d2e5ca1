import QtQuick
import QtQuick.Controls

// Memory (MiB) against tokens processed: process RSS and the model's own share. The y axis
// starts at zero, so a flat line reads as flat.
Canvas {
    id: canvas
    property var history: []
    property color subtleText
    property color dividerColor
    property color accent
    readonly property color modelColor: "#a78bfa"

    Accessible.role: Accessible.Chart
    Accessible.name: history.length > 0
                     ? qsTr("Memory against tokens: %1 MiB at %2 tokens").arg(history[history.length - 1].processMiB.toFixed(0))
                                                                          .arg(history[history.length - 1].tokens)
                     : qsTr("Memory chart, no data yet")

    onHistoryChanged: requestPaint()
    onAvailableChanged: requestPaint()
    onWidthChanged: requestPaint()
    onHeightChanged: requestPaint()
    // A theme switch changes the colours, not the data: paint again.
    onDividerColorChanged: requestPaint()
    onSubtleTextChanged: requestPaint()
    onAccentChanged: requestPaint()

    function niceMax(v) {
        if (v <= 0) return 1
        const p = Math.pow(10, Math.floor(Math.log(v) / Math.LN10))
        for (const m of [1, 2, 2.5, 5, 10])
            if (m * p >= v) return m * p
        return 10 * p
    }

    onPaint: {
        const ctx = getContext("2d")
        ctx.reset()
        const left = 40, right = 8, top = 20, bottom = 22
        const w = width - left - right, h = height - top - bottom
        ctx.font = "11px sans-serif"
        ctx.fillStyle = String(subtleText)
        ctx.strokeStyle = String(dividerColor)
        ctx.lineWidth = 1

        let maxTokens = 1, maxMiB = 1
        for (const p of history) {
            maxTokens = Math.max(maxTokens, p.tokens)
            maxMiB = Math.max(maxMiB, p.processMiB, p.modelMiB)
        }
        maxTokens = niceMax(maxTokens)
        maxMiB = niceMax(maxMiB * 1.15)

        // Grid and labels.
        for (let i = 0; i <= 4; ++i) {
            const y = Math.round(top + h - h * i / 4) + 0.5
            ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + w, y); ctx.stroke()
            ctx.textAlign = "right"
            ctx.fillText((maxMiB * i / 4).toFixed(maxMiB >= 40 ? 0 : 1), left - 6, y + 4)
        }
        ctx.textAlign = "left"
        ctx.fillText(qsTr("MiB"), 0, 10)
        ctx.textAlign = "left"
        ctx.fillText("0", left, height - 6)
        ctx.textAlign = "right"
        if (history.length > 0)
            ctx.fillText(qsTr("%1 tokens").arg(maxTokens.toLocaleString(Qt.locale(), "f", 0)), left + w, height - 6)
        ctx.textAlign = "center"

        if (history.length === 0) {
            ctx.fillText(qsTr("No tokens yet"), left + w / 2, top + h / 2)
            return
        }
        function line(key, color) {
            ctx.strokeStyle = String(color)
            ctx.lineWidth = 2
            ctx.beginPath()
            for (let i = 0; i < history.length; ++i) {
                const x = left + w * history[i].tokens / maxTokens
                const y = top + h - h * history[i][key] / maxMiB
                if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y)
            }
            if (history.length === 1) ctx.lineTo(left + w * history[0].tokens / maxTokens + 2, top + h - h * history[0][key] / maxMiB)
            ctx.stroke()
        }
        line("modelMiB", modelColor)
        line("processMiB", accent)
    }
}
