// The API server over HTTP on 127.0.0.1 with the tiny chat checkpoint: OpenAI response shapes,
// greedy replies equal to falcon-mamba-cli generate, streaming, the prefix cache's exactness,
// and each class of bad input getting its status while the server keeps serving.

#include <QtTest>

#include <atomic>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/cli/cli.h"
#include "tests/server/server_test_support.h"

using namespace fm;
using namespace fm::test;
using json = nlohmann::json;

namespace {

const std::string kChatDir = std::string(FM_TEST_DATA_DIR) + "/tiny-chat";

struct CliRun {
    int code;
    std::string out, err;
};
CliRun run_cli_command(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    std::istringstream in;
    const int code = fm::cli::run_cli(args, out, err, in);
    return {code, out.str(), err.str()};
}

// generate --print-ids writes the text, a newline, then the ids as a JSON line.
std::pair<std::string, json> text_and_ids(const std::string& out) {
    const size_t last = out.rfind('\n', out.size() - 2);
    return {out.substr(0, last), json::parse(out.substr(last + 1))};
}

json chat_body(const json& messages, const json& extra = json::object()) {
    json body = {{"model", "tiny-chat"}, {"messages", messages}};
    body.update(extra);
    return body;
}

std::vector<json> sse_events(const std::string& body, bool& saw_done) {
    std::vector<json> events;
    saw_done = false;
    std::istringstream lines(body);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind("data: ", 0) != 0) continue;
        const std::string data = line.substr(6);
        if (data == "[DONE]")
            saw_done = true;
        else
            events.push_back(json::parse(data));
    }
    return events;
}

bool still_serving(int port) {
    HttpReply r =
        http(port, "POST", "/v1/chat/completions",
             chat_body({{{"role", "user"}, {"content", "Hi"}}}, {{"max_tokens", 3}, {"temperature", 0}}).dump());
    return r.status == 200 && json::parse(r.body)["usage"]["completion_tokens"] == 3;
}

}  // namespace

class TestServer : public QObject {
    Q_OBJECT
    std::unique_ptr<Model> model_;
    std::unique_ptr<RunningServer> server_;
    int port_ = 0;

    HttpReply post(const std::string& path, const json& body, int port = 0) {
        return http(port ? port : port_, "POST", path, body.dump());
    }

private slots:
    void initTestCase() {
        auto model = Model::load(kChatDir, {.backend = {.kind = BackendKind::Cpu}});
        QVERIFY2(model, model.error().c_str());
        model_ = std::move(*model);
        server::ServerOptions options;
        options.read_timeout_seconds = 1;
        server_ = std::make_unique<RunningServer>(kChatDir, options);
        QVERIFY2(server_->error().empty(), server_->error().c_str());
        port_ = server_->port();
    }
    void cleanupTestCase() { server_.reset(); }

    void lists_the_model_and_health() {
        HttpReply models = http(port_, "GET", "/v1/models");
        QCOMPARE(models.status, 200);
        const json m = json::parse(models.body);
        QCOMPARE(m["object"], "list");
        QCOMPARE(m["data"].size(), size_t(1));
        QCOMPARE(m["data"][0]["id"], "tiny-chat");
        QCOMPARE(m["data"][0]["object"], "model");
        QCOMPARE(http(port_, "GET", "/v1/models/tiny-chat").status, 200);
        QCOMPARE(http(port_, "GET", "/v1/models/other").status, 404);
        HttpReply health = http(port_, "GET", "/health");
        QCOMPARE(health.status, 200);
        QCOMPARE(json::parse(health.body)["status"], "ok");
        QVERIFY(models.headers.count("access-control-allow-origin") == 0);  // no CORS unless configured
    }

    void greedy_chat_equals_cli_generate_data() {
        QTest::addColumn<QString>("content");
        QTest::addColumn<int>("max_tokens");
        QTest::newRow("greeting") << "Hello, how are you?" << 24;
        QTest::newRow("short") << "Hi" << 40;
        QTest::newRow("until the stop token") << "Hello, how are you?" << 400;
    }
    void greedy_chat_equals_cli_generate() {
        QFETCH(QString, content);
        QFETCH(int, max_tokens);
        auto expected =
            run_cli_command({"generate", "--model", kChatDir, "--backend", "cpu", "--chat", "-p", content.toStdString(),
                             "-n", std::to_string(max_tokens), "--temp", "0", "--repeat-penalty", "1", "--print-ids"});
        QCOMPARE(expected.code, 0);
        auto [text, ids] = text_and_ids(expected.out);
        HttpReply r = post("/v1/chat/completions", chat_body({{{"role", "user"}, {"content", content.toStdString()}}},
                                                             {{"temperature", 0}, {"max_tokens", max_tokens}}));
        QCOMPARE(r.status, 200);
        const json j = json::parse(r.body);
        QCOMPARE(j["object"], "chat.completion");
        QCOMPARE(j["choices"][0]["message"]["role"], "assistant");
        QCOMPARE(QString::fromStdString(j["choices"][0]["message"]["content"].get<std::string>()),
                 QString::fromStdString(text));
        QCOMPARE(j["usage"]["completion_tokens"].get<size_t>(), ids.size());
        const bool stopped = expected.err.find("\"stop_reason\":\"stop_token\"") != std::string::npos;
        QCOMPARE(j["choices"][0]["finish_reason"], stopped ? "stop" : "length");
        QCOMPARE(j["usage"]["total_tokens"],
                 j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());
    }

    void greedy_conversation_equals_cli_generate_on_the_rendered_prompt() {
        const json messages = {{{"role", "system"}, {"content", "Be brief."}},
                               {{"role", "user"}, {"content", "Hi"}},
                               {{"role", "assistant"}, {"content", "Hello! How can I help?"}},
                               {{"role", "user"}, {"content", "Tell me a story."}}};
        const QString path = QDir::temp().filePath("fm_server_messages.json");
        std::ofstream(path.toStdString()) << messages.dump();
        auto rendered = run_cli_command(
            {"render", "--model", kChatDir, "--messages", path.toStdString(), "--add-generation-prompt"});
        QCOMPARE(rendered.code, 0);
        QString text_path = QDir::temp().filePath("fm_server_rendered.txt");
        std::ofstream(text_path.toStdString()) << rendered.out;
        auto tokens = run_cli_command(
            {"tokenize", "--model", kChatDir, "--parse-special", "--text-file", text_path.toStdString()});
        QCOMPARE(tokens.code, 0);
        std::string csv;
        for (const auto& id : json::parse(tokens.out)) csv += (csv.empty() ? "" : ",") + std::to_string(id.get<int>());
        auto expected = run_cli_command({"generate", "--model", kChatDir, "--backend", "cpu", "--prompt-tokens", csv,
                                         "-n", "30", "--temp", "0", "--repeat-penalty", "1", "--print-ids"});
        QCOMPARE(expected.code, 0);
        auto [text, ids] = text_and_ids(expected.out);
        HttpReply r = post("/v1/chat/completions", chat_body(messages, {{"temperature", 0}, {"max_tokens", 30}}));
        QCOMPARE(r.status, 200);
        const json j = json::parse(r.body);
        QCOMPARE(j["choices"][0]["message"]["content"].get<std::string>(), text);
        QCOMPARE(j["usage"]["completion_tokens"].get<size_t>(), ids.size());
        QCOMPARE(j["usage"]["prompt_tokens"].get<size_t>(), json::parse(tokens.out).size());
    }

    void greedy_completion_equals_cli_generate() {
        auto expected = run_cli_command({"generate", "--model", kChatDir, "--backend", "cpu", "-p", "Once upon a time",
                                         "-n", "20", "--temp", "0", "--repeat-penalty", "1", "--print-ids"});
        QCOMPARE(expected.code, 0);
        auto [text, ids] = text_and_ids(expected.out);
        HttpReply r = post("/v1/completions", {{"prompt", "Once upon a time"}, {"temperature", 0}, {"max_tokens", 20}});
        QCOMPARE(r.status, 200);
        const json j = json::parse(r.body);
        QCOMPARE(j["object"], "text_completion");
        QCOMPARE(j["choices"][0]["text"].get<std::string>(), text);
        QCOMPARE(j["usage"]["completion_tokens"].get<size_t>(), ids.size());
    }

    void streamed_reply_equals_the_whole_reply() {
        const json messages = {{{"role", "user"}, {"content", "Stream this"}}};
        const json params = {{"temperature", 0.8}, {"seed", 11}, {"max_tokens", 25}};
        HttpReply whole = post("/v1/chat/completions", chat_body(messages, params));
        QCOMPARE(whole.status, 200);
        json stream_params = params;
        stream_params["stream"] = true;
        stream_params["stream_options"] = {{"include_usage", true}};
        HttpReply streamed = post("/v1/chat/completions", chat_body(messages, stream_params));
        QCOMPARE(streamed.status, 200);
        QCOMPARE(QString::fromStdString(streamed.headers["content-type"]), QString("text/event-stream"));
        bool done = false;
        auto events = sse_events(streamed.body, done);
        QVERIFY(done);
        QVERIFY(events.size() >= 3);
        QCOMPARE(events.front()["choices"][0]["delta"]["role"], "assistant");
        std::string text;
        for (const auto& e : events)
            if (!e["choices"].empty() && e["choices"][0]["delta"].contains("content"))
                text += e["choices"][0]["delta"]["content"].get<std::string>();
        const json w = json::parse(whole.body);
        QCOMPARE(text, w["choices"][0]["message"]["content"].get<std::string>());
        const json& finish = events[events.size() - 2];
        QCOMPARE(finish["choices"][0]["finish_reason"], w["choices"][0]["finish_reason"]);
        const json& usage = events.back();
        QVERIFY(usage["choices"].empty());
        QCOMPARE(usage["usage"]["completion_tokens"], w["usage"]["completion_tokens"]);
        QCOMPARE(usage["usage"]["prompt_tokens"], w["usage"]["prompt_tokens"]);
        for (const auto& e : events) QCOMPARE(e["object"], "chat.completion.chunk");

        // Without include_usage there is no usage chunk; completions stream text chunks.
        HttpReply plain = post("/v1/completions", {{"prompt", "abc"}, {"max_tokens", 4}, {"stream", true}});
        auto plain_events = sse_events(plain.body, done);
        QVERIFY(done);
        for (const auto& e : plain_events) {
            QCOMPARE(e["object"], "text_completion");
            QVERIFY(!e.contains("usage"));
        }
    }

    void cached_prefix_gives_the_reply_from_scratch_data() {
        QTest::addColumn<double>("temperature");
        QTest::newRow("greedy") << 0.0;
        QTest::newRow("sampled, seeded") << 0.9;
    }
    void cached_prefix_gives_the_reply_from_scratch() {
        QFETCH(double, temperature);
        server::ServerOptions no_cache;
        no_cache.cache_states = 0;
        RunningServer scratch(kChatDir, no_cache);
        RunningServer cached(kChatDir, {});
        const json params = {{"temperature", temperature}, {"seed", 5}, {"max_tokens", 12}};
        json messages = {{{"role", "system"}, {"content", "You are helpful."}}, {{"role", "user"}, {"content", "Hi"}}};
        int64_t previous_prompt = 0;
        for (int turn = 0; turn < 4; ++turn) {
            HttpReply a = post("/v1/chat/completions", chat_body(messages, params), cached.port());
            HttpReply b = post("/v1/chat/completions", chat_body(messages, params), scratch.port());
            QCOMPARE(a.status, 200);
            QCOMPARE(b.status, 200);
            const json ja = json::parse(a.body), jb = json::parse(b.body);
            QCOMPARE(ja["choices"][0]["message"]["content"], jb["choices"][0]["message"]["content"]);
            QCOMPARE(ja["usage"]["completion_tokens"], jb["usage"]["completion_tokens"]);
            QCOMPARE(jb["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
            const int64_t hit = ja["usage"]["prompt_tokens_details"]["cached_tokens"];
            // From the second turn on, the previous prompt and its reply are restored (the reply
            // as the client sends it back), never the whole new prompt.
            if (turn > 0) QVERIFY2(hit > previous_prompt, std::to_string(hit).c_str());
            QVERIFY(hit < ja["usage"]["prompt_tokens"].get<int64_t>() || turn == 0);
            previous_prompt = ja["usage"]["prompt_tokens"];
            messages.push_back({{"role", "assistant"}, {"content", ja["choices"][0]["message"]["content"]}});
            messages.push_back({{"role", "user"}, {"content", "And turn " + std::to_string(turn)}});
        }
        // The same request again: the whole prompt comes from the cache, the reply is the same.
        messages.erase(messages.end() - 2, messages.end());
        HttpReply first = post("/v1/chat/completions", chat_body(messages, params), cached.port());
        HttpReply again = post("/v1/chat/completions", chat_body(messages, params), cached.port());
        const json j1 = json::parse(first.body), j2 = json::parse(again.body);
        QCOMPARE(j2["usage"]["prompt_tokens_details"]["cached_tokens"], j2["usage"]["prompt_tokens"]);
        QCOMPARE(j1["choices"][0]["message"]["content"], j2["choices"][0]["message"]["content"]);
    }

    void stop_strings_and_max_tokens() {
        const json messages = {{{"role", "user"}, {"content", "Hello, how are you?"}}};
        const json full = json::parse(
            post("/v1/chat/completions", chat_body(messages, {{"temperature", 0}, {"max_tokens", 20}})).body);
        const std::string text = full["choices"][0]["message"]["content"];
        QVERIFY(text.size() > 12);
        const std::string stop = text.substr(6, 3);
        const size_t at = text.find(stop);
        for (const json& stop_param : {json(stop), json::array({"never-appears", stop})}) {
            const json j =
                json::parse(post("/v1/chat/completions",
                                 chat_body(messages, {{"temperature", 0}, {"max_tokens", 20}, {"stop", stop_param}}))
                                .body);
            QCOMPARE(j["choices"][0]["message"]["content"].get<std::string>(), text.substr(0, at));
            QCOMPARE(j["choices"][0]["finish_reason"], "stop");
        }
        for (int n : {1, 7}) {
            const json j = json::parse(
                post("/v1/chat/completions", chat_body(messages, {{"temperature", 0}, {"max_completion_tokens", n}}))
                    .body);
            QCOMPARE(j["usage"]["completion_tokens"], n);
            QCOMPARE(j["choices"][0]["finish_reason"], "length");
        }
    }

    void bad_json_and_wrong_types_get_400_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("body");
        QTest::addColumn<QString>("param");
        QTest::newRow("malformed JSON") << "/v1/chat/completions"
                                        << R"({"messages": [{"role": "user", )"
                                        << "";
        QTest::newRow("binary garbage") << "/v1/completions" << QString::fromLatin1("\x01\x02\xff{") << "";
        QTest::newRow("empty body") << "/v1/chat/completions"
                                    << ""
                                    << "";
        QTest::newRow("wrong type: temperature") << "/v1/chat/completions"
                                                 << R"({"messages":[{"role":"user","content":"x"}],"temperature":"1"})"
                                                 << "temperature";
        QTest::newRow("wrong type: messages") << "/v1/chat/completions"
                                              << R"({"messages":{"role":"user"}})"
                                              << "messages";
        QTest::newRow("wrong type: prompt") << "/v1/completions"
                                            << R"({"prompt":{"a":1}})"
                                            << "prompt";
        QTest::newRow("unknown role") << "/v1/chat/completions"
                                      << R"({"messages":[{"role":"robot","content":"x"}]})"
                                      << "messages[0].role";
        QTest::newRow("empty messages") << "/v1/chat/completions"
                                        << R"({"messages":[]})"
                                        << "messages";
        QTest::newRow("n = 3") << "/v1/chat/completions"
                               << R"({"messages":[{"role":"user","content":"x"}],"n":3})"
                               << "n";
    }
    void bad_json_and_wrong_types_get_400() {
        QFETCH(QString, path);
        QFETCH(QString, body);
        QFETCH(QString, param);
        HttpReply r = http(port_, "POST", path.toStdString(), body.toStdString());
        QCOMPARE(r.status, 400);
        const json e = json::parse(r.body)["error"];
        QCOMPARE(e["type"], "invalid_request_error");
        QCOMPARE(QString::fromStdString(e["param"].is_null() ? "" : e["param"].get<std::string>()), param);
        QVERIFY(!e["message"].get<std::string>().empty());
        QVERIFY(still_serving(port_));
    }

    void unknown_paths_get_404() {
        for (auto [method, path] : {std::pair{"GET", "/v1/nothing"}, std::pair{"GET", "/v1/chat/completions"},
                                    std::pair{"POST", "/v1/models"}, std::pair{"GET", "/../../etc/passwd"}}) {
            HttpReply r = http(port_, method, path, method == std::string("POST") ? "{}" : "");
            QCOMPARE(r.status, 404);
            QCOMPARE(json::parse(r.body)["error"]["type"], "not_found_error");
        }
    }

    void a_100_megabyte_body_gets_413() {
        const int fd = connect_local(port_);
        QVERIFY(fd >= 0);
        const size_t size = 100u << 20;
        send_all(fd, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " +
                         std::to_string(size) + "\r\n\r\n");
        // The server may answer before it has read it all; sending stops when it closes.
        const std::string block(1 << 20, 'a');
        for (size_t sent = 0; sent < size; sent += block.size())
            if (!send_all(fd, block)) break;
        HttpReply r = parse_reply(read_all(fd));
        close(fd);
        QCOMPARE(r.status, 413);
        QCOMPARE(json::parse(r.body)["error"]["type"], "invalid_request_error");
        QVERIFY(still_serving(port_));
    }

    void a_stalled_client_is_dropped_and_others_are_served_data() {
        QTest::addColumn<QString>("sent");
        QTest::addColumn<int>("expected_status");
        QTest::newRow("headers, then no body")
            << "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"mess" << 400;
        QTest::newRow("half the headers") << "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-" << 400;
    }
    void a_stalled_client_is_dropped_and_others_are_served() {
        QFETCH(QString, sent);
        QFETCH(int, expected_status);
        const int fd = connect_local(port_);
        QVERIFY(send_all(fd, sent.toStdString()));
        QVERIFY(still_serving(port_));  // while it stalls
        QElapsedTimer timer;
        timer.start();
        HttpReply r = parse_reply(read_all(fd, std::chrono::milliseconds(10000)));
        close(fd);
        QCOMPARE(r.status, expected_status);
        QVERIFY2(timer.elapsed() < 5000, "the read timeout is 1 s");
        QVERIFY(still_serving(port_));
    }

    void five_hundred_concurrent_connections() {
        // A server process of its own: here both ends of every connection would share one
        // descriptor table.
        ServerProcess served(FM_CLI_PATH, {"--model", kChatDir, "--backend", "cpu"});
        QVERIFY(served.port() > 0);
        // All 500 open at once: each sends its request on connecting, none is read before all are.
        std::vector<int> fds;
        for (int i = 0; i < 500; ++i) {
            const int fd = connect_local(served.port());
            QVERIFY2(fd >= 0, ("connection " + std::to_string(i)).c_str());
            fds.push_back(fd);
            const std::string req =
                i % 10 == 0
                    ? request_text("POST", "/v1/chat/completions",
                                   chat_body({{{"role", "user"}, {"content", "x"}}}, {{"max_tokens", 2}}).dump())
                    : request_text("GET", "/v1/models", "");
            QVERIFY(send_all(fd, req));
        }
        std::map<int, int> statuses;
        std::string failure;
        for (int fd : fds) {
            const std::string raw = read_all(fd);
            const int status = parse_reply(raw).status;
            if (status == 0 && failure.empty()) failure = "unanswered, got: '" + raw.substr(0, 200) + "'";
            ++statuses[status];
            close(fd);
        }
        // Every connection is answered: 200, or 503 where the generation queue was full.
        QVERIFY2(failure.empty(), failure.c_str());
        QCOMPARE(statuses[200] + statuses[503], 500);
        QVERIFY(statuses[200] >= 450);
        QVERIFY(still_serving(served.port()));
    }

    void full_queue_gets_503_and_a_disconnect_cancels() {
        server::ServerOptions options;
        options.max_waiting = 1;
        options.limits.max_tokens_cap = 1000000;
        RunningServer busy(kChatDir, options);
        // A: a stream that would run for minutes (this prompt never reaches the stop token).
        int a = connect_local(busy.port());
        send_all(a, request_text("POST", "/v1/chat/completions",
                                 chat_body({{{"role", "user"}, {"content", "Hi"}}},
                                           {{"temperature", 0}, {"max_tokens", 1000000}, {"stream", true}})
                                     .dump()));
        pollfd p{a, POLLIN, 0};
        QVERIFY(poll(&p, 1, 10000) == 1);  // it has started
        // A reads its stream as a client does (a client that stops reading is dropped after
        // the write timeout, which is not what this test is about).
        std::thread a_reader([a] {
            char buf[65536];
            while (recv(a, buf, sizeof buf, 0) > 0) {}
        });
        // A has left the queue for the inference thread (its first chunk comes before that).
        QTRY_COMPARE_WITH_TIMEOUT(json::parse(http(busy.port(), "GET", "/health").body)["requests_waiting"].get<int>(),
                                  0, 10000);
        // B waits behind it.
        std::atomic<int> b_status{-1};
        std::thread b;
        auto hang_up_a = [&] {
            if (a < 0) return;
            shutdown(a, SHUT_RDWR);  // the client hangs up; its reader sees the end
            a_reader.join();
            close(a);
            a = -1;
        };
        auto cleanup = qScopeGuard([&] {  // also when a check fails: B cannot finish while A runs
            hang_up_a();
            if (b.joinable()) b.join();
        });
        b = std::thread([&] {
            b_status = http(busy.port(), "POST", "/v1/chat/completions",
                            chat_body({{{"role", "user"}, {"content", "x"}}}, {{"max_tokens", 2}}).dump())
                           .status;
        });
        QTRY_COMPARE_WITH_TIMEOUT(json::parse(http(busy.port(), "GET", "/health").body)["requests_waiting"].get<int>(),
                                  1, 10000);
        // C finds the queue full.
        HttpReply c = http(busy.port(), "POST", "/v1/chat/completions",
                           chat_body({{{"role", "user"}, {"content", "x"}}}, {{"max_tokens", 2}}).dump());
        QCOMPARE(c.status, 503);
        QVERIFY(c.headers.count("retry-after"));
        QCOMPARE(json::parse(c.body)["error"]["code"], "server_overloaded");
        // A hangs up: its generation stops, so B is served at once.
        hang_up_a();
        QTRY_COMPARE_WITH_TIMEOUT(b_status.load(), 200, 10000);
        b.join();
        const json health = json::parse(http(busy.port(), "GET", "/health").body);
        QCOMPARE(health["requests_cancelled"], 1);
    }

    void serve_command_refuses_bad_options_data() {
        QTest::addColumn<QStringList>("options");
        QTest::addColumn<QString>("message");
        QTest::newRow("another address without a key") << QStringList{"--host", "0.0.0.0"} << "--api-key";
        QTest::newRow("port out of range") << QStringList{"--port", "70000"} << "--port";
        QTest::newRow("negative cache") << QStringList{"--cache-states", "-1"} << "--cache-states";
        QTest::newRow("zero cap") << QStringList{"--max-tokens-cap", "0"} << "--max-tokens-cap";
        QTest::newRow("no model") << QStringList{"--model", "/nonexistent/folder"} << "/nonexistent/folder";
    }
    void serve_command_refuses_bad_options() {
        QFETCH(QStringList, options);
        QFETCH(QString, message);
        std::vector<std::string> args = {"serve", "--model", kChatDir, "--backend", "cpu"};
        for (const auto& o : options) args.push_back(o.toStdString());
        auto r = run_cli_command(args);
        QCOMPARE(r.code, 1);
        QVERIFY2(QString::fromStdString(r.err).contains(message), r.err.c_str());
        QVERIFY(r.out.empty());  // it never said it was listening
    }

    void api_key_is_required_when_set() {
        server::ServerOptions options;
        options.api_key = "sk-local-test";
        RunningServer keyed(kChatDir, options);
        HttpReply none = http(keyed.port(), "GET", "/v1/models");
        QCOMPARE(none.status, 401);
        QCOMPARE(json::parse(none.body)["error"]["code"], "invalid_api_key");
        QCOMPARE(http(keyed.port(), "GET", "/v1/models", "", "Authorization: Bearer sk-local-wrong\r\n").status, 401);
        QCOMPARE(http(keyed.port(), "POST", "/v1/completions", R"({"prompt":"x","max_tokens":1})",
                      "Authorization: Bearer sk-local-tes\r\n")
                     .status,
                 401);
        QCOMPARE(http(keyed.port(), "GET", "/v1/models", "", "Authorization: Bearer sk-local-test\r\n").status, 200);
        QCOMPARE(http(keyed.port(), "GET", "/health").status, 200);  // for monitors; says nothing private
    }

    void other_addresses_need_a_key_and_cors_needs_origins() {
        server::ServerOptions open;
        open.host = "0.0.0.0";
        open.port = 0;
        server::ApiServer refused(*model_, open);
        auto bound = refused.bind();
        QVERIFY(!bound);
        QVERIFY(QString::fromStdString(bound.error()).contains("--api-key"));

        server::ServerOptions cors;
        cors.cors_origins = {"http://localhost:3000"};
        RunningServer with_cors(kChatDir, cors);
        HttpReply allowed = http(with_cors.port(), "GET", "/v1/models", "", "Origin: http://localhost:3000\r\n");
        QCOMPARE(QString::fromStdString(allowed.headers["access-control-allow-origin"]),
                 QString("http://localhost:3000"));
        HttpReply other = http(with_cors.port(), "GET", "/v1/models", "", "Origin: http://evil.example\r\n");
        QCOMPARE(other.headers.count("access-control-allow-origin"), size_t(0));
        HttpReply no_config = http(port_, "GET", "/v1/models", "", "Origin: http://localhost:3000\r\n");
        QCOMPARE(no_config.headers.count("access-control-allow-origin"), size_t(0));
    }
};

QTEST_GUILESS_MAIN(TestServer)
#include "test_server.moc"
