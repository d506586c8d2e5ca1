#include "app/markdown/markdown_blocks.h"

#include <QRegularExpression>

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

// "> text" (up to three spaces before the marker): the text without the marker and one space.
bool quoteLine(const QString& line, QString* inner) {
    int i = 0;
    while (i < line.size() && i < 3 && line.at(i) == QLatin1Char(' ')) ++i;
    if (i >= line.size() || line.at(i) != QLatin1Char('>')) return false;
    ++i;
    if (i < line.size() && line.at(i) == QLatin1Char(' ')) ++i;
    *inner = line.mid(i);
    return true;
}

// The cells of a pipe-table row, outer pipes removed; `\|` stays inside a cell.
QStringList tableCells(const QString& line) {
    QString row = line.trimmed();
    if (row.startsWith(QLatin1Char('|'))) row.remove(0, 1);
    if (row.endsWith(QLatin1Char('|')) && !row.endsWith(QStringLiteral("\\|"))) row.chop(1);
    QStringList cells;
    QString cell;
    for (int i = 0; i < row.size(); ++i) {
        if (row.at(i) == QLatin1Char('\\') && i + 1 < row.size() && row.at(i + 1) == QLatin1Char('|')) {
            cell += QLatin1Char('|');
            ++i;
        } else if (row.at(i) == QLatin1Char('|')) {
            cells << cell.trimmed();
            cell.clear();
        } else {
            cell += row.at(i);
        }
    }
    cells << cell.trimmed();
    return cells;
}

// The delimiter row under a table's header ("|:--|--:|"): one alignment per column, or
// empty when `line` is not one.
QStringList delimiterAlignments(const QString& line) {
    static const QRegularExpression cellPattern(QStringLiteral("^(:?)-+(:?)$"));
    if (!line.contains(QLatin1Char('-'))) return {};
    QStringList alignments;
    for (const QString& cell : tableCells(line)) {
        const auto match = cellPattern.match(cell);
        if (!match.hasMatch()) return {};
        const bool left = !match.captured(1).isEmpty();
        const bool right = !match.captured(2).isEmpty();
        alignments << (left && right ? QStringLiteral("center")
                       : right       ? QStringLiteral("right")
                                     : QStringLiteral("left"));
    }
    return alignments;
}

bool looksLikeTableRow(const QString& line) {
    return line.contains(QLatin1Char('|')) && !line.trimmed().isEmpty();
}

QString escapeOutsideFences(const QStringList& lines) {
    QStringList out;
    QStringList prose;
    bool inCode = false;
    QChar openChar;
    int openLength = 0;
    const auto flushProse = [&] {
        if (!prose.isEmpty()) out << escapeRawHtml(prose.join(QLatin1Char('\n')));
        prose.clear();
    };
    for (const QString& line : lines) {
        QChar c;
        int indent = 0;
        const int n = fenceLength(line, &c, &indent);
        if (inCode) {
            out << line;
            if (n >= openLength && c == openChar && line.mid(indent + n).trimmed().isEmpty()) inCode = false;
        } else if (n > 0) {
            flushProse();
            out << line;
            inCode = true;
            openChar = c;
            openLength = n;
        } else {
            prose << line;
        }
    }
    flushProse();
    return out.join(QLatin1Char('\n'));
}

class BlockSplitter {
public:
    QList<MarkdownBlock> split(const QString& markdown) {
        const QStringList lines = markdown.split(QLatin1Char('\n'));
        for (int i = 0; i < lines.size(); ++i) {
            const QString& line = lines.at(i);
            QChar c;
            int indent = 0;
            const int n = fenceLength(line, &c, &indent);
            if (inCode_) {
                if (n >= openLength_ && c == openChar_ && line.mid(indent + n).trimmed().isEmpty()) {
                    blocks_.append(
                        {MarkdownBlock::Kind::Code, current_.join(QLatin1Char('\n')), language_, true, {}, {}});
                    current_.clear();
                    inCode_ = false;
                } else {
                    current_.append(line);
                }
                continue;
            }
            // Backtick fences may not have backticks in their info string (CommonMark).
            if (n > 0 && !(c == QLatin1Char('`') && line.mid(indent + n).contains(QLatin1Char('`')))) {
                flush();
                inCode_ = true;
                openChar_ = c;
                openLength_ = n;
                language_ = line.mid(indent + n).trimmed();
                continue;
            }
            QString inner;
            if (quoteLine(line, &inner)) {
                if (currentKind_ != MarkdownBlock::Kind::Quote) flush();
                currentKind_ = MarkdownBlock::Kind::Quote;
                current_.append(inner);
                continue;
            }
            if (currentKind_ == MarkdownBlock::Kind::Quote) flush();
            if (i + 1 < lines.size() && looksLikeTableRow(line)) {
                const QStringList alignments = delimiterAlignments(lines.at(i + 1));
                if (!alignments.isEmpty() && alignments.size() == tableCells(line).size()) {
                    i = readTable(lines, i, alignments) - 1;
                    continue;
                }
            }
            current_.append(line);
        }
        if (inCode_)
            blocks_.append({MarkdownBlock::Kind::Code, current_.join(QLatin1Char('\n')), language_, false, {}, {}});
        else
            flush();
        return blocks_;
    }

private:
    // Reads the table whose header is lines[start]; returns the first line after it.
    int readTable(const QStringList& lines, int start, const QStringList& alignments) {
        flush();
        MarkdownBlock table;
        table.kind = MarkdownBlock::Kind::Table;
        table.alignments = alignments;
        const auto addRow = [&](const QString& line) {
            QStringList cells = tableCells(line);
            // GitHub's rule: extra cells are ignored, missing ones are empty. Ignored cells
            // would lose text, so they join the last column instead.
            while (cells.size() > alignments.size()) {
                const QString extra = cells.takeLast();
                cells.last() += QStringLiteral(" | ") + extra;
            }
            while (cells.size() < alignments.size()) cells << QString();
            for (QString& cell : cells) cell = escapeRawHtml(cell);
            table.rows << cells;
        };
        addRow(lines.at(start));
        int i = start + 2;
        for (; i < lines.size() && looksLikeTableRow(lines.at(i)); ++i) addRow(lines.at(i));
        blocks_.append(table);
        return i;
    }

    void flush() {
        const QString text = current_.join(QLatin1Char('\n'));
        // A quote may hold fenced code of its own, which Qt renders verbatim: no escapes there.
        const QString safe =
            currentKind_ == MarkdownBlock::Kind::Quote ? escapeOutsideFences(current_) : escapeRawHtml(text);
        if (!text.trimmed().isEmpty()) blocks_.append({currentKind_, safe, {}, true, {}, {}});
        current_.clear();
        currentKind_ = MarkdownBlock::Kind::Prose;
    }

    QList<MarkdownBlock> blocks_;
    QStringList current_;
    MarkdownBlock::Kind currentKind_ = MarkdownBlock::Kind::Prose;
    bool inCode_ = false;
    QChar openChar_;
    int openLength_ = 0;
    QString language_;
};

}  // namespace

QString escapeRawHtml(const QString& markdown) {
    QString out;
    out.reserve(markdown.size() + markdown.size() / 16);
    for (int i = 0; i < markdown.size();) {
        const QChar c = markdown.at(i);
        if (c == QLatin1Char('\\') && i + 1 < markdown.size()) {
            // An existing escape stays as it is (and "\<" must not become "\\<").
            out += c;
            out += markdown.at(i + 1);
            i += 2;
            continue;
        }
        if (c == QLatin1Char('`')) {
            // A code span: a run of n backticks up to the next run of exactly n.
            int n = 0;
            while (i + n < markdown.size() && markdown.at(i + n) == QLatin1Char('`')) ++n;
            const QString run(n, QLatin1Char('`'));
            int close = markdown.indexOf(run, i + n);
            while (close >= 0 && close + n < markdown.size() && markdown.at(close + n) == QLatin1Char('`')) {
                int skip = close;
                while (skip < markdown.size() && markdown.at(skip) == QLatin1Char('`')) ++skip;
                close = markdown.indexOf(run, skip);
            }
            if (close < 0) {
                out += run;  // no closing run: literal backticks
                i += n;
            } else {
                out += markdown.mid(i, close + n - i);
                i = close + n;
            }
            continue;
        }
        if (c == QLatin1Char('<') || c == QLatin1Char('&')) out += QLatin1Char('\\');
        out += c;
        ++i;
    }
    return out;
}

QString kindName(MarkdownBlock::Kind kind) {
    switch (kind) {
    case MarkdownBlock::Kind::Prose: return QStringLiteral("prose");
    case MarkdownBlock::Kind::Code: return QStringLiteral("code");
    case MarkdownBlock::Kind::Quote: return QStringLiteral("quote");
    case MarkdownBlock::Kind::Table: return QStringLiteral("table");
    }
    return QStringLiteral("prose");
}

QList<MarkdownBlock> splitMarkdownBlocks(const QString& markdown) {
    return BlockSplitter().split(markdown);
}

}  // namespace fm::app
