#pragma once
// Whether the client of a request is still there. cpp-httplib 0.11 does not hand handlers
// their socket, so the probe finds it once by its address pair (a TCP connection's four-tuple
// is unique while the handler holds it open), then asks the kernel whether the peer has hung
// up. That lets a generation stop within one token of a disconnect, streamed or not.

#include <string>

namespace fm::server {

class ConnectionProbe {
public:
    ConnectionProbe() = default;
    static ConnectionProbe find(const std::string& local_addr, int local_port, const std::string& remote_addr,
                                int remote_port);
    // True once the peer has closed or reset the connection. A probe that found no socket
    // never reports a hang-up (writes still fail then).
    bool peer_gone() const;
    bool found() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

}  // namespace fm::server
