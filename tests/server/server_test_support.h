#pragma once
// A plain-socket HTTP client and an in-process API server on a free 127.0.0.1 port, for the
// server tests and bench_server. The client sends exactly the bytes a test writes, so broken
// requests reach the server as sent.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/server/api_server.h"

namespace fm::test {

inline int connect_local(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

inline bool send_all(int fd, const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<size_t>(n);
    }
    return true;
}

// Reads until the peer closes or `timeout` passes without data.
inline std::string read_all(int fd, std::chrono::milliseconds timeout = std::chrono::milliseconds(30000)) {
    std::string out;
    char buf[65536];
    while (true) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) break;
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

struct HttpReply {
    int status = 0;                              // 0: no response
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;                            // de-chunked
};

inline HttpReply parse_reply(const std::string& raw) {
    HttpReply r;
    const size_t head_end = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) return r;
    r.status = std::stoi(raw.substr(9, 3));
    size_t pos = raw.find("\r\n") + 2;
    while (pos < head_end) {
        const size_t eol = raw.find("\r\n", pos);
        const std::string line = raw.substr(pos, eol - pos);
        const size_t colon = line.find(':');
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
        pos = eol + 2;
    }
    std::string body = raw.substr(head_end + 4);
    if (r.headers["transfer-encoding"] == "chunked") {
        std::string plain;
        size_t p = 0;
        while (p < body.size()) {
            const size_t eol = body.find("\r\n", p);
            if (eol == std::string::npos) break;
            const size_t n = std::stoul(body.substr(p, eol - p), nullptr, 16);
            if (n == 0) break;
            plain += body.substr(eol + 2, n);
            p = eol + 2 + n + 2;
        }
        body = plain;
    }
    r.body = body;
    return r;
}

inline std::string request_text(const std::string& method, const std::string& path, const std::string& body,
                                const std::string& extra_headers = "") {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra_headers;
    if (method == "POST")
        req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    return req + "\r\n" + body;
}

inline HttpReply http(int port, const std::string& method, const std::string& path, const std::string& body = "",
                      const std::string& extra_headers = "") {
    const int fd = connect_local(port);
    if (fd < 0) return {};
    send_all(fd, request_text(method, path, body, extra_headers));
    HttpReply r = parse_reply(read_all(fd));
    close(fd);
    return r;
}

// The server on its own thread with its own copy of the model (a model's backend holds one
// recurrent state, so two servers must not share one); stops and joins when destroyed.
class RunningServer {
public:
    RunningServer(const std::string& model_dir, server::ServerOptions options) {
        auto model = Model::load(model_dir, {.backend = {.kind = BackendKind::Cpu}});
        if (!model) {
            error_ = model.error();
            return;
        }
        model_ = std::move(*model);
        options.host = "127.0.0.1";
        options.port = 0;
        if (!options.log) options.log = [](const std::string&) {};
        server_ = std::make_unique<server::ApiServer>(*model_, std::move(options));
        auto bound = server_->bind();
        if (!bound) {
            error_ = bound.error();
            return;
        }
        port_ = *bound;
        thread_ = std::thread([this] { server_->serve(); });
        // Wait until it answers, so tests never race the listener.
        for (int i = 0; i < 200 && http(port_, "GET", "/health").status != 200; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ~RunningServer() {
        if (thread_.joinable()) {
            server_->stop();
            thread_.join();
        }
    }
    int port() const { return port_; }
    const std::string& error() const { return error_; }

private:
    std::unique_ptr<Model> model_;
    std::unique_ptr<server::ApiServer> server_;
    std::thread thread_;
    int port_ = 0;
    std::string error_;
};

// `falcon-mamba-cli serve` as a child process on a free port (for what must not share this
// process's descriptors or memory: many connections, the server's own RSS).
class ServerProcess {
public:
    ServerProcess(const std::string& cli_path, std::vector<std::string> args) {
        int out[2];
        if (pipe(out) != 0) return;
        args.insert(args.begin(), {cli_path, "serve", "--port", "0"});
        pid_ = fork();
        if (pid_ == 0) {
            dup2(out[1], 1);
            close(out[0]);
            const int quiet = open("/dev/null", O_WRONLY);  // one log line per request: not in test output
            dup2(quiet, 2);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(cli_path.c_str(), argv.data());
            _exit(127);
        }
        close(out[1]);
        // The first line says where it listens: "listening on http://127.0.0.1:PORT (...)".
        std::string line;
        char c;
        while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
        close(out[0]);
        const size_t colon = line.find(':', line.find("127.0.0.1"));
        if (colon != std::string::npos) port_ = std::atoi(line.c_str() + colon + 1);
    }
    ~ServerProcess() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            waitpid(pid_, nullptr, 0);
        }
    }
    int port() const { return port_; }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace fm::test
