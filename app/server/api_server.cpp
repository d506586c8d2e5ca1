#include "app/server/api_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <iostream>
#include <random>

#include <nlohmann/json.hpp>

#include "app/server/connection_probe.h"
#include "app/server/inference_queue.h"

namespace fm::server {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// How often a waiting connection looks for text and for a hang-up: well under one token.
constexpr std::chrono::milliseconds kPollInterval{10};

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// What the handler learnt, for the request's one log line (the logger runs on the same thread
// right after the response is written).
thread_local std::string t_log_note;

const char* error_type_for(int status) {
    switch (status) {
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 413: return "invalid_request_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

void send_error(httplib::Response& res, ApiError error) {
    if (error.type.empty() || error.type == "invalid_request_error") error.type = error_type_for(error.status);
    res.status = error.status;
    res.set_content(error_body(error), "application/json");
}

std::string finish_reason(StopReason r) {
    return r == StopReason::Length ? "length" : "stop";
}

json usage_json(const Job& job) {
    const int64_t completion = static_cast<int64_t>(job.result.tokens.size());
    const int64_t prompt = static_cast<int64_t>(job.prompt.size());
    return {{"prompt_tokens", prompt},
            {"completion_tokens", completion},
            {"total_tokens", prompt + completion},
            {"prompt_tokens_details", {{"cached_tokens", job.cached_tokens}}}};
}

std::string random_id(const char* prefix) {
    static std::atomic<uint64_t> counter{0};
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s-%016llx%04llx", prefix, static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(counter++ & 0xffff));
    return buf;
}

}  // namespace

bool is_loopback_host(const std::string& host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

struct ApiServer::Impl {
    Model& model;
    ServerOptions options;
    InferenceQueue queue;
    httplib::Server http;
    std::mt19937_64 seeds{std::random_device{}()};
    std::mutex seeds_mutex;
    int listen_socket = -1;

    void widen_backlog() const {
        if (listen_socket >= 0) ::listen(listen_socket, 1024);  // Linux updates a listening socket's backlog
    }

    Impl(Model& m, ServerOptions o)
        : model(m),
          options(std::move(o)),
          queue(m, options.max_waiting,
                static_cast<int64_t>(std::max(0, options.cache_states)) * InferenceQueue::bytes_per_cached_state(m)) {
        if (options.model_id.empty()) options.model_id = m.checkpoint_dir().filename().string();
        if (options.model_id.empty()) options.model_id = m.checkpoint_dir().parent_path().filename().string();
        if (!options.log) options.log = [](const std::string& line) { std::cerr << line << std::endl; };
        routes();
    }

    uint64_t random_seed() {
        std::lock_guard lock(seeds_mutex);
        return seeds();
    }

    bool authorized(const httplib::Request& req) const {
        if (options.api_key.empty()) return true;
        const std::string auth = req.get_header_value("Authorization");
        const std::string expected = "Bearer " + options.api_key;
        // Compare in constant time so the key cannot be guessed a character at a time.
        if (auth.size() != expected.size()) return false;
        unsigned diff = 0;
        for (size_t i = 0; i < auth.size(); ++i) diff |= static_cast<unsigned char>(auth[i] ^ expected[i]);
        return diff == 0;
    }

    void add_cors(const httplib::Request& req, httplib::Response& res) const {
        const std::string origin = req.get_header_value("Origin");
        if (origin.empty()) return;
        for (const auto& allowed : options.cors_origins)
            if (allowed == origin || allowed == "*") {
                res.set_header("Access-Control-Allow-Origin", origin);
                res.set_header("Vary", "Origin");
                res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
                res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
                return;
            }
    }

    void routes() {
        http.new_task_queue = [n = std::max(1, options.http_threads)] {
            return new httplib::ThreadPool(static_cast<size_t>(n));
        };
        http.set_payload_max_length(options.max_body_bytes);
        http.set_read_timeout(options.read_timeout_seconds, 0);
        http.set_write_timeout(options.read_timeout_seconds, 0);
        http.set_keep_alive_timeout(2);
        http.set_keep_alive_max_count(1000);  // a conversation's turns reuse one connection
        // Streamed tokens are small writes: without this, Nagle holds each behind the client's
        // delayed ACK (40 ms a token).
        http.set_tcp_nodelay(true);
        // Remember the listening socket: Debian's build listens with a backlog of 5, which makes
        // a burst of connections wait seconds for SYN retries; bind() raises it.
        http.set_socket_options([this](socket_t sock) {
            httplib::default_socket_options(sock);
            listen_socket = sock;
        });
        http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) return;
            ApiError e{res.status, "", ""};
            if (res.status == 404)
                e.message = "no such endpoint: " + req.method + " " + req.path;
            else if (res.status == 413)
                e.message = "the request body is larger than this server accepts";
            else
                e.message = std::string("the request could not be read (HTTP ") + std::to_string(res.status) + ")";
            send_error(res, e);
        });
        http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
            send_error(res, ApiError{500, "internal error while serving the request", "", "server_error"});
        });
        http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
            t_log_note.clear();
            add_cors(req, res);
            if (req.method == "OPTIONS") {  // a browser's preflight: only configured origins get the headers
                res.status = options.cors_origins.empty() ? 404 : 204;
                return httplib::Server::HandlerResponse::Handled;
            }
            if (req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
            if (!authorized(req)) {
                send_error(res, ApiError{401,
                                         req.has_header("Authorization")
                                             ? "the API key is wrong"
                                             : "an API key is required (Authorization: Bearer KEY)",
                                         "", "authentication_error", "invalid_api_key"});
                return httplib::Server::HandlerResponse::Handled;
            }
            return httplib::Server::HandlerResponse::Unhandled;
        });
        http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
            std::string line = req.remote_addr + " " + req.method + " " + req.path + " " + std::to_string(res.status);
            if (!t_log_note.empty()) line += " " + t_log_note;
            if (options.verbose && !req.body.empty()) line += " body=" + req.body;
            t_log_note.clear();
            options.log(line);
        });

        http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
            const QueueStats s = queue.stats();
            res.set_content(dump({{"status", "ok"},
                                  {"model", options.model_id},
                                  {"requests_served", s.served},
                                  {"requests_waiting", s.waiting},
                                  {"requests_cancelled", s.cancelled},
                                  {"cache_hits", s.cache_hits},
                                  {"cache_entries", s.cache_entries},
                                  {"cache_bytes", s.cache_bytes}}),
                            "application/json");
        });
        http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
            json m = {{"id", options.model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "local"}};
            res.set_content(dump({{"object", "list"}, {"data", json::array({m})}}), "application/json");
        });
        http.Get(R"(/v1/models/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
            if (req.matches[1] != options.model_id) {
                send_error(res, ApiError{404, "no model named '" + req.matches[1].str() + "'", "model", "",
                                         "model_not_found"});
                return;
            }
            res.set_content(
                dump({{"id", options.model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "local"}}),
                "application/json");
        });
        http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
            complete(req, res, Endpoint::ChatCompletions);
        });
        http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
            complete(req, res, Endpoint::Completions);
        });
    }

    // The prompt's tokens exactly as a fresh session would read them.
    Result<std::vector<int32_t>> prompt_tokens(const CompletionRequest& r) const {
        const Tokenizer* tokenizer = model.tokenizer();
        if (!tokenizer) return Error{"this model has no tokenizer files, so it cannot read text"};
        if (r.endpoint == Endpoint::Completions) return tokenizer->encode(r.prompt, false);
        auto segments = render_prompt(*model.chat_format(), r.messages, true);
        if (!segments) return Error{"messages: " + segments.error()};
        std::vector<int32_t> ids;
        for (const auto& seg : *segments) {
            auto part = tokenizer->encode(seg.text, seg.parse_special);
            if (!part) return Error{part.error()};
            ids.insert(ids.end(), part->begin(), part->end());
        }
        return ids;
    }

    void complete(const httplib::Request& req, httplib::Response& res, Endpoint endpoint) {
        ParsedRequest parsed = parse_completion_request(req.body, endpoint, options.limits, random_seed());
        if (!parsed.request) {
            t_log_note = "rejected: " + parsed.error.param;
            send_error(res, parsed.error);
            return;
        }
        CompletionRequest& r = *parsed.request;
        auto ids = prompt_tokens(r);
        if (!ids) {
            send_error(res, ApiError{400, ids.error(), endpoint == Endpoint::Completions ? "prompt" : "messages"});
            return;
        }
        auto job = std::make_shared<Job>();
        job->prompt = std::move(*ids);
        job->params = r.params;
        auto probe = std::make_shared<ConnectionProbe>(
            ConnectionProbe::find(req.local_addr, req.local_port, req.remote_addr, req.remote_port));
        job->client_gone = [probe] { return probe->peer_gone(); };
        if (endpoint == Endpoint::ChatCompletions && model.chat_format()->mode() != ChatMode::Completion)
            job->resent_reply_tokens = [tokenizer = model.shared_tokenizer()](const std::string& reply) {
                return tokenizer->encode(reply, false);  // a message's content: specials stay text
            };
        if (!queue.submit(job)) {
            res.set_header("Retry-After", "2");
            send_error(res, ApiError{503, "the server is busy: too many requests are waiting; retry shortly", "",
                                     "server_error", "server_overloaded"});
            return;
        }
        const bool chat = endpoint == Endpoint::ChatCompletions;
        const std::string id = random_id(chat ? "chatcmpl" : "cmpl");
        const auto created = static_cast<int64_t>(std::time(nullptr));
        if (r.stream)
            stream(res, job, probe, chat, id, created, r.include_usage);
        else
            whole(res, job, *probe, chat, id, created);
    }

    void note(const Job& job) const {
        t_log_note = "prompt=" + std::to_string(job.prompt.size()) + " cached=" + std::to_string(job.cached_tokens) +
                     " completion=" + std::to_string(job.result.tokens.size()) +
                     " finish=" + (job.cancel ? std::string("cancelled") : finish_reason(job.result.stop_reason));
    }

    json envelope(bool chat, const std::string& id, int64_t created, bool chunk) const {
        return {{"id", id},
                {"object", chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion"},
                {"created", created},
                {"model", options.model_id}};
    }

    void whole(httplib::Response& res, const std::shared_ptr<Job>& job, const ConnectionProbe& probe, bool chat,
               const std::string& id, int64_t created) {
        bool finished = false;
        while (!finished) {
            job->take_text(kPollInterval, finished);
            if (!finished && probe.peer_gone()) {
                job->cancel = true;  // nobody will read the answer
                t_log_note = "client gone";
                return;
            }
        }
        if (!job->error.empty()) {
            send_error(res, ApiError{500, "generation failed: " + job->error, "", "server_error"});
            return;
        }
        json choice = {{"index", 0}, {"finish_reason", finish_reason(job->result.stop_reason)}, {"logprobs", nullptr}};
        if (chat)
            choice["message"] = {{"role", "assistant"}, {"content", job->result.text}};
        else
            choice["text"] = job->result.text;
        json body = envelope(chat, id, created, false);
        body["choices"] = json::array({choice});
        body["usage"] = usage_json(*job);
        note(*job);
        res.set_content(dump(body), "application/json");
    }

    void stream(httplib::Response& res, const std::shared_ptr<Job>& job, const std::shared_ptr<ConnectionProbe>& probe,
                bool chat, const std::string& id, int64_t created, bool include_usage) {
        res.set_header("Cache-Control", "no-cache");
        json base = envelope(chat, id, created, true);
        res.set_chunked_content_provider("text/event-stream", [this, job, probe, chat, base, include_usage](
                                                                  size_t, httplib::DataSink& sink) {
            auto send = [&](const json& chunk) {
                const std::string line = "data: " + dump(chunk) + "\n\n";
                return sink.write(line.data(), line.size());
            };
            auto piece = [&](const std::string& text, const json& finish) {
                json chunk = base;
                json choice = {{"index", 0}, {"finish_reason", finish}};
                if (chat)
                    choice["delta"] = text.empty() && finish.is_null() ? json{{"role", "assistant"}, {"content", ""}}
                                      : finish.is_null()               ? json{{"content", text}}
                                                                       : json::object();
                else {
                    choice["text"] = text;
                    choice["logprobs"] = nullptr;
                }
                chunk["choices"] = json::array({choice});
                return send(chunk);
            };
            auto give_up = [&] {
                job->cancel = true;
                t_log_note = "client gone";
                return false;
            };
            if (chat && !piece("", nullptr)) return give_up();
            bool finished = false;
            while (!finished) {
                const std::string text = job->take_text(kPollInterval, finished);
                if (!text.empty() && !piece(text, nullptr)) return give_up();
                if (!finished && probe->peer_gone()) return give_up();
            }
            if (!job->error.empty()) {
                send(json::parse(error_body(ApiError{500, "generation failed: " + job->error, "", "server_error"})));
            } else {
                if (!piece("", finish_reason(job->result.stop_reason))) return give_up();
                if (include_usage) {
                    json chunk = base;
                    chunk["choices"] = json::array();
                    chunk["usage"] = usage_json(*job);
                    if (!send(chunk)) return give_up();
                }
            }
            const std::string done = "data: [DONE]\n\n";
            if (!sink.write(done.data(), done.size())) return give_up();
            note(*job);
            sink.done();
            return true;
        });
    }
};

ApiServer::ApiServer(Model& model, ServerOptions options) : impl_(std::make_unique<Impl>(model, std::move(options))) {}

ApiServer::~ApiServer() {
    stop();
}

const ServerOptions& ApiServer::options() const {
    return impl_->options;
}

Result<int> ApiServer::bind() {
    const ServerOptions& o = impl_->options;
    if (!is_loopback_host(o.host) && o.api_key.empty())
        return Error{"serving on " + o.host + " makes the model reachable from other machines: give --api-key KEY"};
    if (o.port < 0 || o.port > 65535) return Error{"port " + std::to_string(o.port) + " is out of range"};
    if (!impl_->model.tokenizer()) return Error{"the model has no tokenizer files; the API needs text"};
    if (o.port == 0) {
        const int port = impl_->http.bind_to_any_port(o.host);
        if (port <= 0) return Error{"cannot listen on " + o.host + ": no free port or a bad address"};
        impl_->widen_backlog();
        return port;
    }
    if (!impl_->http.bind_to_port(o.host, o.port))
        return Error{"cannot listen on " + o.host + ":" + std::to_string(o.port) +
                     " (is the port in use, or the address not this machine's?)"};
    impl_->widen_backlog();
    return o.port;
}

bool ApiServer::serve() {
    return impl_->http.listen_after_bind();
}

void ApiServer::stop() {
    impl_->http.stop();
}

}  // namespace fm::server
