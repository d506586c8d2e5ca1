#pragma once
// The OpenAI-compatible HTTP API over one loaded model: GET /v1/models and /health,
// POST /v1/chat/completions and /v1/completions (streamed as server-sent events or not).
// HTTP comes from cpp-httplib (Debian's libcpp-httplib-dev, see docs/api.md for why); it stays
// inside api_server.cpp so nothing else compiles against it.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/server/api_request.h"
#include "inference/core/result.h"
#include "inference/model/model.h"

namespace fm::server {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                        // 0: any free port (bind() says which)
    std::string api_key;                    // required when host is not a loopback address
    std::vector<std::string> cors_origins;  // browser origins allowed; none by default
    size_t max_body_bytes = 8u << 20;
    size_t max_waiting = 16;  // requests queued behind the running one; more get 503
    int cache_states = 8;     // prefix cache budget, in model states (0: no cache)
    RequestLimits limits;
    int http_threads = 64;                             // connections served at once (each waits on its own request)
    int read_timeout_seconds = 10;                     // a client that stalls mid-request is dropped after this
    bool verbose = false;                              // log request bodies too
    std::string model_id;                              // the name in /v1/models; default: the checkpoint folder's name
    std::function<void(const std::string& line)> log;  // one line per request; default: stderr
};

bool is_loopback_host(const std::string& host);

class ApiServer {
public:
    ApiServer(Model& model, ServerOptions options);
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    // Checks the options and binds the socket; returns the bound port.
    Result<int> bind();
    // Serves until stop() (call bind() first). Returns false when the server could not run.
    bool serve();
    void stop();
    const ServerOptions& options() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace fm::server
