// The /metrics endpoint over real loopback sockets: a client thread speaks plain POSIX sockets
// while the test thread drives the endpoint as the worker does (poll, then respond). Timeouts
// are short (300 ms) so that the slow-client cases stay quick.
#include "core/observe/endpoint_settings.hpp"
#include "core/observe/http_endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace telemetry::observe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::string_view metrics_text =
    "# HELP telemetry_up Whether telemetry answers.\n# TYPE telemetry_up gauge\ntelemetry_up 1\n";

HttpEndpointConfig test_config() {
    HttpEndpointConfig config;
    config.port = 0;
    config.request_timeout = 300ms;
    return config;
}

std::unique_ptr<HttpEndpoint> open_endpoint(const HttpEndpointConfig& config) {
    std::string error;
    auto endpoint = HttpEndpoint::open(config, error);
    EXPECT_TRUE(endpoint) << error;
    return endpoint;
}

std::uint16_t port_of(const HttpEndpoint& endpoint) {
    const std::string address = endpoint.local_address();
    return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

struct Reply {
    int status = 0;  // 0: no complete reply (closed, reset or timed out first)
    std::string head;
    std::string body;

    // The first value of a header, by case-insensitive name ("" when absent).
    std::string header(std::string name) const {
        std::string lower = head;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const std::size_t at = lower.find("\r\n" + name + ":");
        if (at == std::string::npos) return "";
        std::size_t start = at + 2 + name.size() + 1;
        while (start < head.size() && head[start] == ' ') ++start;
        return head.substr(start, head.find("\r\n", start) - start);
    }
    int count(std::string name) const {
        std::string lower = head;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        int n = 0;
        for (std::size_t at = lower.find("\r\n" + name + ":"); at != std::string::npos;
             at = lower.find("\r\n" + name + ":", at + 1))
            ++n;
        return n;
    }
};

// A blocking loopback client; every read gives up after 3 s, so a test can fail but not hang.
class Client {
public:
    explicit Client(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval tv{3, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    }
    ~Client() {
        if (fd_ >= 0) ::close(fd_);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    bool connected() const { return connected_; }

    bool send(std::string_view data) {
        while (!data.empty()) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

    // Everything until the server closes (or 3 s pass, or a reset).
    std::string read_to_close() {
        std::string all = std::move(pending_);
        pending_.clear();
        char chunk[4096];
        for (;;) {
            const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n <= 0) break;
            all.append(chunk, static_cast<std::size_t>(n));
        }
        return all;
    }

    // Whether the server closed the connection: end of stream or reset, not a timeout.
    bool closed_by_server() {
        char c;
        const ssize_t n = ::recv(fd_, &c, 1, 0);
        return n == 0 || (n < 0 && errno == ECONNRESET);
    }

    // One reply: status line and headers, then Content-Length bytes (none for a HEAD).
    Reply read_reply(bool head = false) {
        Reply reply;
        std::size_t end;
        while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
            if (!fill()) return reply;
        reply.head = pending_.substr(0, end + 2);
        pending_.erase(0, end + 4);
        if (reply.head.size() < 12 || reply.head.compare(0, 5, "HTTP/") != 0) return reply;
        const std::string length = reply.header("Content-Length");
        const std::size_t size = head || length.empty() ? 0 : std::stoul(length);
        while (pending_.size() < size)
            if (!fill()) return reply;
        reply.body = pending_.substr(0, size);
        pending_.erase(0, size);
        reply.status = std::stoi(reply.head.substr(9, 3));
        return reply;
    }

    std::string_view pending() const { return pending_; }

private:
    bool fill() {
        char chunk[65536];
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) return false;
        pending_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    int fd_ = -1;
    bool connected_ = false;
    std::string pending_;
};

std::string get(std::string_view target = "/metrics", std::string_view extra = "") {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" + std::string(extra) + "\r\n";
}

// Runs client in a thread while this thread drives the endpoint as the worker does.
void serve(HttpEndpoint& endpoint, const std::function<void()>& client, std::string_view body = metrics_text,
           bool available = true) {
    std::atomic<bool> done{false};
    std::thread thread([&] {
        client();
        done = true;
    });
    const auto deadline = Clock::now() + 8s;
    while (!done && Clock::now() < deadline)
        if (endpoint.poll(10ms) > 0) endpoint.respond(body, available);
    thread.join();
}

// Lets the endpoint notice what the clients did last (closes, mostly).
void settle(HttpEndpoint& endpoint) {
    for (int i = 0; i < 5; ++i)
        if (endpoint.poll(10ms) > 0) endpoint.respond(metrics_text, true);
}

TEST(HttpEndpoint, ServesMetrics) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    EXPECT_EQ(endpoint->local_address().rfind("127.0.0.1:", 0), 0u);
    Reply reply;
    serve(*endpoint, [&] {
        Client c(port_of(*endpoint));
        c.send(get());
        reply = c.read_reply();
    });
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(reply.header("Content-Length"), std::to_string(metrics_text.size()));
    EXPECT_EQ(reply.body, metrics_text);
    EXPECT_EQ(endpoint->stats().served, 1u);
}

TEST(HttpEndpoint, KeepAliveQueryStringAndPipelining) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    Reply first, second, third, fourth;
    serve(*endpoint, [&] {
        Client c(port_of(*endpoint));
        c.send(get());
        first = c.read_reply();
        c.send(get("/metrics?name[]=up&x=1"));
        second = c.read_reply();
        c.send(get() + get());  // two requests in one packet
        third = c.read_reply();
        fourth = c.read_reply();
    });
    for (const Reply* r : {&first, &second, &third, &fourth}) {
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, metrics_text);
        EXPECT_NE(r->header("Connection"), "close");
    }
    EXPECT_EQ(endpoint->stats().connections, 1u);
    EXPECT_EQ(endpoint->stats().served, 4u);
}

TEST(HttpEndpoint, HeadGivesTheLengthWithoutTheBody) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    Reply head, after;
    serve(*endpoint, [&] {
        Client c(port_of(*endpoint));
        c.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        head = c.read_reply(true);
        c.send(get());
        after = c.read_reply();  // would read the HEAD's body, had one been sent
    });
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.header("Content-Length"), std::to_string(metrics_text.size()));
    EXPECT_EQ(after.status, 200);
    EXPECT_EQ(after.body, metrics_text);
}

TEST(HttpEndpoint, Http10ClosesAfterTheAnswer) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    std::string all;
    serve(*endpoint, [&] {
        Client c(port_of(*endpoint));
        c.send("GET /metrics HTTP/1.0\r\n\r\n");
        all = c.read_to_close();
    });
    EXPECT_EQ(all.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << all;
    EXPECT_EQ(all.substr(all.size() - metrics_text.size()), metrics_text);
}

TEST(HttpEndpoint, LargeBodyIsWrittenWhole) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    std::string big;
    for (int i = 0; big.size() < 3'000'000; ++i) big += "telemetry_events_total{n=\"" + std::to_string(i) + "\"} 1\n";
    Reply reply;
    serve(
        *endpoint,
        [&] {
            Client c(port_of(*endpoint));
            c.send(get());
            reply = c.read_reply();
        },
        big);
    EXPECT_EQ(reply.status, 200);
    EXPECT_TRUE(reply.body == big);
}

TEST(HttpEndpoint, OtherPathsAre404AndNeverEchoed) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    std::vector<Reply> replies;
    serve(*endpoint, [&] {
        Client c(port_of(*endpoint));
        for (const char* target : {"/", "/metricsx", "/metrics/", "/secret-probe-<script>", "*", "http://h/metrics"}) {
            c.send(get(target));
            replies.push_back(c.read_reply());
        }
    });
    ASSERT_EQ(replies.size(), 6u);
    for (const Reply& r : replies) {
        EXPECT_EQ(r.status, 404);
        EXPECT_EQ(r.head.find("secret-probe"), std::string::npos);
        EXPECT_EQ(r.body.find("secret-probe"), std::string::npos);
    }
    EXPECT_EQ(endpoint->stats().not_found, 6u);
    EXPECT_EQ(endpoint->stats().served, 0u);
}

TEST(HttpEndpoint, OtherMethodsAre405WithAllow) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    Reply del, post, options;
    serve(*endpoint, [&] {
        Client c(port_of(*endpoint));
        c.send("DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        del = c.read_reply();
        c.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        post = c.read_reply();
        c.send("OPTIONS /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        options = c.read_reply();
    });
    for (const Reply* r : {&del, &post, &options}) {
        EXPECT_EQ(r->status, 405);
        EXPECT_EQ(r->header("Allow"), "GET, HEAD");
    }
}

constexpr char tls_hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello tls\r\n\r\n";

TEST(HttpEndpoint, GarbageIs400AndClosed) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    const std::vector<std::string> inputs = {
        "GARBAGE\r\n\r\n",
        std::string(tls_hello, sizeof tls_hello - 1),
        "GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n",
        "GET /metrics HTTP/1.1\nHost: x\n\n",
        "GET  /metrics HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nTransfer-Encoding: gzip, chunked, foo\r\n\r\n",
        "GET /metrics ECHO-THIS/1.1\r\n\r\n",
    };
    std::vector<std::string> answers;
    serve(*endpoint, [&] {
        for (const std::string& input : inputs) {
            Client c(port_of(*endpoint));
            c.send(input);
            answers.push_back(c.read_to_close());
        }
    });
    ASSERT_EQ(answers.size(), inputs.size());
    for (std::size_t i = 0; i < answers.size(); ++i) {
        EXPECT_EQ(answers[i].rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << i << ": " << answers[i];
        EXPECT_NE(answers[i].find("Connection: close"), std::string::npos) << i;
        EXPECT_EQ(answers[i].find("ECHO-THIS"), std::string::npos);
    }
    EXPECT_EQ(endpoint->stats().bad_requests, inputs.size());
}

TEST(HttpEndpoint, OtherHttpVersionsAreRefused) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    std::string http12, http2, preface;
    serve(*endpoint, [&] {
        auto exchange = [&](std::string_view request, std::string& answer) {
            Client c(port_of(*endpoint));
            c.send(request);
            answer = c.read_to_close();
        };
        exchange("GET /metrics HTTP/1.2\r\n\r\n", http12);
        exchange("GET /metrics HTTP/2.0\r\n\r\n", http2);
        exchange("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", preface);
    });
    // Beast's parser knows HTTP/1.x only: 400 (505 for a version it would read but we do not serve).
    for (const std::string* answer : {&http12, &http2, &preface}) {
        EXPECT_TRUE(answer->rfind("HTTP/1.1 400 ", 0) == 0 || answer->rfind("HTTP/1.1 505 ", 0) == 0) << *answer;
        EXPECT_NE(answer->find("Connection: close"), std::string::npos);
    }
}

TEST(HttpEndpoint, OversizedHeaderIs431) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    std::string long_header, many_headers, long_line;
    serve(*endpoint, [&] {
        {
            Client c(port_of(*endpoint));
            c.send(get("/metrics", "X-Long: " + std::string(20000, 'a') + "\r\n"));
            long_header = c.read_to_close();
        }
        {
            std::string extra;
            for (int i = 0; i < 2000; ++i) extra += "X-" + std::to_string(i) + ": v\r\n";
            Client c(port_of(*endpoint));
            c.send(get("/metrics", extra));
            many_headers = c.read_to_close();
        }
        {
            Client c(port_of(*endpoint));
            c.send(get("/metrics?" + std::string(100000, 'q')));
            long_line = c.read_to_close();
        }
    });
    for (const std::string* answer : {&long_header, &many_headers, &long_line}) {
        EXPECT_EQ(answer->rfind("HTTP/1.1 431 ", 0), 0u) << answer->substr(0, 100);
        EXPECT_LT(answer->size(), 400u);
    }
}

TEST(HttpEndpoint, RequestBodyIsRefused) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    std::string sized, chunked;
    Reply empty_chunked;
    serve(*endpoint, [&] {
        {
            Client c(port_of(*endpoint));
            c.send(get("/metrics", "Content-Length: 10\r\n") + "0123456789");
            sized = c.read_to_close();
        }
        {
            Client c(port_of(*endpoint));
            c.send(get("/metrics", "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n");
            chunked = c.read_to_close();
        }
        {
            Client c(port_of(*endpoint));
            c.send(get("/metrics", "Transfer-Encoding: chunked\r\n") + "0\r\n\r\n");
            empty_chunked = c.read_reply();
        }
    });
    EXPECT_EQ(sized.rfind("HTTP/1.1 413 ", 0), 0u) << sized;
    EXPECT_EQ(chunked.rfind("HTTP/1.1 413 ", 0), 0u) << chunked;
    EXPECT_EQ(empty_chunked.status, 200);  // no body, chunked
}

TEST(HttpEndpoint, SlowlorisIsClosedAfterTheTimeout) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    bool partial_closed = false, trickle_closed = false;
    std::chrono::milliseconds partial_after{}, trickle_after{};
    serve(*endpoint, [&] {
        {
            Client c(port_of(*endpoint));
            const auto start = Clock::now();
            c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n");  // and never the blank line
            partial_closed = c.closed_by_server();
            partial_after = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        }
        {
            // One header byte every 20 ms: each byte comes in time, the request never does.
            Client c(port_of(*endpoint));
            const auto start = Clock::now();
            c.send("GET /metrics HTTP/1.1\r\n");
            const std::string trickle = "X-Slow: " + std::string(200, 'z');
            for (const char ch : trickle) {
                if (!c.send(std::string_view(&ch, 1))) break;
                std::this_thread::sleep_for(20ms);
                if (Clock::now() - start > 1500ms) break;
            }
            trickle_closed = c.closed_by_server();
            trickle_after = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        }
    });
    EXPECT_TRUE(partial_closed);
    EXPECT_GE(partial_after.count(), 250);
    EXPECT_LT(partial_after.count(), 1500);
    EXPECT_TRUE(trickle_closed);
    EXPECT_LT(trickle_after.count(), 1500);
    EXPECT_EQ(endpoint->stats().timed_out, 2u);
}

TEST(HttpEndpoint, IdleKeepAliveIsClosedAfterTheTimeout) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    Reply reply;
    bool closed = false;
    serve(*endpoint, [&] {
        Client c(port_of(*endpoint));
        c.send(get());
        reply = c.read_reply();
        closed = c.closed_by_server();
    });
    EXPECT_EQ(reply.status, 200);
    EXPECT_TRUE(closed);
}

TEST(HttpEndpoint, ConnectionsOverTheLimitAreRefusedThenServiceGoesOn) {
    HttpEndpointConfig config = test_config();
    config.max_connections = 4;
    config.request_timeout = 3000ms;
    auto endpoint = open_endpoint(config);
    ASSERT_TRUE(endpoint);
    std::vector<std::string> refused;
    std::vector<Reply> held, later;
    serve(*endpoint, [&] {
        std::vector<std::unique_ptr<Client>> clients;
        for (int i = 0; i < 4; ++i) clients.push_back(std::make_unique<Client>(port_of(*endpoint)));
        std::this_thread::sleep_for(100ms);
        for (int i = 0; i < 3; ++i) {
            Client extra(port_of(*endpoint));
            refused.push_back(extra.read_to_close());
        }
        for (auto& c : clients) {
            c->send(get());
            held.push_back(c->read_reply());
        }
        clients.clear();
        std::this_thread::sleep_for(100ms);
        for (int i = 0; i < 4; ++i) {
            Client c(port_of(*endpoint));
            c.send(get());
            later.push_back(c.read_reply());
        }
    });
    ASSERT_EQ(refused.size(), 3u);
    for (const std::string& r : refused) EXPECT_EQ(r.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << r;
    ASSERT_EQ(held.size(), 4u);
    for (const Reply& r : held) EXPECT_EQ(r.status, 200);
    ASSERT_EQ(later.size(), 4u);
    for (const Reply& r : later) EXPECT_EQ(r.status, 200);
    EXPECT_EQ(endpoint->stats().refused_over_limit, 3u);
    EXPECT_EQ(endpoint->stats().connections, 8u);
}

TEST(HttpEndpoint, AnIdleKeepAliveConnectionGivesItsPlace) {
    HttpEndpointConfig config = test_config();
    config.max_connections = 2;
    config.request_timeout = 3000ms;
    auto endpoint = open_endpoint(config);
    ASSERT_TRUE(endpoint);
    Reply a_reply, c_reply, b_reply;
    bool a_closed = false;
    serve(*endpoint, [&] {
        Client a(port_of(*endpoint));
        a.send(get());
        a_reply = a.read_reply();  // a now waits idle for its next request
        Client b(port_of(*endpoint));
        std::this_thread::sleep_for(50ms);
        Client c(port_of(*endpoint));  // a third: a goes
        c.send(get());
        c_reply = c.read_reply();
        a_closed = a.closed_by_server();
        b.send(get());
        b_reply = b.read_reply();
    });
    EXPECT_EQ(a_reply.status, 200);
    EXPECT_EQ(c_reply.status, 200);
    EXPECT_EQ(b_reply.status, 200);
    EXPECT_TRUE(a_closed);
    EXPECT_EQ(endpoint->stats().evicted_idle, 1u);
    EXPECT_EQ(endpoint->stats().refused_over_limit, 0u);
}

TEST(HttpEndpoint, FloodOfBadClientsThenService) {
    HttpEndpointConfig config = test_config();
    config.max_connections = 8;
    auto endpoint = open_endpoint(config);
    ASSERT_TRUE(endpoint);
    Reply after;
    const auto start = Clock::now();
    serve(*endpoint, [&] {
        std::vector<std::unique_ptr<Client>> flood;
        for (int i = 0; i < 100; ++i) {
            flood.push_back(std::make_unique<Client>(port_of(*endpoint)));
            switch (i % 4) {
                case 0:
                    flood.back()->send("GET /metr");
                    break;  // partial
                case 1:
                    flood.back()->send(std::string(3000, '\xff'));
                    break;  // garbage
                case 2:
                    flood.back()->send(get("/metrics", "X: " + std::string(9000, 'h')));
                    break;  // too large
                default:
                    break;  // silent
            }
        }
        for (auto& c : flood) c->read_to_close();  // each ends: refused, answered or timed out
        flood.clear();
        std::this_thread::sleep_for(50ms);
        Client c(port_of(*endpoint));
        c.send(get());
        after = c.read_reply();
    });
    EXPECT_EQ(after.status, 200);
    EXPECT_EQ(after.body, metrics_text);
    EXPECT_LT(Clock::now() - start, 5s);
    settle(*endpoint);
    const HttpEndpointStats s = endpoint->stats();
    EXPECT_GT(s.refused_over_limit, 0u);
    EXPECT_EQ(s.connections + s.refused_over_limit, 101u);
}

TEST(HttpEndpoint, RandomBytesNeverBreakIt) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    std::mt19937 random(13);
    const std::string valid = get("/metrics", "Accept: text/plain\r\nAuthorization: Basic eDp5\r\n");
    std::vector<std::string> inputs;
    for (int i = 0; i < 400; ++i) {
        std::string input;
        if (i % 2 == 0) {  // random bytes, biased towards HTTP's own
            const std::size_t size = random() % 600;
            static constexpr char alphabet[] = "GET /metrics HTTP/1.1\r\n:;,= \t\0\x80\xff%?#chunked-Length0123456789";
            for (std::size_t k = 0; k < size; ++k)
                input.push_back(random() % 3 == 0 ? static_cast<char>(random() % 256)
                                                  : alphabet[random() % (sizeof alphabet - 1)]);
        } else {  // a valid request, mutated
            input = valid;
            const int edits = 1 + static_cast<int>(random() % 8);
            for (int k = 0; k < edits && !input.empty(); ++k) {
                const std::size_t at = random() % input.size();
                switch (random() % 4) {
                    case 0:
                        input[at] = static_cast<char>(random() % 256);
                        break;
                    case 1:
                        input.erase(at, 1 + random() % 5);
                        break;
                    case 2:
                        input.insert(at, std::string(1 + random() % 3, "\r\n:\0 "[random() % 5]));
                        break;
                    default:
                        input.insert(at, input.substr(0, std::min<std::size_t>(at, 40)));
                        break;
                }
            }
        }
        inputs.push_back(std::move(input));
    }
    std::vector<std::string> answers;
    Reply after;
    const auto start = Clock::now();
    serve(*endpoint, [&] {
        for (const std::string& input : inputs) {
            Client c(port_of(*endpoint));
            c.send(input);
            c.shutdown_write();
            answers.push_back(c.read_to_close());
        }
        Client c(port_of(*endpoint));
        c.send(get());
        after = c.read_reply();
    });
    EXPECT_LT(Clock::now() - start, 5s);
    ASSERT_EQ(answers.size(), inputs.size());
    for (const std::string& answer : answers) {
        if (answer.empty()) continue;
        EXPECT_TRUE(answer.rfind("HTTP/1.1 ", 0) == 0 || answer.rfind("HTTP/1.0 ", 0) == 0) << answer.substr(0, 60);
    }
    EXPECT_EQ(after.status, 200);
    settle(*endpoint);
    EXPECT_EQ(endpoint->stats().connections, inputs.size() + 1);
    EXPECT_EQ(endpoint->stats().internal_errors, 0u);
}

TEST(HttpEndpoint, RequestsThatComeWhileTheBodyIsMadeGetItToo) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    Client a(port_of(*endpoint));
    a.send(get());
    std::size_t waiting = 0;
    for (int i = 0; i < 100 && waiting == 0; ++i) waiting = endpoint->poll(10ms);
    ASSERT_EQ(waiting, 1u);
    Client b(port_of(*endpoint));  // connects and asks while the body is made
    b.send(get());
    std::this_thread::sleep_for(50ms);  // the worker's transaction
    endpoint->respond(metrics_text, true);
    EXPECT_EQ(endpoint->stats().served, 2u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(endpoint->poll(5ms), 0u);
    EXPECT_EQ(a.read_reply().body, metrics_text);
    EXPECT_EQ(b.read_reply().body, metrics_text);
}

TEST(HttpEndpoint, UnavailableIs503) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    Reply first, second;
    serve(
        *endpoint,
        [&] {
            Client c(port_of(*endpoint));
            c.send(get());
            first = c.read_reply();
            c.send(get());
            second = c.read_reply();
        },
        metrics_text, false);
    EXPECT_EQ(first.status, 503);
    EXPECT_EQ(first.body, "metrics unavailable\n");
    EXPECT_EQ(second.status, 503);
    EXPECT_EQ(endpoint->stats().unavailable, 2u);
    EXPECT_EQ(endpoint->stats().served, 0u);
}

TEST(HttpEndpoint, CredentialsAreRequiredWhenSet) {
    HttpEndpointConfig config = test_config();
    config.bearer_token = "s3cret-token.value";
    config.basic_credentials = "prometheus:pa55:word";
    auto endpoint = open_endpoint(config);
    ASSERT_TRUE(endpoint);
    std::vector<std::pair<std::string, Reply>> replies;
    const std::vector<std::string> headers = {
        "",
        "Authorization: Bearer wrong\r\n",
        "Authorization: Bearer s3cret-token.valu\r\n",
        "Authorization: Bearer s3cret-token.value2\r\n",
        "Authorization: s3cret-token.value\r\n",
        "Authorization: Basic cHJvbWV0aGV1czp3cm9uZw==\r\n",       // prometheus:wrong
        "Authorization: Bearer cHJvbWV0aGV1czpwYTU1OndvcmQ=\r\n",  // basic's value as a bearer
        "Authorization: Bearer s3cret-token.value\r\n",
        "Authorization: bearer   s3cret-token.value \r\n",
        "Authorization: Basic cHJvbWV0aGV1czpwYTU1OndvcmQ=\r\n",  // prometheus:pa55:word
    };
    serve(*endpoint, [&] {
        Client c(port_of(*endpoint));
        for (const std::string& h : headers) {
            c.send(get("/metrics", h));
            replies.emplace_back(h, c.read_reply());
        }
    });
    ASSERT_EQ(replies.size(), headers.size());
    for (std::size_t i = 0; i < replies.size(); ++i) {
        const Reply& r = replies[i].second;
        if (i < 7) {
            EXPECT_EQ(r.status, 401) << replies[i].first;
            EXPECT_EQ(r.count("WWW-Authenticate"), 2) << r.head;
            EXPECT_EQ(r.body.find("s3cret"), std::string::npos);
            EXPECT_EQ(r.head.find("s3cret"), std::string::npos);
        } else {
            EXPECT_EQ(r.status, 200) << replies[i].first;
            EXPECT_EQ(r.body, metrics_text);
        }
    }
    EXPECT_EQ(endpoint->stats().unauthorized, 7u);
}

TEST(HttpEndpoint, CredentialsChangeOnReloadAndFailClosed) {
    auto endpoint = open_endpoint(test_config());
    ASSERT_TRUE(endpoint);
    const std::string bearer = "Authorization: Bearer t0ken\r\n";
    Reply open_reply, locked_reply, token_reply, wrong_reply, denied_reply, denied_token_reply;
    auto request = [&](const std::string& header, Reply& out) {
        serve(*endpoint, [&] {
            Client c(port_of(*endpoint));
            c.send(get("/metrics", header));
            out = c.read_reply();
        });
    };
    request("", open_reply);
    endpoint->set_credentials("t0ken", "", false);
    request("", locked_reply);
    request(bearer, token_reply);
    request("Authorization: Basic dDBrZW4=\r\n", wrong_reply);
    endpoint->set_credentials("", "", true);  // a credential file that could not be read
    request("", denied_reply);
    request(bearer, denied_token_reply);
    EXPECT_EQ(open_reply.status, 200);
    EXPECT_EQ(locked_reply.status, 401);
    EXPECT_EQ(locked_reply.header("WWW-Authenticate"), "Bearer realm=\"telemetry\"");
    EXPECT_EQ(token_reply.status, 200);
    EXPECT_EQ(wrong_reply.status, 401);
    EXPECT_EQ(denied_reply.status, 401);
    EXPECT_EQ(denied_token_reply.status, 401);
}

TEST(HttpEndpoint, AuthenticationComesBeforeThePath) {
    HttpEndpointConfig config = test_config();
    config.basic_credentials = "u:p";
    auto endpoint = open_endpoint(config);
    ASSERT_TRUE(endpoint);
    Reply probe;
    serve(*endpoint, [&] {
        Client c(port_of(*endpoint));
        c.send(get("/admin"));
        probe = c.read_reply();
    });
    EXPECT_EQ(probe.status, 401);
    EXPECT_EQ(probe.header("WWW-Authenticate"), "Basic realm=\"telemetry\", charset=\"UTF-8\"");
}

TEST(HttpEndpoint, OpenRefusesNamesAndTakenPorts) {
    std::string error;
    HttpEndpointConfig config = test_config();
    config.address = "localhost";
    EXPECT_FALSE(HttpEndpoint::open(config, error));
    EXPECT_NE(error.find("numeric"), std::string::npos) << error;
    config.address = "127.0.0.1";
    auto first = open_endpoint(config);
    ASSERT_TRUE(first);
    config.port = port_of(*first);
    EXPECT_FALSE(HttpEndpoint::open(config, error));
    EXPECT_NE(error.find("could not bind 127.0.0.1:" + std::to_string(config.port)), std::string::npos) << error;
}

TEST(HttpEndpoint, ServesOverIpv6Loopback) {
    HttpEndpointConfig config = test_config();
    config.address = "::1";
    std::string error;
    auto endpoint = HttpEndpoint::open(config, error);
    if (!endpoint) GTEST_SKIP() << "no IPv6 loopback here: " << error;
    EXPECT_EQ(endpoint->local_address().rfind("[::1]:", 0), 0u);
}

TEST(HttpEndpoint, DestroyedWithConnectionsInEveryState) {
    HttpEndpointConfig config = test_config();
    config.request_timeout = 3000ms;
    auto endpoint = open_endpoint(config);
    ASSERT_TRUE(endpoint);
    const std::uint16_t port = port_of(*endpoint);
    Client idle(port), partial(port), waiting(port);
    partial.send("GET /met");
    waiting.send(get());
    for (int i = 0; i < 20 && endpoint->poll(10ms) == 0;) ++i;
    EXPECT_EQ(endpoint->poll(0ms), 1u);  // one waits for its body; never answered
    endpoint.reset();
    EXPECT_TRUE(idle.closed_by_server());
    EXPECT_TRUE(partial.closed_by_server());
    EXPECT_TRUE(waiting.closed_by_server());
}

TEST(ParseListenAddress, Accepts) {
    std::string host, error;
    std::uint16_t port = 0;
    EXPECT_TRUE(parse_listen_address("127.0.0.1:9187", host, port, error)) << error;
    EXPECT_EQ(host, "127.0.0.1");
    EXPECT_EQ(port, 9187);
    EXPECT_TRUE(parse_listen_address("[::1]:80", host, port, error)) << error;
    EXPECT_EQ(host, "::1");
    EXPECT_EQ(port, 80);
    EXPECT_TRUE(parse_listen_address("[fe80::1%lo]:9187", host, port, error)) << error;
    EXPECT_TRUE(parse_listen_address("0.0.0.0:65535", host, port, error)) << error;
    EXPECT_EQ(port, 65535);
    EXPECT_TRUE(parse_listen_address("localhost:9187", host, port, error)) << error;
    EXPECT_EQ(host, "127.0.0.1");
    EXPECT_TRUE(parse_listen_address("*:9187", host, port, error)) << error;
    EXPECT_EQ(host, "0.0.0.0");
    EXPECT_TRUE(parse_listen_address("[::]:9187", host, port, error)) << error;
    EXPECT_EQ(host, "::");
}

TEST(ParseListenAddress, Refuses) {
    std::string host, error;
    std::uint16_t port = 1;
    for (const char* text : {"",
                             "9187",
                             ":9187",
                             "127.0.0.1",
                             "127.0.0.1:",
                             "127.0.0.1:0",
                             "127.0.0.1:65536",
                             "127.0.0.1:99999999",
                             "127.0.0.1:-1",
                             "127.0.0.1:+80",
                             "127.0.0.1: 80",
                             " 127.0.0.1:80",
                             "::1:9187",
                             "[::1]9187",
                             "[::1]:",
                             "[127.0.0.1]:80",
                             "[::1:80",
                             "example.com:9187",
                             "256.0.0.1:80",
                             "[]:80",
                             "*:x"}) {
        error.clear();
        EXPECT_FALSE(parse_listen_address(text, host, port, error)) << text;
        EXPECT_FALSE(error.empty()) << text;
        EXPECT_TRUE(host.empty()) << text;
    }
}

class ReadCredentialFile : public ::testing::Test {
protected:
    std::string write(const std::string& name, const std::string& content) {
        const std::string path = ::testing::TempDir() + "telemetry_credential_" + name;
        std::ofstream(path, std::ios::binary) << content;
        paths_.push_back(path);
        return path;
    }
    void TearDown() override {
        for (const std::string& p : paths_) std::remove(p.c_str());
    }
    std::vector<std::string> paths_;
};

TEST_F(ReadCredentialFile, FirstLineTrimmed) {
    std::string value, error;
    EXPECT_TRUE(read_credential_file(write("a", "t0ken\n"), value, error)) << error;
    EXPECT_EQ(value, "t0ken");
    EXPECT_TRUE(read_credential_file(write("b", "  user:p@ss word \r\nsecond line\n"), value, error)) << error;
    EXPECT_EQ(value, "user:p@ss word");
    EXPECT_TRUE(read_credential_file(write("c", "no-newline"), value, error)) << error;
    EXPECT_EQ(value, "no-newline");
    EXPECT_TRUE(read_credential_file(write("d", std::string(4096, 'k') + "\n"), value, error)) << error;
    EXPECT_EQ(value.size(), 4096u);
}

TEST_F(ReadCredentialFile, Refuses) {
    std::string value = "old", error;
    EXPECT_FALSE(read_credential_file(::testing::TempDir() + "telemetry_no_such_file", value, error));
    EXPECT_NE(error.find("could not open"), std::string::npos) << error;
    EXPECT_TRUE(value.empty());
    for (const std::string& content :
         {std::string(""), std::string("\n"), std::string("   \r\n"), std::string("\nsecond"), std::string(5000, 'k'),
          std::string("a\x01"
                      "b\n"),
          std::string("a\0b", 3)}) {
        error.clear();
        EXPECT_FALSE(read_credential_file(write("bad", content), value, error)) << content.size();
        EXPECT_FALSE(error.empty());
        EXPECT_EQ(error.find("kkkk"), std::string::npos);  // never the content
    }
    EXPECT_FALSE(read_credential_file(::testing::TempDir(), value, error));  // a directory
    EXPECT_FALSE(read_credential_file("", value, error));
}

}  // namespace
}  // namespace telemetry::observe
