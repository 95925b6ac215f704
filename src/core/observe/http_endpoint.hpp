// The HTTP endpoint that serves GET /metrics to Prometheus (issue 13), in the metrics worker's
// own process (src/pg/worker/metrics_http): Boost.Beast over a single-threaded, non-blocking Asio
// io_context that the caller runs in its own thread for a bounded time (poll), so no thread and
// no signal handler is ever started inside a PostgreSQL process.
//
// The endpoint only parses requests and writes answers; it never produces the text itself. poll()
// says how many GET /metrics requests wait for a body, the caller fetches the text from the
// database (with nothing of ours on its stack), then respond() answers all of them at once.
//
// Hostile clients are expected: every connection has a deadline for each request (idle keep-alive
// time included) and each response, the header size is capped, a request body is refused, the
// number of connections is capped (an idle keep-alive connection gives its place to a new one,
// otherwise the new one gets a short 503 and is closed), and nothing the client sent is ever
// echoed back. Every function is noexcept: whatever goes wrong inside (even running out of
// memory) costs at most the connections involved.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace telemetry::observe {

struct HttpEndpointConfig {
    std::string address = "127.0.0.1";    // numeric IPv4 or IPv6 only: no resolver (it starts a thread)
    std::uint16_t port = 9187;            // 0: any free port (tests)
    std::size_t max_connections = 16;     // open at once; beyond, see above
    std::size_t max_header_bytes = 8192;  // request line and headers; beyond: 431, closed
    // A request must arrive whole (from the connection's start, or the end of the previous
    // response: keep-alive idle time counts) and a response must be taken whole within this.
    std::chrono::milliseconds request_timeout{5000};
    std::string bearer_token;       // non-empty: "Authorization: Bearer <token>" is accepted
    std::string basic_credentials;  // non-empty "user:password": basic authentication is accepted
    // Credentials are required even when both above are empty: every request is refused (401).
    // For a credential file that is configured but unreadable (fail closed, never open).
    bool require_credentials = false;
};

struct HttpEndpointStats {
    std::uint64_t connections = 0;         // accepted and served
    std::uint64_t refused_over_limit = 0;  // accepted and closed at once (503): max_connections reached
    std::uint64_t evicted_idle = 0;        // idle keep-alive connections closed to make room
    std::uint64_t timed_out = 0;           // request or response not done within request_timeout
    std::uint64_t bad_requests = 0;        // 400 (malformed), 413 (a body), 431 (header too large)
    std::uint64_t unauthorized = 0;        // 401
    std::uint64_t not_found = 0;           // 404 and 405
    std::uint64_t served = 0;              // 200 answers to GET or HEAD /metrics
    std::uint64_t unavailable = 0;         // 503 answers: respond(..., false)
    std::uint64_t internal_errors = 0;     // exceptions caught inside (out of memory): connections closed
};

class HttpEndpoint {
public:
    // Binds and listens. nullptr, with the reason in error, when the address is not a numeric
    // IP address, the port is taken, or anything else fails.
    static std::unique_ptr<HttpEndpoint> open(const HttpEndpointConfig& config, std::string& error) noexcept;
    ~HttpEndpoint();
    HttpEndpoint(const HttpEndpoint&) = delete;
    HttpEndpoint& operator=(const HttpEndpoint&) = delete;

    // Runs the I/O for at most budget, returning early as soon as a GET or HEAD /metrics request
    // waits for its body. Returns how many wait: the caller answers them with respond() before
    // it polls again (they are not read from, nor timed, while they wait).
    std::size_t poll(std::chrono::milliseconds budget) noexcept;

    // Answers every waiting request, those completed while the caller made the body included:
    // 200 with body (text/plain; version=0.0.4), or, when the text could not be had, 503 with a
    // short fixed body. The body is copied once, shared by all the answers.
    void respond(std::string_view body, bool available) noexcept;

    // New credentials (on reload), for the requests completed from now on. See the config.
    void set_credentials(std::string bearer_token, std::string basic_credentials, bool require_credentials) noexcept;

    // The address actually bound, "127.0.0.1:9187" or "[::1]:9187".
    std::string local_address() const noexcept;

    HttpEndpointStats stats() const noexcept;

    struct Impl;

private:
    explicit HttpEndpoint(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

}  // namespace telemetry::observe
