#pragma once
// Turning what a user types into the search box into an FTS5 query that cannot fail.

#include <QString>

namespace fm {

// Each whitespace-separated word becomes a quoted FTS5 string, so operators (AND, OR, NOT,
// NEAR), '*', '^', ':', '-', parentheses and stray quotes are searched for literally instead
// of being parsed; words are ANDed. The last word is a prefix query ("hel" finds "hello")
// because the search runs as the user types. Words without any letter or digit are dropped
// (the tokenizer would drop them anyway). Returns an empty string when nothing searchable
// remains; callers then return no hits instead of querying.
QString ftsMatchExpression(const QString& userText);

// Converts a snippet whose matches are wrapped in kSnippetOpen/kSnippetClose into HTML:
// the text is escaped (a message containing "<img>" stays text) and the markers become
// <b>...</b>. The control characters cannot occur in normal text, so they cannot collide.
inline constexpr QChar kSnippetOpen{0x02};
inline constexpr QChar kSnippetClose{0x03};
QString snippetToHtml(const QString& markedSnippet);

}  // namespace fm
