#include "app/markdown/markdown_render.h"

#include "app/markdown/markdown_blocks.h"

#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocument>
#include <QTextFrame>
#include <QTextList>
#include <QTextTable>

#include <vector>

namespace fm {

QString escapeHtml(const QString& text) {
    QString out;
    out.reserve(text.size() + text.size() / 8);
    for (QChar ch : text) {
        switch (ch.unicode()) {
        case '&': out += QLatin1String("&amp;"); break;
        case '<': out += QLatin1String("&lt;"); break;
        case '>': out += QLatin1String("&gt;"); break;
        case '"': out += QLatin1String("&quot;"); break;
        case '\'': out += QLatin1String("&#39;"); break;
        default: out += ch;
        }
    }
    return out;
}

namespace {

using app::MarkdownBlock;

// Only characters that cannot end the attribute or start markup.
QString languageClass(const QString& language) {
    QString safe;
    for (QChar ch : language) {
        if (ch.isLetterOrNumber() || ch == QLatin1Char('-') || ch == QLatin1Char('_') || ch == QLatin1Char('+') ||
            ch == QLatin1Char('#') || ch == QLatin1Char('.')) {
            safe += ch;
        }
    }
    return safe.left(32);
}

// Text without anything Markdown could read as structure or markup: one paragraph of its
// lines (soft breaks read as spaces, as the importer reads them). Most prose in a long chat is
// like this, and it skips building a document per paragraph.
bool isPlainParagraph(const QString& text) {
    qsizetype lineStart = 0;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar ch = text.at(i);
        if (ch == QLatin1Char('\n')) {
            lineStart = i + 1;
            continue;
        }
        if (ch.isLetter() || ch == QLatin1Char(' ') || ch == QLatin1Char(',') || ch == QLatin1Char(';') ||
            ch == QLatin1Char('?') || ch == QLatin1Char('"') || ch == QLatin1Char('\'') || ch == QLatin1Char('(') ||
            ch == QLatin1Char(')') || ch == QLatin1Char('/')) {
            continue;
        }
        // Digits and full stops, but not "1." or "1)" starting a line (an ordered list).
        if (ch.isDigit() && i != lineStart) continue;
        if (ch == QLatin1Char('.') && i != lineStart && !text.at(i - 1).isDigit()) continue;
        if (ch == QLatin1Char(':') && i + 1 < text.size() && text.at(i + 1) == QLatin1Char(' ')) continue;
        return false;
    }
    // Blank lines separate paragraphs, leading spaces can make indented code, and two spaces at
    // the end of a line make a hard break.
    return !text.contains(QStringLiteral("\n\n")) && !text.contains(QStringLiteral("\n ")) &&
           !text.contains(QStringLiteral("  \n")) && !text.startsWith(QLatin1Char(' '));
}

// A document as Qt's Markdown importer builds it, for reading back. Built in one edit block:
// the importer's cursor would otherwise lay out each paragraph to place itself after every insert,
// which costs more than the import.
class MarkdownDocument : public QTextDocument {
public:
    explicit MarkdownDocument(const QString& markdown) {
        QTextCursor cursor(this);
        cursor.beginEditBlock();
        setMarkdown(markdown, QTextDocument::MarkdownDialectGitHub);
        cursor.endEditBlock();
    }
};

// Writes a QTextDocument built by the Markdown importer back out as HTML.
class HtmlWriter {
public:
    explicit HtmlWriter(HtmlFlavour flavour) : flavour_(flavour) {}

    QString take() {
        closeAll();
        return std::move(out_);
    }

    void blocks(const QList<MarkdownBlock>& blocks) {
        for (const MarkdownBlock& block : blocks) {
            switch (block.kind) {
            case MarkdownBlock::Kind::Code: code(block.text, block.language); break;
            case MarkdownBlock::Kind::Table: table(block); break;
            case MarkdownBlock::Kind::Quote:
                out_ += QStringLiteral("<blockquote>");
                prose(block.text);
                out_ += QStringLiteral("</blockquote>\n");
                break;
            case MarkdownBlock::Kind::Prose: prose(block.text); break;
            }
        }
    }

    // Markdown (raw HTML already escaped) through Qt's importer.
    void prose(const QString& markdown) {
        if (isPlainParagraph(markdown)) {
            out_ += QStringLiteral("<p>") +
                    escapeHtml(markdown.trimmed().replace(QLatin1Char('\n'), QLatin1Char(' '))) +
                    QStringLiteral("</p>\n");
            return;
        }
        MarkdownDocument document(markdown);
        frame(document.rootFrame());
        closeAll();
    }

    // One cell's Markdown: its inline content, blocks joined by line breaks.
    QString inlineHtml(const QString& markdown) {
        if (isPlainParagraph(markdown)) return escapeHtml(markdown);
        MarkdownDocument document(markdown);
        QString html;
        for (QTextBlock b = document.begin(); b.isValid(); b = b.next()) {
            if (!html.isEmpty()) html += QStringLiteral("<br>");
            html += inlineOf(b, false);
        }
        return html;
    }

private:
    struct OpenList {
        QTextList* list;
        int indent;
        bool ordered;
    };

    // A fenced block, with its language above it as the window shows it.
    void code(const QString& text, const QString& language) {
        closeAll();
        if (flavour_ == HtmlFlavour::RichText) {
            if (!language.isEmpty()) out_ += QStringLiteral("<p class=\"lang\">%1</p>").arg(escapeHtml(language));
            out_ += QStringLiteral("<pre class=\"code\">") + escapeHtml(text) + QStringLiteral("</pre>\n");
            return;
        }
        if (!language.isEmpty()) out_ += QStringLiteral("<div class=\"lang\">%1</div>").arg(escapeHtml(language));
        const QString lang = languageClass(language);
        out_ += lang.isEmpty() ? QStringLiteral("<pre><code>")
                               : QStringLiteral("<pre><code class=\"language-%1\">").arg(lang);
        out_ += escapeHtml(text) + QStringLiteral("</code></pre>\n");
    }

    void table(const MarkdownBlock& block) {
        closeAll();
        const bool rich = flavour_ == HtmlFlavour::RichText;
        out_ += rich ? QStringLiteral("<table border=\"1\" cellspacing=\"0\" cellpadding=\"4\">\n")
                     : QStringLiteral("<table>\n");
        for (qsizetype r = 0; r < block.rows.size(); ++r) {
            out_ += QStringLiteral("<tr>");
            const QString cell = r == 0 ? QStringLiteral("th") : QStringLiteral("td");
            for (qsizetype c = 0; c < block.rows[r].size(); ++c) {
                const QString align = c < block.alignments.size() ? block.alignments[c] : QStringLiteral("left");
                out_ += QLatin1Char('<') + cell;
                if (align != QLatin1String("left")) {
                    out_ +=
                        rich ? QStringLiteral(" align=\"%1\"").arg(align) : QStringLiteral(" class=\"%1\"").arg(align);
                }
                out_ +=
                    QLatin1Char('>') + inlineHtml(block.rows[r][c]) + QStringLiteral("</") + cell + QStringLiteral(">");
            }
            out_ += QStringLiteral("</tr>\n");
        }
        out_ += QStringLiteral("</table>\n");
    }

    void frame(QTextFrame* frame) {
        for (auto it = frame->begin(); !it.atEnd(); ++it) {
            if (QTextFrame* child = it.currentFrame()) {
                closeAll();
                if (auto* t = qobject_cast<QTextTable*>(child)) {
                    importedTable(t);
                } else {
                    this->frame(child);
                }
            } else {
                block(it.currentBlock());
            }
        }
    }

    // A table the importer found that the block splitter did not (rare): cell by cell.
    void importedTable(QTextTable* t) {
        const bool rich = flavour_ == HtmlFlavour::RichText;
        out_ += rich ? QStringLiteral("<table border=\"1\" cellspacing=\"0\" cellpadding=\"4\">\n")
                     : QStringLiteral("<table>\n");
        for (int r = 0; r < t->rows(); ++r) {
            out_ += QStringLiteral("<tr>");
            for (int c = 0; c < t->columns(); ++c) {
                out_ += QStringLiteral("<td>");
                const QTextTableCell cell = t->cellAt(r, c);
                bool first = true;
                for (auto it = cell.begin(); !it.atEnd(); ++it) {
                    if (!it.currentBlock().isValid()) continue;
                    if (!first) out_ += QStringLiteral("<br>");
                    out_ += inlineOf(it.currentBlock(), false);
                    first = false;
                }
                out_ += QStringLiteral("</td>");
            }
            out_ += QStringLiteral("</tr>\n");
        }
        out_ += QStringLiteral("</table>\n");
    }

    void block(const QTextBlock& b) {
        const QTextBlockFormat format = b.blockFormat();
        const bool isCode = format.hasProperty(QTextFormat::BlockCodeFence) || format.nonBreakableLines();
        if (!isCode) closeCode();
        setQuoteLevel(format.intProperty(QTextFormat::BlockQuoteLevel));
        if (isCode) {
            closeLists();
            if (!inCode_) {
                out_ += flavour_ == HtmlFlavour::RichText ? QStringLiteral("<pre class=\"code\">")
                                                          : QStringLiteral("<pre><code>");
                inCode_ = true;
            } else {
                out_ += QLatin1Char('\n');
            }
            out_ += escapeHtml(b.text());
            return;
        }
        if (QTextList* list = b.textList()) {
            listItem(list, b);
            return;
        }
        closeLists();
        if (format.hasProperty(QTextFormat::BlockTrailingHorizontalRulerWidth)) {
            out_ += QStringLiteral("<hr>\n");
            return;
        }
        const int heading = std::clamp(format.headingLevel(), 0, 6);
        if (heading > 0) {
            // Message headings sit below the conversation's own title (h1) in the document.
            const QString tag = QStringLiteral("h%1").arg(std::min(heading + 1, 6));
            out_ += QLatin1Char('<') + tag + QLatin1Char('>') + inlineOf(b, true) + QStringLiteral("</") + tag +
                    QStringLiteral(">\n");
            return;
        }
        if (b.text().isEmpty()) return;
        out_ += QStringLiteral("<p>") + inlineOf(b, false) + QStringLiteral("</p>\n");
    }

    void listItem(QTextList* list, const QTextBlock& b) {
        const int indent = std::max(1, list->format().indent());
        while (!lists_.empty() &&
               (lists_.back().indent > indent || (lists_.back().indent == indent && lists_.back().list != list))) {
            popList();
        }
        if (lists_.empty() || lists_.back().indent < indent) {
            const QTextListFormat::Style style = list->format().style();
            const bool ordered = style == QTextListFormat::ListDecimal || style == QTextListFormat::ListLowerAlpha ||
                                 style == QTextListFormat::ListUpperAlpha || style == QTextListFormat::ListLowerRoman ||
                                 style == QTextListFormat::ListUpperRoman;
            out_ += ordered ? QStringLiteral("<ol>\n") : QStringLiteral("<ul>\n");
            lists_.push_back({list, indent, ordered});
        } else {
            out_ += QStringLiteral("</li>\n");
        }
        QString marker;
        switch (b.blockFormat().marker()) {
        case QTextBlockFormat::MarkerType::Checked: marker = QStringLiteral("\u2611 "); break;
        case QTextBlockFormat::MarkerType::Unchecked: marker = QStringLiteral("\u2610 "); break;
        default: break;
        }
        out_ += QStringLiteral("<li>") + marker + inlineOf(b, false);
    }

    void popList() {
        out_ += lists_.back().ordered ? QStringLiteral("</li>\n</ol>\n") : QStringLiteral("</li>\n</ul>\n");
        lists_.pop_back();
    }
    void closeLists() {
        while (!lists_.empty()) popList();
    }
    void closeCode() {
        if (!inCode_) return;
        out_ += flavour_ == HtmlFlavour::RichText ? QStringLiteral("</pre>\n") : QStringLiteral("</code></pre>\n");
        inCode_ = false;
    }
    void setQuoteLevel(int level) {
        if (level == quoteLevel_) return;
        closeCode();
        closeLists();
        for (; quoteLevel_ < level; ++quoteLevel_) out_ += QStringLiteral("<blockquote>");
        for (; quoteLevel_ > level; --quoteLevel_) out_ += QStringLiteral("</blockquote>\n");
    }
    void closeAll() {
        closeCode();
        closeLists();
        setQuoteLevel(0);
    }

    // A block's text with its inline formatting; a hard line break as <br>.
    static QString inlineOf(const QTextBlock& b, bool heading) {
        QString html;
        for (auto it = b.begin(); !it.atEnd(); ++it) {
            const QTextFragment fragment = it.fragment();
            if (!fragment.isValid()) continue;
            const QTextCharFormat format = fragment.charFormat();
            if (format.isImageFormat()) {
                // Shown, never loaded: the alternative text and the address as text.
                const QTextImageFormat image = format.toImageFormat();
                const QString alt = image.stringProperty(QTextFormat::ImageAltText);
                html += escapeHtml(alt.isEmpty() ? QStringLiteral("[image: %1]").arg(image.name())
                                                 : QStringLiteral("[image: %1] (%2)").arg(alt, image.name()));
                continue;
            }
            QString text = escapeHtml(fragment.text());
            text.replace(QChar::LineSeparator, QStringLiteral("<br>"));
            text.replace(QChar::ParagraphSeparator, QStringLiteral("<br>"));
            QString open, close;
            const auto wrap = [&](const char* tag) {
                open += QStringLiteral("<%1>").arg(QLatin1String(tag));
                close.prepend(QStringLiteral("</%1>").arg(QLatin1String(tag)));
            };
            if (format.fontFixedPitch()) wrap("code");
            if (!heading && format.fontWeight() >= QFont::DemiBold) wrap("strong");
            if (format.fontItalic()) wrap("em");
            if (format.fontStrikeOut()) wrap("s");
            html += open + text + close;
            // A link's address as text after it: readable on paper, and nothing to click.
            const QString href = format.anchorHref();
            if (format.isAnchor() && !href.isEmpty() && href != fragment.text() &&
                href != QStringLiteral("mailto:") + fragment.text()) {
                html += QStringLiteral(" (") + escapeHtml(href) + QLatin1Char(')');
            }
        }
        return html;
    }

    HtmlFlavour flavour_;
    QString out_;
    std::vector<OpenList> lists_;
    int quoteLevel_ = 0;
    bool inCode_ = false;
};

}  // namespace

QString markdownToHtml(const QString& markdown, HtmlFlavour flavour) {
    HtmlWriter writer(flavour);
    writer.blocks(app::splitMarkdownBlocks(markdown));
    return writer.take();
}

}  // namespace fm
