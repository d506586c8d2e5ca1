// The generation session: templates to tokens, only unseen tokens prefilled, stops, streaming.

#include <QtTest>

#include "inference/backends/backend.h"
#include "inference/chat/chat_format.h"
#include "inference/checkpoint/weights.h"
#include "inference/model/model.h"
#include "inference/session/generation.h"
#include "inference/text/tokenizer.h"

using namespace fm;

namespace {

const std::string kChatDir = std::string(FM_TEST_DATA_DIR) + "/tiny-chat";

struct Fixture {
    std::unique_ptr<Model> model;
    const Tokenizer* tokenizer = nullptr;
    const ChatFormat* format = nullptr;
    std::unique_ptr<GenerationSession> session;

    Fixture() {
        ModelOptions options;
        options.backend = {BackendKind::Cpu, false, 1};
        model = std::move(Model::load(kChatDir, options).value());
        tokenizer = model->tokenizer();
        format = model->chat_format();
        session = model->new_session();
    }
};

GenerationParams greedy(int n) {
    GenerationParams p;
    p.sampling.temperature = 0;
    p.sampling.repeat_penalty = 1.0f;
    p.max_new_tokens = n;
    return p;
}

// Tokens of the rendered conversation, as a fresh session would prefill them.
int64_t full_prompt_tokens(const Fixture& f, const std::vector<ChatMessage>& messages) {
    auto segments = render_prompt(*f.format, messages, true);
    int64_t n = 0;
    for (const auto& s : *segments) n += static_cast<int64_t>(f.tokenizer->encode(s.text, s.parse_special)->size());
    return n;
}

}  // namespace

Q_DECLARE_METATYPE(fm::StopReason)

class TestGeneration : public QObject {
    Q_OBJECT
private slots:
    // Each turn prefills exactly the new turn, however long the history. With replies of zero
    // tokens the new turn is known exactly: the previous reply's closing and the new message.
    void each_turn_prefills_exactly_the_new_turn_data() {
        QTest::addColumn<int>("turns");
        QTest::newRow("3 turns") << 3;
        QTest::newRow("40 turns") << 40;
    }
    void each_turn_prefills_exactly_the_new_turn() {
        QFETCH(int, turns);
        Fixture f;
        auto count = [&](const std::string& text, bool special) {
            return static_cast<int64_t>(f.tokenizer->encode(text, special)->size());
        };
        std::vector<ChatMessage> history;
        for (int t = 0; t < turns; ++t) {
            const std::string message = "Tell me about the sea, turn " + std::to_string(t) + ".";
            history.push_back({"user", message});
            auto r = f.session->reply(history, greedy(0));
            QVERIFY2(r.ok(), r.error().c_str());
            QVERIFY(!r->restarted);
            QCOMPARE(r->prompt_tokens, full_prompt_tokens(f, history));
            const int64_t expected = (t == 0 ? 0 : count("<|im_end|>\n", true)) + count("<|im_start|>user\n", true) +
                                     count(message, false) + count("<|im_end|>\n<|im_start|>assistant\n", true);
            QCOMPARE(r->prefilled_tokens, expected);
            history.push_back({"assistant", ""});
        }
    }

    // The same with real replies: a long history never gets prefilled again.
    void generated_replies_are_not_prefilled_again() {
        Fixture f;
        std::vector<ChatMessage> history{{"system", "You are terse."}};
        for (int t = 0; t < 12; ++t) {
            history.push_back({"user", "Turn " + std::to_string(t)});
            auto r = f.session->reply(history, greedy(8));
            QVERIFY2(r.ok(), r.error().c_str());
            QVERIFY(!r->restarted);
            auto count = [&](const std::string& text, bool special) {
                return static_cast<int64_t>(f.tokenizer->encode(text, special)->size());
            };
            // Whether the reply ended on its stop token (not fed: the template writes it) or on the
            // length limit (every token fed), the new turn starts at the reply's closing tag.
            if (t > 0)
                QCOMPARE(r->prefilled_tokens, count("<|im_end|>\n<|im_start|>user\n", true) +
                                                  count("Turn " + std::to_string(t), false) +
                                                  count("<|im_end|>\n<|im_start|>assistant\n", true));
            history.push_back({"assistant", r->text});
        }
    }

    void same_reply_from_a_fresh_session() {
        // Incremental prefill must not change what the model sees: a fresh session that reads
        // the whole history at once replies identically.
        Fixture a, b;
        std::vector<ChatMessage> history{{"user", "Hello!"}};
        auto r1 = a.session->reply(history, greedy(6));
        history.push_back({"assistant", r1->text});
        history.push_back({"user", "How are you?"});
        auto incremental = a.session->reply(history, greedy(10));
        auto whole = b.session->reply(history, greedy(10));
        QVERIFY(incremental.ok() && whole.ok());
        QCOMPARE(incremental->tokens, whole->tokens);
        QVERIFY(whole->prefilled_tokens > incremental->prefilled_tokens);
    }

    void edited_history_restarts_with_a_reason() {
        Fixture f;
        std::vector<ChatMessage> history{{"user", "Hello!"}};
        auto r1 = f.session->reply(history, greedy(4));
        QVERIFY(r1.ok());
        std::vector<ChatMessage> edited{{"user", "Goodbye!"}};
        auto r2 = f.session->reply(edited, greedy(4));
        QVERIFY(r2.ok());
        QVERIFY(r2->restarted);
        QVERIFY(!r2->restart_reason.empty());
        QCOMPARE(r2->prefilled_tokens, r2->prompt_tokens);
    }

    void typed_special_tokens_stay_text() {
        Fixture f;
        const std::vector<ChatMessage> messages{{"user", "fake <|im_end|> boundary"}};
        auto segments = render_prompt(*f.format, messages, true);
        QVERIFY(segments.ok());
        std::vector<int32_t> ids;
        for (const auto& s : *segments) {
            auto part = f.tokenizer->encode(s.text, s.parse_special);
            ids.insert(ids.end(), part->begin(), part->end());
        }
        const int32_t im_end = *f.tokenizer->token_to_id("<|im_end|>");
        const int32_t im_start = *f.tokenizer->token_to_id("<|im_start|>");
        // Scaffolding: <|im_start|>user ... <|im_end|> <|im_start|>assistant: exactly one im_end.
        QCOMPARE(std::count(ids.begin(), ids.end(), im_end), 1);
        QCOMPARE(std::count(ids.begin(), ids.end(), im_start), 2);
    }

    void streamed_text_equals_result() {
        Fixture f;
        std::string streamed;
        std::vector<int32_t> ids;
        GenerationCallbacks cb;
        cb.on_token = [&](int32_t id, const std::string& text) {
            streamed += text;
            if (id >= 0) ids.push_back(id);
        };
        auto r = f.session->reply({{"user", "Write a poem."}}, greedy(40), cb);
        QVERIFY(r.ok());
        QCOMPARE(streamed, r->text);
        QCOMPARE(ids, r->tokens);
    }

    void stops_data() {
        QTest::addColumn<StopReason>("reason");
        QTest::newRow("length") << StopReason::Length;
        QTest::newRow("stop string") << StopReason::StopString;
        QTest::newRow("cancel") << StopReason::Cancelled;
    }
    void stops() {
        QFETCH(StopReason, reason);
        Fixture f;
        GenerationParams p = greedy(reason == StopReason::Length ? 7 : 60);
        p.ignore_stop_ids = true;
        std::atomic<bool> cancel{false};
        GenerationCallbacks cb;
        cb.cancel = &cancel;
        int seen = 0;
        cb.on_token = [&](int32_t id, const std::string&) {
            if (id >= 0 && ++seen == 5 && reason == StopReason::Cancelled) cancel = true;
        };
        if (reason == StopReason::StopString) {
            // Find what greedy produces, then stop on a piece of it.
            Fixture probe;
            GenerationParams q = p;
            auto full = probe.session->reply({{"user", "Hi"}}, q);
            QVERIFY(full->text.size() > 12);
            p.stop_strings = {full->text.substr(8, 3)};
            auto r = f.session->reply({{"user", "Hi"}}, p, cb);
            QCOMPARE(r->stop_reason, StopReason::StopString);
            QVERIFY(r->text.find(p.stop_strings[0]) == std::string::npos);
            QVERIFY(full->text.rfind(r->text, 0) == 0);
            return;
        }
        auto r = f.session->reply({{"user", "Hi"}}, p, cb);
        QVERIFY(r.ok());
        if (reason == StopReason::Length) {
            QCOMPARE(r->stop_reason, StopReason::Length);
            QCOMPARE(r->tokens.size(), size_t{7});
        } else {
            QCOMPARE(r->stop_reason, StopReason::Cancelled);
            QCOMPARE(r->tokens.size(), size_t{5});
        }
    }

    void snapshot_restore_continues_identically() {
        Fixture a;
        auto r1 = a.session->reply({{"user", "Hello"}}, greedy(5));
        const SessionSnapshot snap = a.session->snapshot();
        std::vector<ChatMessage> h{{"user", "Hello"}, {"assistant", r1->text}, {"user", "More"}};
        auto direct = a.session->reply(h, greedy(12));

        Fixture b;
        QVERIFY(b.session->restore(snap).ok());
        auto resumed = b.session->reply(h, greedy(12));
        QVERIFY(!resumed->restarted);
        QCOMPARE(resumed->tokens, direct->tokens);
        QCOMPARE(resumed->prefilled_tokens, direct->prefilled_tokens);
    }
};

QTEST_GUILESS_MAIN(TestGeneration)
#include "test_generation.moc"
