#include "app/export/pdf/rich_text.h"

#include <optional>
#include <vector>

namespace fm::pdf {
namespace {

struct Tag {
    QStringView name;  // lower case as written; empty for a comment or declaration
    bool closing = false;
    QStringView attributes;
};

// The value of `name="…"` in a tag's attributes, or an empty view.
QStringView attribute(QStringView attributes, QLatin1StringView name) {
    qsizetype at = 0;
    while ((at = attributes.indexOf(name, at)) >= 0) {
        const qsizetype quote = at + name.size() + 1;
        if (quote + 1 < attributes.size() && attributes.at(at + name.size()) == QLatin1Char('=') &&
            attributes.at(quote) == QLatin1Char('"') && (at == 0 || attributes.at(at - 1).isSpace())) {
            const qsizetype end = attributes.indexOf(QLatin1Char('"'), quote + 1);
            if (end > quote) return attributes.sliced(quote + 1, end - quote - 1);
        }
        at += name.size();
    }
    return {};
}

bool hasClass(QStringView attributes, QLatin1StringView name) {
    for (QStringView word : attribute(attributes, QLatin1StringView("class")).split(QLatin1Char(' '))) {
        if (word == name) return true;
    }
    return false;
}

class Parser {
public:
    QList<RichBlock> parse(QStringView html) {
        qsizetype i = 0;
        while (i < html.size()) {
            const qsizetype open = html.indexOf(QLatin1Char('<'), i);
            text(html.sliced(i, (open < 0 ? html.size() : open) - i));
            if (open < 0) break;
            const qsizetype close = html.indexOf(QLatin1Char('>'), open);
            if (close < 0) {  // not a tag after all: the rest is text
                text(html.sliced(open));
                break;
            }
            tag(readTag(html.sliced(open + 1, close - open - 1)));
            i = close + 1;
        }
        endBlock();
        endTable();
        return std::move(blocks_);
    }

private:
    struct List {
        bool ordered;
        int count = 0;
    };

    static Tag readTag(QStringView inside) {
        Tag t;
        if (inside.startsWith(QLatin1Char('!')) || inside.startsWith(QLatin1Char('?'))) return t;
        if (inside.startsWith(QLatin1Char('/'))) {
            t.closing = true;
            inside = inside.sliced(1);
        }
        qsizetype end = 0;
        while (end < inside.size() && inside.at(end).isLetterOrNumber()) ++end;
        t.name = inside.first(end);
        t.attributes = inside.sliced(end);
        return t;
    }

    void tag(const Tag& t) {
        const QStringView n = t.name;
        if (n == u"p") {
            if (t.closing) return endBlock();
            startBlock(hasClass(t.attributes, QLatin1StringView("meta"))   ? RichBlock::Kind::Meta
                       : hasClass(t.attributes, QLatin1StringView("lang")) ? RichBlock::Kind::Language
                                                                           : RichBlock::Kind::Paragraph);
        } else if (n.size() == 2 && n.at(0) == QLatin1Char('h') && n.at(1) >= QLatin1Char('1') &&
                   n.at(1) <= QLatin1Char('6')) {
            if (t.closing) return endBlock();
            heading(n.at(1).unicode() - '0', t.attributes);
        } else if (n == u"pre") {
            if (t.closing) return endBlock();
            startBlock(RichBlock::Kind::Code);
        } else if (n == u"br") {
            append(QStringLiteral("\n"));
        } else if (n == u"strong" || n == u"b") {
            setStyle(kBold, !t.closing);
        } else if (n == u"em" || n == u"i") {
            setStyle(kItalic, !t.closing);
        } else if (n == u"code") {
            setStyle(kMono, !t.closing);
        } else if (n == u"s") {
            setStyle(kStrike, !t.closing);
        } else if (n == u"ul" || n == u"ol") {
            endBlock();
            if (!t.closing) {
                lists_.push_back({n == u"ol"});
            } else if (!lists_.empty()) {
                lists_.pop_back();
            }
        } else if (n == u"li") {
            endBlock();
            if (!t.closing) listItem();
        } else if (n == u"blockquote") {
            endBlock();
            quoteDepth_ = std::max(0, quoteDepth_ + (t.closing ? -1 : 1));
        } else if (n == u"hr") {
            endBlock();
            startBlock(RichBlock::Kind::Rule);
            endBlock();
        } else {
            tableTag(t);
        }
    }

    void tableTag(const Tag& t) {
        const QStringView n = t.name;
        if (n == u"table") {
            endBlock();
            if (t.closing) {
                endTable();
            } else {
                endTable();
                table_.emplace();
                table_->kind = RichBlock::Kind::Table;
                table_->quoteDepth = quoteDepth_;
                table_->listDepth = int(lists_.size());
            }
        } else if (n == u"tr" && table_) {
            if (!t.closing) table_->rows.append(QList<TableCell>());
            cell_ = nullptr;
        } else if ((n == u"td" || n == u"th") && table_) {
            cell_ = nullptr;
            if (t.closing) return;
            if (table_->rows.isEmpty()) table_->rows.append(QList<TableCell>());
            TableCell cell;
            cell.header = n == u"th";
            const QStringView align = attribute(t.attributes, QLatin1StringView("align"));
            cell.alignment = align == u"right" ? Qt::AlignRight : align == u"center" ? Qt::AlignHCenter : Qt::AlignLeft;
            table_->rows.back().append(cell);
            cell_ = &table_->rows.back().back();
        }
    }

    void heading(int level, QStringView attributes) {
        if (hasClass(attributes, QLatin1StringView("label"))) {
            startBlock(RichBlock::Kind::Label);
            for (const char* role : {"user", "assistant", "system"}) {
                if (hasClass(attributes, QLatin1StringView(role))) current_->labelRole = QLatin1String(role);
            }
            return;
        }
        startBlock(level == 1 ? RichBlock::Kind::Title : RichBlock::Kind::Heading);
        current_->headingLevel = level;
    }

    void listItem() {
        startBlock(RichBlock::Kind::ListItem);
        current_->listDepth = std::max<int>(1, int(lists_.size()));
        if (lists_.empty()) {
            current_->marker = QStringLiteral("\u2022");
        } else if (lists_.back().ordered) {
            current_->marker = QString::number(++lists_.back().count) + QLatin1Char('.');
        } else {
            current_->marker = lists_.size() % 2 == 1 ? QStringLiteral("\u2022") : QStringLiteral("\u25E6");
        }
    }

    void setStyle(unsigned char bit, bool on) {
        // Counted, so nested tags of one kind close properly.
        int& depth = styleDepth_[bit == kBold ? 0 : bit == kItalic ? 1 : bit == kMono ? 2 : 3];
        depth = std::max(0, depth + (on ? 1 : -1));
        style_ = static_cast<unsigned char>(depth > 0 ? (style_ | bit) : (style_ & ~bit));
    }

    void startBlock(RichBlock::Kind kind) {
        endBlock();
        current_.emplace();
        current_->kind = kind;
        current_->quoteDepth = quoteDepth_;
        current_->listDepth = int(lists_.size());
    }

    void endBlock() {
        if (!current_) return;
        QList<Span>& spans = current_->spans;
        if (current_->kind != RichBlock::Kind::Code) {
            // White space at a block's edges is not shown, as in HTML.
            while (!spans.isEmpty() && spans.back().text == QLatin1String(" ")) spans.removeLast();
            if (!spans.isEmpty() && spans.back().text.endsWith(QLatin1Char(' '))) spans.back().text.chop(1);
        }
        const bool keep = !spans.isEmpty() || current_->kind == RichBlock::Kind::Rule ||
                          current_->kind == RichBlock::Kind::ListItem || current_->kind == RichBlock::Kind::Code;
        if (keep) blocks_.append(std::move(*current_));
        current_.reset();
    }

    void endTable() {
        cell_ = nullptr;
        if (table_ && !table_->rows.isEmpty()) blocks_.append(std::move(*table_));
        table_.reset();
    }

    // Text between tags: entities decoded; white space collapsed outside code, as HTML shows it.
    void text(QStringView raw) {
        if (raw.isEmpty()) return;
        const bool pre = current_ && current_->kind == RichBlock::Kind::Code;
        QString decoded;
        decoded.reserve(raw.size());
        for (qsizetype i = 0; i < raw.size(); ++i) {
            QChar ch = raw.at(i);
            if (ch == QLatin1Char('&')) {
                const qsizetype end = raw.indexOf(QLatin1Char(';'), i);
                if (end > i && end - i <= 8) {
                    if (const std::optional<QChar> entity = decodeEntity(raw.sliced(i + 1, end - i - 1))) {
                        ch = *entity;
                        i = end;
                    }
                }
            }
            if (!pre && ch.isSpace() && ch != QChar::Nbsp) {
                if (lastWasSpace(decoded)) continue;
                ch = QLatin1Char(' ');
            }
            decoded += ch;
        }
        append(decoded);
    }

    bool lastWasSpace(const QString& decoded) const {
        if (!decoded.isEmpty()) return decoded.back() == QLatin1Char(' ') || decoded.back() == QLatin1Char('\n');
        const QList<Span>* spans = cell_ ? &cell_->spans : current_ ? &current_->spans : nullptr;
        if (spans == nullptr || spans->isEmpty()) return true;  // nothing yet: leading space is dropped
        const QString& last = spans->back().text;
        return last.isEmpty() || last.back() == QLatin1Char(' ') || last.back() == QLatin1Char('\n');
    }

    static std::optional<QChar> decodeEntity(QStringView name) {
        if (name == u"amp") return QLatin1Char('&');
        if (name == u"lt") return QLatin1Char('<');
        if (name == u"gt") return QLatin1Char('>');
        if (name == u"quot") return QLatin1Char('"');
        if (name == u"#39") return QLatin1Char('\'');
        if (name == u"nbsp") return QChar(QChar::Nbsp);
        return std::nullopt;
    }

    void append(const QString& text) {
        if (text.isEmpty()) return;
        QList<Span>* spans = nullptr;
        if (cell_ != nullptr) {
            spans = &cell_->spans;
        } else {
            if (!current_) {
                if (text.trimmed().isEmpty()) return;  // between blocks
                startBlock(lists_.empty() ? RichBlock::Kind::Paragraph : RichBlock::Kind::ListItem);
                if (!lists_.empty()) current_->marker.clear();  // the rest of an item after its sub-list
            }
            spans = &current_->spans;
        }
        if (!spans->isEmpty() && spans->back().style == style_) {
            spans->back().text += text;
        } else {
            spans->append({text, style_});
        }
    }

    QList<RichBlock> blocks_;
    std::optional<RichBlock> current_;
    std::optional<RichBlock> table_;
    TableCell* cell_ = nullptr;
    std::vector<List> lists_;
    int quoteDepth_ = 0;
    int styleDepth_[4] = {};
    unsigned char style_ = kPlain;
};

}  // namespace

QList<RichBlock> parseRichText(QStringView html) {
    return Parser().parse(html);
}

}  // namespace fm::pdf
