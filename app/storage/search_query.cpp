#include "app/storage/search_query.h"

#include <QRegularExpression>
#include <QStringList>

namespace fm {
namespace {

// Long pasted text would make a huge AND query that matches nothing anyway.
constexpr int kMaxTerms = 16;

bool hasSearchableCharacter(const QString& word) {
    for (const char32_t c : word.toUcs4()) {
        if (QChar::isLetterOrNumber(c)) {
            return true;
        }
    }
    return false;
}

}  // namespace

QString ftsMatchExpression(const QString& userText) {
    QStringList terms;
    static const QRegularExpression whitespace(QStringLiteral("\\s+"));
    const QStringList words = userText.split(whitespace, Qt::SkipEmptyParts);
    for (QString word : words) {
        if (!hasSearchableCharacter(word)) {
            continue;
        }
        word.remove(kSnippetOpen).remove(kSnippetClose);
        terms.append(QLatin1Char('"') + word.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"'));
        if (terms.size() == kMaxTerms) {
            break;
        }
    }
    if (terms.isEmpty()) {
        return {};
    }
    terms.last().append(QLatin1Char('*'));
    return terms.join(QLatin1Char(' '));
}

QString snippetToHtml(const QString& markedSnippet) {
    QString html = markedSnippet.toHtmlEscaped();
    html.replace(kSnippetOpen, QStringLiteral("<b>"));
    html.replace(kSnippetClose, QStringLiteral("</b>"));
    return html;
}

}  // namespace fm
