// falcon-mamba-cli serve: the loaded model on an OpenAI-compatible HTTP API until Ctrl+C.

#include <csignal>
#include <ostream>
#include <sstream>
#include <thread>

#include "app/cli/cli.h"
#include "app/cli/model_loading.h"
#include "app/server/api_server.h"

namespace fm::cli {
namespace {

int fail(std::ostream& err, const std::string& message) {
    err << "falcon-mamba-cli serve: " << message << "\n";
    return 1;
}

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ','))
        if (!item.empty()) out.push_back(item);
    return out;
}

}  // namespace

int cmd_serve(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    std::set<std::string> options = kModelOptions;
    options.insert({"--host", "--port", "--api-key", "--cache-states", "--queue", "--max-tokens-cap", "--cors-origins",
                    "--model-id"});
    std::set<std::string> flags = kModelFlags;
    flags.insert("--verbose");
    auto args = Args::parse(argv, flags, options);
    if (!args) return fail(err, args.error());
    server::ServerOptions so;
    so.host = args->get("--host", "127.0.0.1");
    so.api_key = args->get("--api-key");
    so.cors_origins = split_commas(args->get("--cors-origins"));
    so.verbose = args->has("--verbose");
    so.model_id = args->get("--model-id");
    auto port = args->get_int("--port", 8080);
    auto cache_states = args->get_int("--cache-states", 8);
    auto queue = args->get_int("--queue", 16);
    auto cap = args->get_int("--max-tokens-cap", 4096);
    for (const auto* r : {&port, &cache_states, &queue, &cap})
        if (!*r) return fail(err, r->error());
    if (*port < 0 || *port > 65535) return fail(err, "--port must be between 0 and 65535");
    if (*cache_states < 0 || *cache_states > 4096) return fail(err, "--cache-states must be between 0 and 4096");
    if (*queue < 0 || *queue > 100000) return fail(err, "--queue must be between 0 and 100000");
    if (*cap < 1 || *cap > 1000000) return fail(err, "--max-tokens-cap must be between 1 and 1000000");
    so.port = static_cast<int>(*port);
    so.cache_states = static_cast<int>(*cache_states);
    so.max_waiting = static_cast<size_t>(*queue);
    so.limits.max_tokens_cap = static_cast<int32_t>(*cap);
    so.limits.default_max_tokens = std::min(so.limits.default_max_tokens, so.limits.max_tokens_cap);
    if (!server::is_loopback_host(so.host) && so.api_key.empty())
        return fail(err,
                    "serving on " + so.host + " makes the model reachable from other machines: give --api-key KEY");

    auto model = load_model(*args, err, TokenizerPolicy::Required);
    if (!model) return fail(err, model.error());

    // Writing to a client that hung up must fail the write, not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    // Ctrl+C and SIGTERM stop the server cleanly: every thread started from here on has them
    // blocked, and one thread waits for them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    server::ApiServer api(**model, so);
    auto bound = api.bind();
    if (!bound) return fail(err, bound.error());
    out << "listening on http://" << so.host << ":" << *bound << " (model '" << api.options().model_id << "' on "
        << (*model)->backend().name() << ")" << std::endl;
    std::thread waiter([&] {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        api.stop();
    });
    const bool ok = api.serve();
    if (!ok) {
        // serve() returned without a signal: wake the waiter so it can be joined.
        pthread_kill(waiter.native_handle(), SIGTERM);
    }
    waiter.join();
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
    err << "falcon-mamba-cli serve: stopped\n";
    return ok ? 0 : 1;
}

}  // namespace fm::cli
