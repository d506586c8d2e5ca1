#include "app/export/document_formats.h"

#include "app/markdown/markdown_render.h"
#include "app/markdown/ordered_render.h"

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>
#include <functional>

#ifndef FM_EXPORT_APP_VERSION
#define FM_EXPORT_APP_VERSION "0.0.0"
#endif

namespace fm {
namespace {

// Where a document goes: collected into chunks of about a megabyte and handed to the sink, so
// a long export is written as it is made instead of held whole.
class TextOut {
public:
    explicit TextOut(const TextSink& sink) : sink_(sink) {}
    ~TextOut() { flush(); }
    TextOut& operator+=(const QString& text) {
        buffer_ += text;
        if (buffer_.size() >= kChunk) flush();
        return *this;
    }
    TextOut& operator+=(QChar ch) { return *this += QString(ch); }
    void flush() {
        if (buffer_.isEmpty()) return;
        sink_(buffer_);
        buffer_.clear();
    }

private:
    static constexpr qsizetype kChunk = 1 << 19;  // UTF-16 units
    const TextSink& sink_;
    QString buffer_;
};

QString collect(void (*write)(const QList<ConversationArchive>&, const TextSink&),
                const QList<ConversationArchive>& conversations) {
    QString out;
    write(conversations, [&](const QString& piece) { out += piece; });
    return out;
}

// A message of the visible branch with its place among its siblings ("version 2 of 3").
struct Shown {
    Message message;
    int version = 1;
    int versions = 1;
};

// Siblings are grouped once per conversation (one pass and one sort per parent), so a
// conversation of 100,000 messages costs as much per message as one of ten.
QList<Shown> shownMessages(const ConversationArchive& archive) {
    QHash<qint64, QList<qint64>> children;
    children.reserve(archive.messages.size());
    for (const Message& m : archive.messages) {
        children[m.parentId].append(m.id);
    }
    for (auto& ids : children) {
        std::sort(ids.begin(), ids.end());
    }
    QList<Shown> shown;
    for (const Message& m : archive.visibleBranch()) {
        const QList<qint64>& siblings = children[m.parentId];
        const auto at = std::lower_bound(siblings.begin(), siblings.end(), m.id);
        shown.append({m, int(at - siblings.begin()) + 1, int(siblings.size())});
    }
    return shown;
}

// A backtick fence longer than every run of backticks in `text` (at least three), so nothing
// inside can close it.
QString fenceFor(const QString& text) {
    qsizetype longest = 0, run = 0;
    for (QChar ch : text) {
        run = ch == QLatin1Char('`') ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    return QString(std::max<qsizetype>(3, longest + 1), QLatin1Char('`'));
}

// Text (a message, the system prompt) as a fenced block: shown exactly as written, and whatever
// it contains (an unclosed fence, a "## User" line, raw HTML) stays inside its block. The text
// is recovered exactly as what lies between the fence lines.
QString fencedBlock(const QString& text) {
    const QString fence = fenceFor(text);
    return fence + QStringLiteral("markdown\n") + text + QLatin1Char('\n') + fence + QLatin1Char('\n');
}

// One line of inline text (a title, a label, metadata) with every character Markdown could
// read as structure or markup escaped by a backslash.
QString escapeMarkdownInline(const QString& text) {
    static const QString kSpecial = QStringLiteral("\\`*_[]<>&~#");
    QString out;
    out.reserve(text.size() + text.size() / 4);
    for (QChar ch : text) {
        if (kSpecial.contains(ch)) {
            out += QLatin1Char('\\');
        }
        out += ch;
    }
    return out;
}

// UTC with the zone spelled out: an export is read on other machines and in other zones.
QString formatTime(qint64 ms) {
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"));
}

QString roleName(MessageRole role) {
    switch (role) {
    case MessageRole::System: return QStringLiteral("System");
    case MessageRole::User: return QStringLiteral("User");
    case MessageRole::Assistant: return QStringLiteral("Assistant");
    }
    return {};
}

// A checkpoint folder's name rather than its full path: shorter, and an export shared with
// someone else should not reveal the folder layout of the exporting machine.
QString modelName(const QString& model) {
    const QString trimmed = model.trimmed();
    const qsizetype slash = std::max(trimmed.lastIndexOf(QLatin1Char('/')), trimmed.lastIndexOf(QLatin1Char('\\')));
    if (slash >= 0 && slash + 1 < trimmed.size()) {
        return trimmed.mid(slash + 1);
    }
    return trimmed;
}

QString describeSettings(const GenerationSettings& settings) {
    QStringList parts;
    const QJsonObject json = settings.toJson();
    for (auto it = json.begin(); it != json.end(); ++it) {
        parts.append(QStringLiteral("%1 %2").arg(it.key(), it.value().toVariant().toString()));
    }
    return parts.join(QStringLiteral(", "));
}

// "Assistant · falcon-mamba-7b-instruct · version 2 of 3 · interrupted"
QString messageLabel(const Shown& s) {
    QStringList parts{roleName(s.message.role)};
    if (s.message.role == MessageRole::Assistant && !s.message.model.isEmpty()) {
        parts.append(modelName(s.message.model));
    }
    if (s.versions > 1) {
        parts.append(QStringLiteral("version %1 of %2").arg(s.version).arg(s.versions));
    }
    if (s.message.status == MessageStatus::Interrupted || s.message.status == MessageStatus::Streaming) {
        parts.append(QStringLiteral("interrupted"));
    } else if (s.message.status == MessageStatus::Error) {
        parts.append(QStringLiteral("error"));
    }
    return parts.join(QStringLiteral(" · "));
}

QStringList metadataLines(const Conversation& c) {
    QStringList lines;
    lines.append(
        QStringLiteral("Created %1, last activity %2").arg(formatTime(c.createdAtMs), formatTime(c.updatedAtMs)));
    if (!c.options.model.isEmpty()) {
        lines.append(QStringLiteral("Model: %1").arg(modelName(c.options.model)));
    }
    if (c.options.mode == ConversationMode::Completion) {
        lines.append(QStringLiteral("Mode: completion"));
    }
    if (!c.options.settings.isDefault()) {
        lines.append(QStringLiteral("Settings: %1").arg(describeSettings(c.options.settings)));
    }
    return lines;
}

QString titleOf(const Conversation& c) {
    return c.title.trimmed().isEmpty() ? QStringLiteral("Untitled conversation") : c.title;
}

QString bodyToHtml(const QString& content, bool richText) {
    QString html = markdownToHtml(content, richText ? HtmlFlavour::RichText : HtmlFlavour::Page);
    if (html.isEmpty()) {
        html = richText ? QStringLiteral("<p><i>(empty)</i></p>\n")
                        : QStringLiteral("<div class=\"text empty\">(empty)</div>\n");
    }
    return html;
}

const char* const kPageStyle = R"css(
:root { color-scheme: light dark; --bg: #f7f7f8; --fg: #1f2328; --muted: #656d76;
  --card: #ffffff; --user: #e8f0fe; --border: #d0d7de; --code-bg: #f0f1f3; --accent: #2f6feb; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #17181b; --fg: #e6e7ea; --muted: #9aa0a8; --card: #202226; --user: #1f2a3d;
    --border: #33363c; --code-bg: #121316; --accent: #6ea0ff; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", "Noto Sans", "DejaVu Sans", sans-serif; }
main { max-width: 52rem; margin: 0 auto; padding: 2rem 1rem 4rem; }
article.conversation + article.conversation { margin-top: 4rem; border-top: 1px solid var(--border); padding-top: 2rem; }
h1 { font-size: 1.6rem; margin: 0 0 .4rem; overflow-wrap: anywhere; }
.meta { color: var(--muted); font-size: .9rem; margin: 0 0 1.5rem; }
.meta span { display: block; }
.message { background: var(--card); border: 1px solid var(--border); border-radius: 12px;
  padding: .8rem 1rem; margin: 0 0 1rem; }
.message.user { background: var(--user); }
.message.system { border-style: dashed; }
.label { font-size: .8rem; font-weight: 600; color: var(--muted); text-transform: none; margin-bottom: .3rem; }
.message.assistant .label { color: var(--accent); }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.message p, .message li { overflow-wrap: anywhere; }
.message p { margin: .45rem 0; }
.message h2, .message h3, .message h4, .message h5, .message h6 { margin: 1rem 0 .4rem; line-height: 1.3; }
.message h2 { font-size: 1.3rem; } .message h3 { font-size: 1.15rem; }
.message h4, .message h5, .message h6 { font-size: 1rem; }
.message ul, .message ol { margin: .45rem 0; padding-left: 1.6rem; }
blockquote { margin: .6rem 0; padding: .1rem .9rem; border-left: 4px solid var(--border); color: var(--muted); }
table { border-collapse: collapse; margin: .6rem 0; display: block; overflow-x: auto; }
th, td { border: 1px solid var(--border); padding: .3rem .6rem; vertical-align: top; }
th { background: var(--code-bg); }
th.center, td.center { text-align: center; } th.right, td.right { text-align: right; }
hr { border: 0; border-top: 1px solid var(--border); margin: 1rem 0; }
.empty { color: var(--muted); font-style: italic; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .92em;
  background: var(--code-bg); border-radius: 4px; padding: .05em .3em; }
.lang { font: .75rem ui-monospace, "DejaVu Sans Mono", monospace; color: var(--muted); margin: .6rem 0 -.4rem; }
pre { background: var(--code-bg); border: 1px solid var(--border); border-radius: 8px;
  padding: .7rem .9rem; overflow-x: auto; margin: .6rem 0; }
pre code { background: none; padding: 0; font-size: .88em; white-space: pre; }
footer { color: var(--muted); font-size: .8rem; text-align: center; margin-top: 3rem; }
@media print { body { background: #fff; color: #000; } .message { break-inside: avoid; } }
)css";

}  // namespace

QList<TextSegment> splitCodeBlocks(const QString& markdown) {
    static const QRegularExpression kFence(QStringLiteral("^ {0,3}(`{3,}|~{3,})\\s*([^`\\s]*)"));
    QList<TextSegment> segments;
    TextSegment current;
    QString fence;  // the opening fence while inside a code block
    const QStringList lines = markdown.split(QLatin1Char('\n'));
    auto flush = [&]() {
        if (current.code || !current.text.isEmpty()) {
            segments.append(current);
        }
        current = {};
    };
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QString& line = lines[i];
        const QString newline = i + 1 < lines.size() ? QStringLiteral("\n") : QString();
        if (fence.isEmpty()) {
            const QRegularExpressionMatch open = kFence.match(line);
            if (open.hasMatch()) {
                flush();
                fence = open.captured(1);
                current.code = true;
                current.language = open.captured(2);
            } else {
                current.text += line + newline;
            }
        } else {
            const QString trimmed = line.trimmed();
            // A closing fence: the same character, at least as long, nothing after it.
            if (trimmed.startsWith(fence) && trimmed.count(fence.front()) == trimmed.size()) {
                if (current.text.endsWith(QLatin1Char('\n'))) {
                    current.text.chop(1);
                }
                flush();
                fence.clear();
            } else {
                current.text += line + newline;
            }
        }
    }
    // An unclosed fence (a reply cut off mid-block) still shows as code.
    flush();
    return segments;
}

void writeMarkdown(const QList<ConversationArchive>& conversations, const TextSink& sink) {
    TextOut md(sink);
    for (qsizetype n = 0; n < conversations.size(); ++n) {
        const ConversationArchive& archive = conversations[n];
        const Conversation& c = archive.conversation;
        if (n > 0) {
            md += QStringLiteral("\n---\n\n");
        }
        md += QStringLiteral("# ") + escapeMarkdownInline(titleOf(c).simplified()) + QStringLiteral("\n\n");
        for (const QString& line : metadataLines(c)) {
            md += QStringLiteral("- ") + escapeMarkdownInline(line) + QLatin1Char('\n');
        }
        if (!c.options.systemPrompt.isEmpty()) {
            md += QStringLiteral("\n**System prompt:**\n\n") + fencedBlock(c.options.systemPrompt);
        }
        for (const Shown& s : shownMessages(archive)) {
            md += QStringLiteral("\n## ") + escapeMarkdownInline(messageLabel(s)) + QStringLiteral("\n\n");
            md += s.message.content.isEmpty() ? QStringLiteral("*(empty)*\n") : fencedBlock(s.message.content);
        }
    }
}

QString conversationsToMarkdown(const QList<ConversationArchive>& conversations) {
    return collect(&writeMarkdown, conversations);
}

void writePlainText(const QList<ConversationArchive>& conversations, const TextSink& sink) {
    TextOut text(sink);
    for (qsizetype n = 0; n < conversations.size(); ++n) {
        const ConversationArchive& archive = conversations[n];
        const Conversation& c = archive.conversation;
        if (n > 0) {
            text += QStringLiteral("\n\n") + QString(72, QLatin1Char('=')) + QStringLiteral("\n\n");
        }
        const QString title = titleOf(c).simplified();
        text += title + QLatin1Char('\n') + QString(std::min<qsizetype>(title.size(), 72), QLatin1Char('=')) +
                QLatin1Char('\n');
        for (const QString& line : metadataLines(c)) {
            text += line + QLatin1Char('\n');
        }
        if (!c.options.systemPrompt.isEmpty()) {
            text += QStringLiteral("\nSystem prompt:\n%1\n").arg(c.options.systemPrompt);
        }
        for (const Shown& s : shownMessages(archive)) {
            text +=
                QStringLiteral("\n[%1]\n%2\n")
                    .arg(messageLabel(s), s.message.content.isEmpty() ? QStringLiteral("(empty)") : s.message.content);
        }
    }
}

QString conversationsToPlainText(const QList<ConversationArchive>& conversations) {
    return collect(&writePlainText, conversations);
}

void writeHtml(const QList<ConversationArchive>& conversations, const TextSink& sink) {
    const QString pageTitle =
        conversations.size() == 1 ? titleOf(conversations.front().conversation) : QStringLiteral("Conversations");
    TextOut html(sink);
    html += QStringLiteral(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        // Defence in depth: even if some text escaped escaping, nothing could run or load.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src 'none'; script-src 'none'\">\n"
        "<meta name=\"generator\" content=\"Falcon Mamba Chat " FM_EXPORT_APP_VERSION "\">\n");
    html += QStringLiteral("<title>%1</title>\n").arg(escapeHtml(pageTitle.simplified()));
    html += QStringLiteral("<style>%1</style>\n</head>\n<body>\n<main>\n").arg(QString::fromUtf8(kPageStyle));
    for (const ConversationArchive& archive : conversations) {
        const Conversation& c = archive.conversation;
        html += QStringLiteral(
                    "<article class=\"conversation\">\n<header>\n<h1>%1</h1>\n"
                    "<p class=\"meta\">")
                    .arg(escapeHtml(titleOf(c)));
        for (const QString& line : metadataLines(c)) {
            html += QStringLiteral("<span>%1</span>").arg(escapeHtml(line));
        }
        html += QStringLiteral("</p>\n</header>\n");
        if (!c.options.systemPrompt.isEmpty()) {
            html += QStringLiteral(
                        "<section class=\"message system\">\n"
                        "<div class=\"label\">System prompt</div>\n%1</section>\n")
                        .arg(bodyToHtml(c.options.systemPrompt, false));
        }
        const QList<Shown> shown = shownMessages(archive);
        app::renderInOrder(
            shown.size(), [&](qsizetype i) { return bodyToHtml(shown[i].message.content, false); },
            [&](qsizetype i, QString&& body) {
                const Shown& s = shown[i];
                html += QStringLiteral(
                            "<section class=\"message %1\">\n<div class=\"label\">%2</div>\n"
                            "%3</section>\n")
                            .arg(toText(s.message.role), escapeHtml(messageLabel(s)), body);
            });
        html += QStringLiteral("</article>\n");
    }
    html += QStringLiteral("<footer>Exported from Falcon Mamba Chat</footer>\n</main>\n</body>\n</html>\n");
}

QString conversationsToHtml(const QList<ConversationArchive>& conversations) {
    return collect(&writeHtml, conversations);
}

QString richTextStyleSheet() {
    return QStringLiteral(
        "body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; color: #1f2328; }"
        "h1 { font-size: 17pt; margin-bottom: 2pt; }"
        "h2 { font-size: 14pt; } h3 { font-size: 12pt; } h4, h5, h6 { font-size: 10pt; }"
        "p.meta { color: #656d76; font-size: 9pt; margin-top: 0px; margin-bottom: 10px; }"
        // Qt's rich text does not weigh selector specificity: the generic rule goes first.
        "p { margin-top: 2px; margin-bottom: 5px; }"
        // Labels are headings (h6), so the PDF keeps them with the message that follows.
        "h6.label { font-size: 9pt; font-weight: bold; color: #2f6feb; margin-top: 18px; "
        "margin-bottom: 3px; }"
        "h6.user { color: #1a7f37; }"
        "p.lang { font-size: 8pt; color: #656d76; margin-top: 6px; margin-bottom: 0px; }"
        "pre.code { font-family: 'DejaVu Sans Mono', monospace; font-size: 9pt; "
        "background-color: #f0f1f3; margin-top: 5px; margin-bottom: 5px; white-space: pre-wrap; }"
        "code { font-family: 'DejaVu Sans Mono', monospace; background-color: #f0f1f3; }"
        "blockquote { color: #4b535c; margin-left: 18px; margin-right: 0px; }"
        "table { margin-top: 4px; margin-bottom: 6px; border-color: #d0d7de; }"
        "th { background-color: #f0f1f3; font-weight: bold; }");
}

void writeRichText(const QList<ConversationArchive>& conversations, const RichTextSink& sink) {
    for (qsizetype n = 0; n < conversations.size(); ++n) {
        const ConversationArchive& archive = conversations[n];
        const Conversation& c = archive.conversation;
        QString header = QStringLiteral("<h1>") + escapeHtml(titleOf(c)) + QStringLiteral("</h1>");
        header += QStringLiteral("<p class=\"meta\">%1</p>")
                      .arg(escapeHtml(metadataLines(c).join(QLatin1Char('\n')))
                               .replace(QLatin1Char('\n'), QStringLiteral("<br>")));
        if (!c.options.systemPrompt.isEmpty()) {
            header +=
                QStringLiteral("<h6 class=\"label\">System prompt</h6>") + bodyToHtml(c.options.systemPrompt, true);
        }
        // Each conversation starts on a new page.
        sink(header, n > 0);
        const QList<Shown> shown = shownMessages(archive);
        app::renderInOrder(
            shown.size(), [&](qsizetype i) { return bodyToHtml(shown[i].message.content, true); },
            [&](qsizetype i, QString&& body) {
                const Shown& s = shown[i];
                sink(QStringLiteral("<h6 class=\"label %1\">%2</h6>")
                             .arg(toText(s.message.role), escapeHtml(messageLabel(s))) +
                         body,
                     false);
            });
    }
}

QString conversationsToRichText(const QList<ConversationArchive>& conversations) {
    QString html =
        QStringLiteral("<html><head><style>") + richTextStyleSheet() + QStringLiteral("</style></head><body>");
    writeRichText(conversations, [&](const QString& piece, bool newPage) {
        html += newPage ? QStringLiteral("<div style=\"page-break-before: always\">") + piece + QStringLiteral("</div>")
                        : piece;
    });
    html += QStringLiteral("</body></html>");
    return html;
}

}  // namespace fm
