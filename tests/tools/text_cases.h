#pragma once
// The commonest table in the data-driven tests: a text in, a text expected out. addTextCases()
// declares the two QString columns ("input", "expected") and adds one row per case; textCase()
// reads the current row back in the test function. Header only.

#include <QString>
#include <QTest>

#include <initializer_list>
#include <utility>

namespace fm::testing {

struct TextCase {
    const char* name;
    QString input;
    QString expected;
};

inline void addTextCases(std::initializer_list<TextCase> cases) {
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");
    for (const TextCase& c : cases) QTest::newRow(c.name) << c.input << c.expected;
}

// The current row's input and expected text.
inline std::pair<QString, QString> textCase() {
    QFETCH(QString, input);
    QFETCH(QString, expected);
    return {input, expected};
}

}  // namespace fm::testing
