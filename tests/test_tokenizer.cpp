#include <QtTest>
class TestTokenizer : public QObject {
    Q_OBJECT
};
QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
