#include "app/markdown_blocks.h"

#include <QStringList>

namespace fm::app {
namespace {

// A fence line: up to three spaces, then ``` or ~~~ (three or more). Returns its length and
// character, or 0 when the line is not a fence.
int fenceLength(const QString& line, QChar* fenceChar, int* indent) {
    int i = 0;
    while (i < line.size() && i < 4 && line.at(i) == QLatin1Char(' ')) ++i;
    if (i > 3 || i >= line.size()) return 0;
    const QChar c = line.at(i);
    if (c != QLatin1Char('`') && c != QLatin1Char('~')) return 0;
    int n = 0;
    while (i + n < line.size() && line.at(i + n) == c) ++n;
    if (n < 3) return 0;
    *fenceChar = c;
    *indent = i;
    return n;
}

}  // namespace

QList<MarkdownBlock> splitMarkdownBlocks(const QString& markdown) {
    QList<MarkdownBlock> blocks;
    const QStringList lines = markdown.split(QLatin1Char('\n'));
    QStringList current;
    bool inCode = false;
    QChar openChar;
    int openLength = 0;
    QString language;

    const auto flushProse = [&] {
        const QString text = current.join(QLatin1Char('\n'));
        if (!text.trimmed().isEmpty()) blocks.append({false, text, {}, true});
        current.clear();
    };

    for (const QString& line : lines) {
        QChar c;
        int indent = 0;
        const int n = fenceLength(line, &c, &indent);
        if (!inCode) {
            // Backtick fences may not have backticks in their info string (CommonMark).
            if (n > 0 && !(c == QLatin1Char('`') && line.mid(indent + n).contains(QLatin1Char('`')))) {
                flushProse();
                inCode = true;
                openChar = c;
                openLength = n;
                language = line.mid(indent + n).trimmed();
                continue;
            }
            current.append(line);
        } else {
            if (n >= openLength && c == openChar && line.mid(indent + n).trimmed().isEmpty()) {
                blocks.append({true, current.join(QLatin1Char('\n')), language, true});
                current.clear();
                inCode = false;
                continue;
            }
            current.append(line);
        }
    }
    if (inCode)
        blocks.append({true, current.join(QLatin1Char('\n')), language, false});
    else
        flushProse();
    return blocks;
}

}  // namespace fm::app
