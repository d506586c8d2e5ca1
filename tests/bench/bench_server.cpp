// bench_server: a multi-turn conversation re-sent in full each turn, as OpenAI clients do,
// against `falcon-mamba-cli serve` with and without the prefix cache. Prints JSON: per turn the
// prompt tokens, how many came from the cache, how many were read, time to first token and the
// server's resident memory.
//
//   bench_server [--model DIR] [--turns 30] [--max-tokens 16] [--cli PATH] [--backend cpu|cuda|auto]

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/server/server_test_support.h"

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

int64_t resident_bytes(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
    return -1;
}

struct Turn {
    json usage;
    std::string reply;
    double ttft_ms = -1, total_ms = 0;
};

// One streamed chat request on the conversation's connection (kept alive between turns, as
// HTTP clients do; reopened when the server has closed it). The time to first token is when
// the first text arrives.
Turn stream_turn(int port, int& fd, const json& body) {
    Turn t;
    const auto start = Clock::now();
    std::string request = fm::test::request_text("POST", "/v1/chat/completions", body.dump());
    request.replace(request.find("Connection: close"), 17, "Connection: keep-alive");
    if (fd < 0 || !fm::test::send_all(fd, request)) {
        if (fd >= 0) close(fd);
        fd = fm::test::connect_local(port);
        fm::test::send_all(fd, request);
    }
    std::string raw;
    size_t scanned = 0;
    char buf[65536];
    bool finished = false;
    while (!finished) {
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            close(fd);
            fd = -1;
            break;
        }
        raw.append(buf, static_cast<size_t>(n));
        size_t at;
        while ((at = raw.find("data: ", scanned)) != std::string::npos) {
            const size_t end = raw.find('\n', at);
            if (end == std::string::npos) break;
            scanned = end;
            const std::string data = raw.substr(at + 6, end - at - 6);
            if (data == "[DONE]") continue;
            const json event = json::parse(data, nullptr, false);
            if (event.is_discarded()) continue;
            if (event.contains("usage") && !event["usage"].is_null()) t.usage = event["usage"];
            if (!event["choices"].empty() && event["choices"][0]["delta"].contains("content")) {
                const std::string piece = event["choices"][0]["delta"]["content"];
                if (!piece.empty() && t.ttft_ms < 0)
                    t.ttft_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
                t.reply += piece;
            }
        }
        finished = raw.size() >= 5 && raw.compare(raw.size() - 5, 5, "0\r\n\r\n") == 0;  // the last chunk
    }
    t.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    return t;
}

json run_conversation(const std::string& cli, const std::string& model, const std::string& backend, int cache_states,
                      int turns, int max_tokens, std::vector<std::string>& replies) {
    fm::test::ServerProcess server(
        cli, {"--model", model, "--backend", backend, "--cache-states", std::to_string(cache_states)});
    if (server.port() <= 0) return {{"error", "the server did not start"}};
    json messages = json::array({{{"role", "system"}, {"content", "You are a helpful assistant. Answer briefly."}}});
    json per_turn = json::array();
    int64_t rss_min = INT64_MAX, rss_max = 0;
    int fd = -1;
    for (int i = 0; i < turns; ++i) {
        messages.push_back({{"role", "user"},
                            {"content", "Turn " + std::to_string(i + 1) + ": tell me one more thing about the sea."}});
        json body = {{"model", "bench"},         {"messages", messages}, {"temperature", 0},
                     {"max_tokens", max_tokens}, {"stream", true},       {"stream_options", {{"include_usage", true}}}};
        Turn t = stream_turn(server.port(), fd, body);
        if (t.usage.is_null()) return {{"error", "turn " + std::to_string(i + 1) + " got no usage"}};
        const int64_t prompt = t.usage["prompt_tokens"], cached = t.usage["prompt_tokens_details"]["cached_tokens"];
        const int64_t rss = resident_bytes(server.pid());
        rss_min = std::min(rss_min, rss);
        rss_max = std::max(rss_max, rss);
        per_turn.push_back({{"turn", i + 1},
                            {"prompt_tokens", prompt},
                            {"cached_tokens", cached},
                            {"read_tokens", prompt - cached},
                            {"completion_tokens", t.usage["completion_tokens"]},
                            {"ttft_ms", t.ttft_ms},
                            {"total_ms", t.total_ms},
                            {"server_rss_bytes", rss}});
        replies.push_back(t.reply);
        messages.push_back({{"role", "assistant"}, {"content", t.reply}});
    }
    if (fd >= 0) close(fd);
    // From the second turn on: the first loads code paths and buffers once.
    int64_t later_min = INT64_MAX, later_max = 0, read_min = INT64_MAX, read_max = 0;
    for (size_t i = 1; i < per_turn.size(); ++i) {
        later_min = std::min<int64_t>(later_min, per_turn[i]["server_rss_bytes"]);
        later_max = std::max<int64_t>(later_max, per_turn[i]["server_rss_bytes"]);
        read_min = std::min<int64_t>(read_min, per_turn[i]["read_tokens"]);
        read_max = std::max<int64_t>(read_max, per_turn[i]["read_tokens"]);
    }
    return {{"cache_states", cache_states},
            {"turns", per_turn},
            {"server_rss_min_bytes", rss_min},
            {"server_rss_max_bytes", rss_max},
            {"server_rss_spread_after_turn_1_bytes", later_max - later_min},
            {"read_tokens_after_turn_1", {{"min", read_min}, {"max", read_max}}},
            {"last_turn_ttft_ms", per_turn.back()["ttft_ms"]}};
}

}  // namespace

int main(int argc, char** argv) {
    std::string model = std::string(FM_TEST_DATA_DIR) + "/tiny-chat", cli = FM_CLI_PATH, backend = "cpu";
    int turns = 30, max_tokens = 16;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i], value = argv[i + 1];
        if (key == "--model")
            model = value;
        else if (key == "--cli")
            cli = value;
        else if (key == "--backend")
            backend = value;
        else if (key == "--turns")
            turns = std::atoi(value.c_str());
        else if (key == "--max-tokens")
            max_tokens = std::atoi(value.c_str());
        else {
            std::cerr << "bench_server: unknown option " << key << "\n";
            return 2;
        }
    }
    if (turns < 1 || max_tokens < 1) {
        std::cerr << "bench_server: --turns and --max-tokens must be positive\n";
        return 2;
    }
    std::vector<std::string> with_replies, without_replies;
    json with_cache = run_conversation(cli, model, backend, 8, turns, max_tokens, with_replies);
    json without_cache = run_conversation(cli, model, backend, 0, turns, max_tokens, without_replies);
    json summary = {{"model", model},
                    {"backend", backend},
                    {"turns", turns},
                    {"max_tokens", max_tokens},
                    {"same_replies_with_and_without_cache", with_replies == without_replies},
                    {"with_cache", with_cache},
                    {"without_cache", without_cache}};
    std::cout << summary.dump(2) << "\n";
    return with_cache.contains("error") || without_cache.contains("error") ? 1 : 0;
}
