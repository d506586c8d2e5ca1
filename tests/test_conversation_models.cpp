// The sidebar and message list models, always under QAbstractItemModelTester (Fatal), over
// a real store on a temporary database. Checks both the resulting rows and that updates
// arrive as inserts/moves/removals/dataChanged rather than resets.

#include "app/storage/conversation_store.h"
#include "app/storage/database.h"
#include "ui/models/conversation_list_model.h"
#include "ui/models/message_list_model.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace fm;

namespace {

NewMessage message(MessageRole role, const QString& text)
{
    NewMessage m;
    m.role = role;
    m.content = text;
    return m;
}

QStringList titles(const ConversationListModel& model)
{
    QStringList out;
    for (int row = 0; row < model.rowCount(); ++row) {
        out.append(model.data(model.index(row), ConversationListModel::TitleRole).toString());
    }
    return out;
}

QList<qint64> ids(const MessageListModel& model)
{
    QList<qint64> out;
    for (int row = 0; row < model.rowCount(); ++row) {
        out.append(model.idAt(row));
    }
    return out;
}

QList<qint64> ids(const QList<BranchMessage>& branch)
{
    QList<qint64> out;
    for (const BranchMessage& entry : branch) {
        out.append(entry.message.id);
    }
    return out;
}

// Counts every kind of structural change a model can announce.
struct ChangeSpies {
    explicit ChangeSpies(QAbstractItemModel* model)
        : reset(model, &QAbstractItemModel::modelReset),
          inserted(model, &QAbstractItemModel::rowsInserted),
          removed(model, &QAbstractItemModel::rowsRemoved),
          moved(model, &QAbstractItemModel::rowsMoved),
          changed(model, &QAbstractItemModel::dataChanged)
    {
    }
    QSignalSpy reset;
    QSignalSpy inserted;
    QSignalSpy removed;
    QSignalSpy moved;
    QSignalSpy changed;
};

}  // namespace

class TestConversationModels : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> dir_;
    std::unique_ptr<Database> db_;
    std::unique_ptr<ConversationStore> store_;
    qint64 clock_ = 0;
    QHash<QString, qint64> conversationIds_;

    qint64 addConversation(const QString& title, const QStringList& texts = {})
    {
        QList<NewMessage> messages;
        for (qsizetype i = 0; i < texts.size(); ++i) {
            messages.append(message(i % 2 ? MessageRole::Assistant : MessageRole::User, texts[i]));
        }
        DbResult<Conversation> c = store_->importConversation(title, {}, messages);
        conversationIds_[title] = c ? c->id : 0;
        return c ? c->id : 0;
    }

private slots:
    void init()
    {
        dir_ = std::make_unique<QTemporaryDir>();
        db_ = std::make_unique<Database>();
        QVERIFY2(db_->open(dir_->filePath(QStringLiteral("models.sqlite"))),
                 qPrintable(db_->lastError()));
        store_ = std::make_unique<ConversationStore>(*db_);
        clock_ = 1'750'000'000'000;
        store_->setClock([this] { return clock_ += 1000; });
        conversationIds_.clear();
    }

    void cleanup()
    {
        store_.reset();
        db_.reset();
        dir_.reset();
    }

    // ---- ConversationListModel -----------------------------------------------------------

    void listShowsLiveConversationsByActivity_data()
    {
        QTest::addColumn<QStringList>("created");
        QTest::addColumn<QStringList>("deleted");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("empty") << QStringList{} << QStringList{} << QStringList{};
        QTest::newRow("one") << QStringList{"a"} << QStringList{} << QStringList{"a"};
        QTest::newRow("newest first") << QStringList{"a", "b", "c"} << QStringList{}
                                      << QStringList{"c", "b", "a"};
        QTest::newRow("deleted hidden") << QStringList{"a", "b", "c"} << QStringList{"b"}
                                        << QStringList{"c", "a"};
    }

    void listShowsLiveConversationsByActivity()
    {
        QFETCH(QStringList, created);
        QFETCH(QStringList, deleted);
        QFETCH(QStringList, expected);
        for (const QString& title : created) {
            addConversation(title, {QStringLiteral("hello")});
        }
        for (const QString& title : deleted) {
            QVERIFY(store_->deleteConversation(conversationIds_[title]));
        }
        ConversationListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QSignalSpy countChanged(&model, &ConversationListModel::countChanged);
        model.setStore(store_.get());
        QCOMPARE(titles(model), expected);
        QCOMPARE(model.count(), expected.size());
        QCOMPARE(countChanged.size(), expected.isEmpty() ? 0 : 1);
        if (!expected.isEmpty()) {
            const QModelIndex first = model.index(0);
            QCOMPARE(model.data(first, ConversationListModel::ConversationIdRole).toLongLong(),
                     conversationIds_[expected.first()]);
            QVERIFY(model.data(first, ConversationListModel::UpdatedAtRole).toDateTime().isValid());
            QCOMPARE(model.data(first, ConversationListModel::ModeRole).toString(),
                     QStringLiteral("chat"));
            QVERIFY(model.data(first, ConversationListModel::SnippetRole).toString().isEmpty());
            QCOMPARE(model.data(first, Qt::DisplayRole).toString(), expected.first());
        }
        const QHash<int, QByteArray> roles = model.roleNames();
        for (const char* name : {"conversationId", "title", "updatedAt", "snippet", "modelPath",
                                 "mode"}) {
            QVERIFY2(roles.values().contains(name), name);
        }
    }

    // Starting from c, b, a (newest first), each operation changes rows without a reset.
    void listUpdatesIncrementally_data()
    {
        QTest::addColumn<QString>("operation");
        QTest::addColumn<QString>("target");
        QTest::addColumn<QStringList>("expected");
        QTest::addColumn<int>("inserts");
        QTest::addColumn<int>("removes");
        QTest::addColumn<int>("moves");
        QTest::newRow("activity on oldest moves it up") << "touch" << "a"
                                                        << QStringList{"a", "c", "b"} << 0 << 0 << 1;
        QTest::newRow("activity on middle") << "touch" << "b" << QStringList{"b", "c", "a"}
                                            << 0 << 0 << 1;
        QTest::newRow("activity on newest: no move") << "touch" << "c"
                                                     << QStringList{"c", "b", "a"} << 0 << 0 << 0;
        QTest::newRow("create inserts at top") << "create" << "d"
                                               << QStringList{"d", "c", "b", "a"} << 1 << 0 << 0;
        QTest::newRow("rename keeps place") << "rename" << "a" << QStringList{"c", "b", "a!"}
                                            << 0 << 0 << 0;
        QTest::newRow("delete removes") << "delete" << "b" << QStringList{"c", "a"} << 0 << 1 << 0;
        QTest::newRow("undo re-inserts at old place") << "delete+undo" << "b"
                                                      << QStringList{"c", "b", "a"} << 1 << 1 << 0;
        QTest::newRow("refresh unknown id fails") << "refresh-missing" << ""
                                                  << QStringList{"c", "b", "a"} << 0 << 0 << 0;
    }

    void listUpdatesIncrementally()
    {
        QFETCH(QString, operation);
        QFETCH(QString, target);
        QFETCH(QStringList, expected);
        QFETCH(int, inserts);
        QFETCH(int, removes);
        QFETCH(int, moves);
        for (const QString& title : {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}) {
            addConversation(title, {QStringLiteral("first")});
        }
        ConversationListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setStore(store_.get());
        ChangeSpies spies(&model);
        QSignalSpy errors(&model, &ConversationListModel::errorOccurred);
        const qint64 id = conversationIds_.value(target);

        if (operation == QLatin1String("touch")) {
            QVERIFY(store_->appendMessage(id, message(MessageRole::User, QStringLiteral("more"))));
            QVERIFY(model.refreshConversation(id));
        } else if (operation == QLatin1String("create")) {
            QVERIFY(model.createConversation(target) > 0);
        } else if (operation == QLatin1String("rename")) {
            QVERIFY(model.renameConversation(id, target + QLatin1Char('!')));
        } else if (operation == QLatin1String("delete")) {
            QVERIFY(model.deleteConversation(id));
        } else if (operation == QLatin1String("delete+undo")) {
            QVERIFY(model.deleteConversation(id));
            QVERIFY(model.undoDelete(id));
        } else if (operation == QLatin1String("refresh-missing")) {
            QVERIFY(!model.refreshConversation(4242));
            QCOMPARE(errors.size(), 1);
            QVERIFY(!model.lastError().isEmpty());
        }
        QCOMPARE(titles(model), expected);
        QCOMPARE(spies.reset.size(), 0);
        QCOMPARE(spies.inserted.size(), inserts);
        QCOMPARE(spies.removed.size(), removes);
        QCOMPARE(spies.moved.size(), moves);
        // The model's order is always the store's order.
        QStringList stored;
        for (const Conversation& c : *store_->listConversations()) {
            stored.append(c.title);
        }
        QCOMPARE(titles(model), stored);
    }

    void plainDataUpdates()
    {
        ConversationListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        Conversation a{1, QStringLiteral("a"), 10, 10, {}, 0, {}};
        Conversation b{2, QStringLiteral("b"), 20, 20, {}, 0, {}};
        Conversation c{3, QStringLiteral("c"), 30, 30, {}, 0, {}};
        Conversation gone{4, QStringLiteral("gone"), 5, 5, {}, 0, 6};
        model.setConversations({a, c, gone, b});  // any order; deleted ones are skipped
        QCOMPARE(titles(model), (QStringList{"c", "b", "a"}));
        a.updatedAtMs = 40;
        model.upsert(a);
        QCOMPARE(titles(model), (QStringList{"a", "c", "b"}));
        c.updatedAtMs = 5;  // moving down also works
        model.upsert(c);
        QCOMPARE(titles(model), (QStringList{"a", "b", "c"}));
        b.deletedAtMs = 50;
        model.upsert(b);
        QCOMPARE(titles(model), (QStringList{"a", "c"}));
        model.removeConversation(999);  // unknown: nothing happens
        QCOMPARE(model.rowOf(3), 1);
        QCOMPARE(model.idAt(0), 1);
        QCOMPARE(model.idAt(7), 0);
    }

    void searchMode_data()
    {
        QTest::addColumn<QString>("filter");
        QTest::addColumn<QStringList>("expected");
        QTest::addColumn<QString>("snippetPart");
        QTest::newRow("title") << "kayak" << QStringList{"Kayak trip"} << "<b>Kayak</b>";
        QTest::newRow("message text") << "paddles" << QStringList{"Kayak trip"} << "<b>paddles</b>";
        QTest::newRow("prefix") << "sourd" << QStringList{"Baking"} << "<b>sourdough</b>";
        QTest::newRow("several conversations") << "weather"
                                               << QStringList{"Baking", "Kayak trip"} << "<b>";
        QTest::newRow("nothing") << "zzzz" << QStringList{} << "";
        QTest::newRow("syntax characters") << "\"NEAR(* -" << QStringList{} << "";
    }

    void searchMode()
    {
        QFETCH(QString, filter);
        QFETCH(QStringList, expected);
        QFETCH(QString, snippetPart);
        addConversation(QStringLiteral("Kayak trip"),
                        {QStringLiteral("Which paddles should I buy?"),
                         QStringLiteral("Check the weather first.")});
        addConversation(QStringLiteral("Baking"),
                        {QStringLiteral("My sourdough will not rise"),
                         QStringLiteral("Warm weather helps the starter.")});
        ConversationListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setStore(store_.get());
        QSignalSpy filterChanged(&model, &ConversationListModel::filterChanged);
        QSignalSpy errors(&model, &ConversationListModel::errorOccurred);

        model.setFilter(filter);
        QCOMPARE(filterChanged.size(), 1);
        QVERIFY(model.isSearching());
        QCOMPARE(errors.size(), 0);
        QCOMPARE(titles(model), expected);
        if (!expected.isEmpty()) {
            const QString snippet =
                model.data(model.index(0), ConversationListModel::SnippetRole).toString();
            QVERIFY2(snippet.contains(snippetPart), qPrintable(snippet));
        }
        // Activity while searching updates shown rows in place and never adds rows.
        const qsizetype shown = model.rowCount();
        QVERIFY(model.createConversation(QStringLiteral("Kayak again")) > 0);
        QCOMPARE(model.rowCount(), shown);

        model.setFilter(QString());
        QVERIFY(!model.isSearching());
        QCOMPARE(titles(model), (QStringList{"Kayak again", "Baking", "Kayak trip"}));
        QVERIFY(model.data(model.index(0), ConversationListModel::SnippetRole).toString().isEmpty());
    }

    void deleteWhileSearching()
    {
        const qint64 id = addConversation(QStringLiteral("Chess openings"),
                                          {QStringLiteral("Sicilian defence")});
        ConversationListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setStore(store_.get());
        model.setFilter(QStringLiteral("sicilian"));
        QCOMPARE(model.rowCount(), 1);
        QVERIFY(model.deleteConversation(id));
        QCOMPARE(model.rowCount(), 0);
        QVERIFY(model.undoDelete(id));
        QCOMPARE(titles(model), QStringList{"Chess openings"});
    }

    void storeErrorsAreReported()
    {
        ConversationListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QSignalSpy errors(&model, &ConversationListModel::errorOccurred);
        QCOMPARE(model.createConversation(QStringLiteral("no store")), 0);
        QCOMPARE(errors.size(), 1);
        addConversation(QStringLiteral("x"));
        model.setStore(store_.get());
        QCOMPARE(model.rowCount(), 1);
        db_->close();
        model.reload();
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(errors.size(), 2);
    }

    // ---- MessageListModel ----------------------------------------------------------------

    void messagesShowVisibleBranch_data()
    {
        QTest::addColumn<QStringList>("texts");
        QTest::newRow("empty conversation") << QStringList{};
        QTest::newRow("one message") << QStringList{"hi"};
        QTest::newRow("exchange") << QStringList{"hi", "hello", "how are you?", "fine"};
    }

    void messagesShowVisibleBranch()
    {
        QFETCH(QStringList, texts);
        const qint64 c = addConversation(QStringLiteral("chat"), texts);
        MessageListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QSignalSpy conversationChanged(&model, &MessageListModel::conversationIdChanged);
        model.setStore(store_.get());
        QVERIFY(model.loadConversation(c));
        QCOMPARE(conversationChanged.size(), 1);
        QCOMPARE(model.conversationId(), c);
        QCOMPARE(model.rowCount(), texts.size());
        for (int row = 0; row < texts.size(); ++row) {
            const QModelIndex index = model.index(row);
            QCOMPARE(model.data(index, MessageListModel::ContentRole).toString(), texts[row]);
            QCOMPARE(model.data(index, MessageListModel::RoleRole).toString(),
                     row % 2 ? QStringLiteral("assistant") : QStringLiteral("user"));
            QCOMPARE(model.data(index, MessageListModel::StatusRole).toString(),
                     QStringLiteral("complete"));
            QCOMPARE(model.data(index, MessageListModel::SiblingIndexRole).toInt(), 0);
            QCOMPARE(model.data(index, MessageListModel::SiblingCountRole).toInt(), 1);
            QCOMPARE(model.data(index, MessageListModel::IsStreamingRole).toBool(), false);
            QVERIFY(model.data(index, MessageListModel::CreatedAtRole).toDateTime().isValid());
            QCOMPARE(model.data(index, MessageListModel::PromptTokensRole).toInt(), -1);
            QVERIFY(model.data(index, MessageListModel::TokenCountsRole).toMap().isEmpty());
        }
        QVERIFY(!model.loadConversation(987654));
        QCOMPARE(model.conversationId(), c);  // a failed load leaves the view alone
    }

    void streamingTouchesOneRow()
    {
        const qint64 c = addConversation(QStringLiteral("stream"),
                                         {QStringLiteral("q1"), QStringLiteral("a1"),
                                          QStringLiteral("q2")});
        const qint64 reply = store_->beginAssistantMessage(c)->id;
        MessageListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setStore(store_.get());
        QVERIFY(model.loadConversation(c));
        QCOMPARE(model.rowCount(), 4);
        QVERIFY(model.data(model.index(3), MessageListModel::IsStreamingRole).toBool());

        ChangeSpies spies(&model);
        const QStringList pieces{QStringLiteral("Once"), QStringLiteral(" upon"),
                                 QStringLiteral(" a time")};
        for (const QString& piece : pieces) {
            QVERIFY(model.appendStreamingText(reply, piece));
        }
        QCOMPARE(spies.changed.size(), pieces.size());
        for (const QList<QVariant>& signal : spies.changed) {
            QCOMPARE(signal.at(0).toModelIndex().row(), 3);
            QCOMPARE(signal.at(1).toModelIndex().row(), 3);
            QVERIFY(signal.at(2).value<QList<int>>().contains(MessageListModel::ContentRole));
        }
        QCOMPARE(spies.reset.size() + spies.inserted.size() + spies.removed.size(), 0);
        QCOMPARE(model.contentOf(reply), QStringLiteral("Once upon a time"));
        QVERIFY(!model.appendStreamingText(424242, QStringLiteral("nowhere")));

        // The controller saves partial text now and then; a reload in between keeps the
        // model's newer text rather than the last saved one.
        QVERIFY(store_->updateStreamingContent(reply, QStringLiteral("Once")));
        QVERIFY(model.reload());
        QCOMPARE(model.contentOf(reply), QStringLiteral("Once upon a time"));

        QVERIFY(store_->finishMessage(reply, MessageStatus::Complete, {30, 4},
                                      model.contentOf(reply)));
        QVERIFY(model.updateMessage(*store_->message(reply)));
        const QModelIndex last = model.index(3);
        QCOMPARE(model.data(last, MessageListModel::StatusRole).toString(), QStringLiteral("complete"));
        QCOMPARE(model.data(last, MessageListModel::IsStreamingRole).toBool(), false);
        QCOMPARE(model.data(last, MessageListModel::CompletionTokensRole).toInt(), 4);
        const QVariantMap counts = model.data(last, MessageListModel::TokenCountsRole).toMap();
        QCOMPARE(counts.value(QStringLiteral("prompt")).toInt(), 30);
        QCOMPARE(counts.value(QStringLiteral("completion")).toInt(), 4);
        QCOMPARE(spies.reset.size(), 0);
    }

    // Tree used below: u1 -> a1 -> u2 -> a2, plus sibling edits depending on the case.
    void branchChangesAreDiffs_data()
    {
        QTest::addColumn<QString>("operation");
        QTest::addColumn<int>("removedRows");
        QTest::addColumn<int>("insertedRows");
        QTest::newRow("append a message") << "append" << 0 << 1;
        QTest::newRow("edit the last question") << "edit-u2" << 2 << 1;
        QTest::newRow("edit the first question") << "edit-u1" << 4 << 1;
        QTest::newRow("regenerate the last answer") << "regenerate" << 1 << 1;
        QTest::newRow("back to the previous answer") << "regenerate+previous" << 1 << 1;
    }

    void branchChangesAreDiffs()
    {
        QFETCH(QString, operation);
        QFETCH(int, removedRows);
        QFETCH(int, insertedRows);
        const qint64 c = addConversation(QStringLiteral("tree"),
                                         {QStringLiteral("u1"), QStringLiteral("a1"),
                                          QStringLiteral("u2"), QStringLiteral("a2")});
        const QList<BranchMessage> start = *store_->pathToLeaf(c);
        MessageListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setStore(store_.get());
        QVERIFY(model.loadConversation(c));
        if (operation == QLatin1String("regenerate+previous")) {
            const qint64 again = store_->beginAssistantMessage(c, start[2].message.id)->id;
            QVERIFY(store_->finishMessage(again, MessageStatus::Complete, {}, QStringLiteral("a2'")));
            QVERIFY(model.reload());
        }
        ChangeSpies spies(&model);
        int expectedSiblingCount = 1;

        if (operation == QLatin1String("append")) {
            QVERIFY(store_->appendMessage(c, message(MessageRole::User, QStringLiteral("u3"))));
        } else if (operation == QLatin1String("edit-u2")) {
            QVERIFY(store_->editMessage(start[2].message.id, QStringLiteral("u2'")));
            expectedSiblingCount = 2;
        } else if (operation == QLatin1String("edit-u1")) {
            QVERIFY(store_->editMessage(start[0].message.id, QStringLiteral("u1'")));
            expectedSiblingCount = 2;
        } else if (operation == QLatin1String("regenerate")) {
            const qint64 again = store_->beginAssistantMessage(c, start[2].message.id)->id;
            QVERIFY(store_->finishMessage(again, MessageStatus::Complete, {}, QStringLiteral("a2'")));
            expectedSiblingCount = 2;
        }

        if (operation == QLatin1String("regenerate+previous")) {
            QCOMPARE(model.data(model.index(3), MessageListModel::SiblingIndexRole).toInt(), 1);
            QVERIFY(!model.showSibling(3, +1));  // already the last one
            QVERIFY(model.showSibling(3, -1));
            QCOMPARE(model.data(model.index(3), MessageListModel::ContentRole).toString(),
                     QStringLiteral("a2"));
            QCOMPARE(model.data(model.index(3), MessageListModel::SiblingIndexRole).toInt(), 0);
            expectedSiblingCount = 2;
        } else {
            QVERIFY(model.reload());
        }
        QCOMPARE(ids(model), ids(*store_->pathToLeaf(c)));
        QCOMPARE(spies.reset.size(), 0);
        int removed = 0;
        for (const QList<QVariant>& signal : spies.removed) {
            removed += signal.at(2).toInt() - signal.at(1).toInt() + 1;
        }
        int inserted = 0;
        for (const QList<QVariant>& signal : spies.inserted) {
            inserted += signal.at(2).toInt() - signal.at(1).toInt() + 1;
        }
        QCOMPARE(removed, removedRows);
        QCOMPARE(inserted, insertedRows);
        const int last = model.rowCount() - 1;
        QCOMPARE(model.data(model.index(last), MessageListModel::SiblingCountRole).toInt(),
                 expectedSiblingCount);
    }

    void siblingNavigationBothWays()
    {
        const qint64 c = addConversation(QStringLiteral("nav"),
                                         {QStringLiteral("q"), QStringLiteral("a")});
        const QList<BranchMessage> start = *store_->pathToLeaf(c);
        const qint64 q2 = store_->editMessage(start[0].message.id, QStringLiteral("q2"))->id;
        QVERIFY(store_->appendMessage(c, message(MessageRole::Assistant, QStringLiteral("a2"))));
        MessageListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setStore(store_.get());
        QVERIFY(model.loadConversation(c));
        QCOMPARE(model.idAt(0), q2);
        QCOMPARE(model.data(model.index(0), MessageListModel::SiblingIndexRole).toInt(), 1);
        QVERIFY(model.showSibling(0, -1));
        QCOMPARE(ids(model), ids(start));  // back on the original branch, down to its leaf
        QVERIFY(!model.showSibling(0, -1));
        QVERIFY(!model.showSibling(5, 1));  // no such row
        QVERIFY(model.showSibling(0, +1));
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.data(model.index(1), MessageListModel::ContentRole).toString(),
                 QStringLiteral("a2"));
    }

    void switchingConversationResets()
    {
        const qint64 first = addConversation(QStringLiteral("one"), {QStringLiteral("x")});
        const qint64 second = addConversation(QStringLiteral("two"),
                                              {QStringLiteral("y"), QStringLiteral("z")});
        MessageListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setStore(store_.get());
        QVERIFY(model.loadConversation(first));
        ChangeSpies spies(&model);
        QSignalSpy countChanged(&model, &MessageListModel::countChanged);
        QVERIFY(model.loadConversation(second));
        QCOMPARE(spies.reset.size(), 1);
        QCOMPARE(countChanged.size(), 1);
        QCOMPARE(model.rowCount(), 2);
        model.clear();
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(model.conversationId(), 0);
    }
};

QTEST_GUILESS_MAIN(TestConversationModels)
#include "test_conversation_models.moc"
