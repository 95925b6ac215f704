// The /metrics HTTP endpoint (http_endpoint.hpp): one Session per connection, owned by the
// endpoint's list while it is open and by its pending handler while an operation runs. Each
// session goes reading -> (waiting -> writing | writing) -> reading again (keep-alive) or
// lingering (a short drain of what the client still sends, so it reads our answer instead of a
// reset) -> closed. All of it runs in the caller's thread, inside poll() and respond().
//
// Boost.Beast parses; the limits are Beast's own (header_limit, body_limit 0, a capped
// flat_buffer) and tcp_stream's deadlines. Every handler catches what it may throw and closes
// its connection instead, so nothing leaves the endpoint's noexcept API.
#include "core/observe/http_endpoint.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/write.hpp>

#include "core/base/sha256.hpp"
#include "core/observe/endpoint_settings.hpp"

namespace telemetry::observe {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view text_content_type = "text/plain; charset=utf-8";
constexpr int listen_backlog = 128;
// After an answer that closes the connection: how long and how much we read and discard.
constexpr std::chrono::milliseconds linger_time{1000};
constexpr std::size_t linger_bytes = 64 * 1024;
constexpr std::size_t drain_chunk = 4096;
// After accept() failed (out of descriptors, say): the listening socket stays readable, so
// accepting again at once would spin.
constexpr std::chrono::milliseconds accept_retry{100};

// Written directly to a connection over the limit: no session, no allocation.
constexpr std::string_view over_limit_answer =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 21\r\n"
    "Retry-After: 1\r\n"
    "Connection: close\r\n"
    "\r\n"
    "too many connections\n";

// RFC 4648 §4 base64 with padding, as clients write basic credentials. May throw bad_alloc.
std::string base64(std::string_view in) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const unsigned v = static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8 |
                           static_cast<unsigned char>(in[i + 2]);
        for (int shift = 18; shift >= 0; shift -= 6) out.push_back(alphabet[(v >> shift) & 63]);
    }
    if (in.size() - i == 1) {
        const unsigned v = static_cast<unsigned char>(in[i]) << 16;
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.append("==");
    } else if (in.size() - i == 2) {
        const unsigned v = static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8;
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
        out.push_back('=');
    }
    return out;
}

bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// Compares a secret in time independent of where it differs, and of its length: both sides are
// hashed first, then every byte of the digests is compared.
bool same_secret(std::string_view given, const Sha256Digest& expected) noexcept {
    const Sha256Digest digest = sha256(given);
    unsigned difference = 0;
    for (std::size_t i = 0; i < digest.size(); ++i) difference |= digest[i] ^ expected[i];
    return difference == 0;
}

// The listening and accepted sockets are not inherited by programs the process might start.
void set_cloexec(int fd) noexcept {
    if (fd < 0) return;
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) (void)::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

std::string format_endpoint(const tcp::endpoint& endpoint) {
    const auto address = endpoint.address();
    std::string text = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    return text + ":" + std::to_string(endpoint.port());
}

// What requests must show, as digests only: the secrets themselves are not kept.
struct Credentials {
    bool required = false;
    bool has_bearer = false;
    bool has_basic = false;
    Sha256Digest bearer{};
    Sha256Digest basic{};  // of the base64 form the Authorization header carries
};

// May throw bad_alloc.
Credentials make_credentials(std::string_view bearer, std::string_view basic, bool require) {
    Credentials c;
    c.has_bearer = !bearer.empty();
    c.has_basic = !basic.empty();
    c.required = require || c.has_bearer || c.has_basic;
    if (c.has_bearer) c.bearer = sha256(bearer);
    if (c.has_basic) c.basic = sha256(base64(basic));
    return c;
}

HttpEndpointConfig within_bounds(HttpEndpointConfig config) {
    config.max_connections = std::clamp<std::size_t>(config.max_connections, 1, 4096);
    config.max_header_bytes = std::clamp<std::size_t>(config.max_header_bytes, 512, 1 << 20);
    config.request_timeout =
        std::clamp(config.request_timeout, std::chrono::milliseconds{10}, std::chrono::milliseconds{600000});
    config.bearer_token.clear();
    config.basic_credentials.clear();
    return config;
}

class Session;

}  // namespace

struct HttpEndpoint::Impl {
    explicit Impl(HttpEndpointConfig config) : limits(std::move(config)) {}
    ~Impl();

    void accept() noexcept;
    void on_accept(const beast::error_code& ec, tcp::socket socket);
    void retry_accept_later() noexcept;
    void refuse(tcp::socket& socket) noexcept;
    bool evict_idle() noexcept;
    void forget(const Session* session) noexcept;
    std::size_t waiting() const noexcept;
    void run_ready() noexcept;

    HttpEndpointConfig limits;  // without the credentials
    Credentials credentials;
    HttpEndpointStats stats;
    // The open connections, oldest first. Declared before the io_context: the sessions that
    // its pending handlers still hold are destroyed while it is destroyed.
    std::vector<std::shared_ptr<Session>> sessions;
    asio::io_context io{1};
    tcp::acceptor acceptor{io};
    asio::steady_timer retry{io};
    bool accepting = false;
    bool retry_pending = false;
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
public:
    enum class Phase { reading, waiting, writing, lingering, closed };

    Session(HttpEndpoint::Impl& owner, tcp::socket socket)
        : owner_(owner), stream_(std::move(socket)), buffer_(owner.limits.max_header_bytes + drain_chunk) {}

    Phase phase() const noexcept { return phase_; }
    // Waiting for the next request on a kept-alive connection: may give its place to a new one.
    bool idle() const noexcept { return phase_ == Phase::reading && idle_; }

    void start() noexcept {
        guarded([this] { read_request(); });
    }

    // The answer to the GET or HEAD /metrics this session waits with: body, or 503 without it.
    void answer(const std::shared_ptr<const std::string>& body) noexcept {
        guarded([&] {
            if (phase_ != Phase::waiting) return;
            if (body) {
                prepare(http::status::ok, head_ ? std::string_view() : std::string_view(*body), metrics_content_type);
                response_.content_length(body->size());  // also for HEAD, which gets no body
                body_ = body;
                ++owner_.stats.served;
            } else {
                prepare(http::status::service_unavailable, "metrics unavailable\n", text_content_type);
                if (head_) response_.body() = {};
                response_.set(http::field::retry_after, "10");
                ++owner_.stats.unavailable;
            }
            send(keep_alive_);
        });
    }

    // Closes the socket (pending operations end with operation_aborted) and leaves the
    // endpoint's list. The caller must hold a reference: this may drop the last but its own.
    void close() noexcept {
        if (phase_ == Phase::closed) return;
        phase_ = Phase::closed;
        stream_.close();  // body_ stays: an aborted write may still hold its buffers
        owner_.forget(this);
    }

private:
    using Request = http::request<http::empty_body>;
    using Response = http::response<http::span_body<const char>>;

    // Runs step; whatever it throws closes the connection instead.
    template <typename Step>
    void guarded(Step&& step) noexcept {
        try {
            step();
        } catch (...) {
            ++owner_.stats.internal_errors;
            close();
        }
    }

    std::chrono::milliseconds timeout() const noexcept { return owner_.limits.request_timeout; }

    void read_request() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(owner_.limits.max_header_bytes));
        parser_->body_limit(std::uint64_t{0});  // a GET has no body
        phase_ = Phase::reading;
        // The deadline covers the whole request, however slowly its bytes come, and the idle
        // time before it on a kept-alive connection.
        stream_.expires_after(timeout());
        http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->guarded([&] { self->on_read(ec); });
        });
    }

    void on_read(const beast::error_code& ec) {
        if (phase_ != Phase::reading) return;
        if (!ec) return handle_request();
        HttpEndpointStats& stats = owner_.stats;
        if (ec == beast::error::timeout) {
            ++stats.timed_out;
            return close();
        }
        if (ec == http::error::end_of_stream || ec == http::error::partial_message) return close();  // gone
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
            ++stats.bad_requests;
            return refuse(http::status::request_header_fields_too_large, "request header fields too large\n");
        }
        if (ec == http::error::body_limit || ec == http::error::unexpected_body) {
            ++stats.bad_requests;
            return refuse(http::status::payload_too_large, "a request has no body here\n");
        }
        if (&ec.category() == &http::make_error_code(http::error::bad_method).category()) {
            ++stats.bad_requests;
            return refuse(http::status::bad_request, "bad request\n");
        }
        close();  // reset by the peer, and the like
    }

    void handle_request() {
        const Request& request = parser_->get();
        idle_ = false;
        version_ = request.version();
        if (version_ != 10 && version_ != 11) {
            version_ = 11;
            ++owner_.stats.bad_requests;
            return refuse(http::status::http_version_not_supported, "HTTP/1.0 or HTTP/1.1 only\n");
        }
        // A coding other than chunked last leaves the body's length unknown (RFC 9112 §6.3).
        if (request.count(http::field::transfer_encoding) != 0 && !request.chunked()) {
            ++owner_.stats.bad_requests;
            return refuse(http::status::bad_request, "bad request\n");
        }
        keep_alive_ = request.keep_alive();
        if (!authorized(request)) {
            ++owner_.stats.unauthorized;
            prepare(http::status::unauthorized, "unauthorized\n", text_content_type);
            const Credentials& c = owner_.credentials;
            if (c.has_bearer || !c.has_basic)
                response_.insert(http::field::www_authenticate, "Bearer realm=\"telemetry\"");
            if (c.has_basic)
                response_.insert(http::field::www_authenticate, "Basic realm=\"telemetry\", charset=\"UTF-8\"");
            return send(keep_alive_);
        }
        const auto target = request.target();
        const std::string_view path(target.data(), std::min(target.size(), target.find('?')));
        if (path != "/metrics") {
            ++owner_.stats.not_found;
            prepare(http::status::not_found, "not found: this endpoint serves /metrics only\n", text_content_type);
            return send(keep_alive_);
        }
        const http::verb method = request.method();
        if (method != http::verb::get && method != http::verb::head) {
            ++owner_.stats.not_found;
            prepare(http::status::method_not_allowed, "method not allowed\n", text_content_type);
            response_.set(http::field::allow, "GET, HEAD");
            return send(keep_alive_);
        }
        head_ = method == http::verb::head;
        parser_.reset();
        phase_ = Phase::waiting;  // for respond(); no operation runs, no deadline counts
    }

    bool authorized(const Request& request) const noexcept {
        const Credentials& c = owner_.credentials;
        if (!c.required) return true;
        const auto field = request.find(http::field::authorization);
        if (field == request.end()) return false;
        const std::string_view value = trim_whitespace(std::string_view(field->value().data(), field->value().size()));
        const std::size_t space = value.find(' ');
        if (space == std::string_view::npos) return false;
        const std::string_view scheme = value.substr(0, space);
        const std::string_view secret = trim_whitespace(value.substr(space + 1));
        if (c.has_bearer && ascii_iequals(scheme, "Bearer")) return same_secret(secret, c.bearer);
        if (c.has_basic && ascii_iequals(scheme, "Basic")) return same_secret(secret, c.basic);
        return false;
    }

    // A fresh response with a body that outlives the write (static text or body_).
    void prepare(http::status status, std::string_view body, std::string_view content_type) {
        response_ = Response{};
        response_.version(version_);
        response_.result(status);
        response_.set(http::field::content_type, content_type);
        response_.set(http::field::cache_control, "no-store");
        response_.set("X-Content-Type-Options", "nosniff");
        response_.body() = {body.data(), body.size()};
        response_.content_length(body.size());
    }

    // An answer after which the connection closes: the request could not be read whole.
    void refuse(http::status status, std::string_view text) {
        version_ = 11;
        prepare(status, text, text_content_type);
        send(false);
    }

    void send(bool keep_alive) {
        keep_alive_after_ = keep_alive;
        response_.keep_alive(keep_alive);
        phase_ = Phase::writing;
        stream_.expires_after(timeout());  // a client that does not read cannot hold us
        http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->guarded([&] { self->on_write(ec); });
        });
    }

    void on_write(const beast::error_code& ec) {
        if (phase_ != Phase::writing) return;
        body_.reset();
        if (ec) {
            if (ec == beast::error::timeout) ++owner_.stats.timed_out;
            return close();
        }
        if (keep_alive_after_) {
            idle_ = true;
            return read_request();
        }
        linger();
    }

    // Half-closes, then reads and discards for a short while: closing a socket with unread
    // bytes sends a reset, which may destroy our answer before the client reads it.
    void linger() {
        phase_ = Phase::lingering;
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        buffer_.clear();
        drained_ = 0;
        stream_.expires_after(std::min(timeout(), linger_time));
        drain();
    }

    void drain() {
        stream_.async_read_some(buffer_.prepare(drain_chunk),
                                [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                    self->guarded([&] { self->on_drain(ec, n); });
                                });
    }

    void on_drain(const beast::error_code& ec, std::size_t n) {
        if (phase_ != Phase::lingering) return;
        buffer_.clear();
        drained_ += n;
        if (ec || drained_ > linger_bytes) return close();
        drain();
    }

    HttpEndpoint::Impl& owner_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;  // capped: the header limit plus a little
    std::optional<http::request_parser<http::empty_body>> parser_;
    Response response_;
    std::shared_ptr<const std::string> body_;  // the metrics text while it is written
    Phase phase_ = Phase::reading;
    bool idle_ = false;
    bool keep_alive_ = false;
    bool keep_alive_after_ = false;
    bool head_ = false;
    unsigned version_ = 11;
    std::size_t drained_ = 0;
};

}  // namespace

HttpEndpoint::Impl::~Impl() {
    beast::error_code ignored;
    acceptor.close(ignored);
    try {
        retry.cancel();
    } catch (...) {}
    // Closed while the io_context lives: the sessions its handlers hold go with it.
    while (!sessions.empty()) {
        const std::shared_ptr<Session> session = sessions.back();
        session->close();
        if (!sessions.empty() && sessions.back() == session) sessions.pop_back();
    }
}

void HttpEndpoint::Impl::accept() noexcept {
    if (accepting || retry_pending || !acceptor.is_open()) return;
    try {
        acceptor.async_accept(
            [this](const beast::error_code& ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
        accepting = true;
    } catch (...) {
        ++stats.internal_errors;
        retry_accept_later();
    }
}

void HttpEndpoint::Impl::retry_accept_later() noexcept {
    if (retry_pending) return;
    try {
        retry.expires_after(accept_retry);
        retry.async_wait([this](const beast::error_code& ec) {
            retry_pending = false;
            if (!ec) accept();
        });
        retry_pending = true;
    } catch (...) {
        // poll() tries again.
    }
}

void HttpEndpoint::Impl::on_accept(const beast::error_code& ec, tcp::socket socket) {
    accepting = false;
    if (ec) {
        if (ec != asio::error::operation_aborted) retry_accept_later();
        return;
    }
    accept();  // the next one first, whatever becomes of this one
    set_cloexec(socket.native_handle());
    if (sessions.size() >= limits.max_connections && !evict_idle()) return refuse(socket);
    try {
        auto session = std::make_shared<Session>(*this, std::move(socket));
        sessions.push_back(session);
        ++stats.connections;
        session->start();
    } catch (...) {
        ++stats.internal_errors;  // the socket closes with whatever held it
    }
}

// Over the limit: a short fixed answer, written without waiting (a fresh socket's send buffer
// takes it), then closed.
void HttpEndpoint::Impl::refuse(tcp::socket& socket) noexcept {
    ++stats.refused_over_limit;
    beast::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.send(asio::buffer(over_limit_answer.data(), over_limit_answer.size()), 0, ignored);
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    socket.close(ignored);
}

// Closes the oldest connection that waits idle for a next request, if any.
bool HttpEndpoint::Impl::evict_idle() noexcept {
    for (const auto& session : sessions) {
        if (!session->idle()) continue;
        const std::shared_ptr<Session> victim = session;
        victim->close();
        ++stats.evicted_idle;
        return true;
    }
    return false;
}

void HttpEndpoint::Impl::forget(const Session* session) noexcept {
    const auto it =
        std::find_if(sessions.begin(), sessions.end(), [session](const auto& s) { return s.get() == session; });
    if (it != sessions.end()) sessions.erase(it);
}

// Runs the handlers that are ready, without waiting, and a bounded number of them: under a
// flood, new ones would keep coming (poll() is bounded by its budget instead).
void HttpEndpoint::Impl::run_ready() noexcept {
    try {
        if (io.stopped()) io.restart();
        for (std::size_t n = 4 * limits.max_connections + 64; n > 0 && io.poll_one() > 0;) --n;
    } catch (...) {
        ++stats.internal_errors;
    }
}

std::size_t HttpEndpoint::Impl::waiting() const noexcept {
    return static_cast<std::size_t>(std::count_if(sessions.begin(), sessions.end(),
                                                  [](const auto& s) { return s->phase() == Session::Phase::waiting; }));
}

HttpEndpoint::HttpEndpoint(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}

HttpEndpoint::~HttpEndpoint() = default;

std::unique_ptr<HttpEndpoint> HttpEndpoint::open(const HttpEndpointConfig& config, std::string& error) noexcept {
    try {
        error.clear();
        beast::error_code ec;
        const asio::ip::address address = asio::ip::make_address(config.address, ec);
        if (ec) {
            error = "\"" + config.address + "\" is not a numeric IP address";
            return nullptr;
        }
        auto impl = std::make_unique<Impl>(within_bounds(config));
        impl->credentials = make_credentials(config.bearer_token, config.basic_credentials, config.require_credentials);
        const tcp::endpoint endpoint(address, config.port);
        tcp::acceptor& acceptor = impl->acceptor;
        acceptor.open(endpoint.protocol(), ec);
        if (ec) {
            error = "could not create a socket: " + ec.message();
            return nullptr;
        }
        set_cloexec(acceptor.native_handle());
        acceptor.set_option(asio::socket_base::reuse_address(true), ec);  // restart while old ones linger
        if (!ec) acceptor.bind(endpoint, ec);
        if (ec) {
            error = "could not bind " + format_endpoint(endpoint) + ": " + ec.message();
            return nullptr;
        }
        acceptor.listen(listen_backlog, ec);
        if (ec) {
            error = "could not listen on " + format_endpoint(endpoint) + ": " + ec.message();
            return nullptr;
        }
        impl->accept();
        return std::unique_ptr<HttpEndpoint>(new HttpEndpoint(std::move(impl)));
    } catch (...) {
        try {
            error = "could not open the endpoint: out of memory or internal error";
        } catch (...) {}
        return nullptr;
    }
}

std::size_t HttpEndpoint::poll(std::chrono::milliseconds budget) noexcept {
    Impl& s = *impl_;
    const auto deadline = std::chrono::steady_clock::now() + std::max(budget, std::chrono::milliseconds{0});
    s.accept();  // if it could not be started before
    s.run_ready();
    try {
        while (s.waiting() == 0) {
            if (s.io.stopped()) s.io.restart();
            if (s.io.run_one_until(deadline) == 0) break;
        }
    } catch (...) {
        ++s.stats.internal_errors;
    }
    // Nothing left to run (it never happens: an accept or its retry always waits), yet the
    // caller is promised a bounded wait, not a spin.
    if (s.waiting() == 0 && std::chrono::steady_clock::now() < deadline && s.io.stopped())
        std::this_thread::sleep_until(deadline);
    return s.waiting();
}

void HttpEndpoint::respond(std::string_view body, bool available) noexcept {
    Impl& s = *impl_;
    std::shared_ptr<const std::string> shared;
    if (available) {
        try {
            shared = std::make_shared<const std::string>(body);
        } catch (...) {
            ++s.stats.internal_errors;  // 503 rather than nothing
        }
    }
    // Requests that came while the caller made the body (their bytes wait in the kernel) get it
    // too, rather than waiting for another round.
    s.run_ready();
    // answer() moves a session out of waiting (writing, or closed and out of the list).
    for (;;) {
        const auto it = std::find_if(s.sessions.begin(), s.sessions.end(),
                                     [](const auto& session) { return session->phase() == Session::Phase::waiting; });
        if (it == s.sessions.end()) break;
        const std::shared_ptr<Session> session = *it;
        session->answer(shared);
        if (session->phase() == Session::Phase::waiting) session->close();  // never stay: no endless loop
    }
    s.run_ready();  // writes that can finish now
}

void HttpEndpoint::set_credentials(std::string bearer_token, std::string basic_credentials,
                                   bool require_credentials) noexcept {
    try {
        impl_->credentials = make_credentials(bearer_token, basic_credentials, require_credentials);
    } catch (...) {
        impl_->credentials = Credentials{};
        impl_->credentials.required = true;  // fail closed
    }
}

std::string HttpEndpoint::local_address() const noexcept {
    try {
        beast::error_code ec;
        const tcp::endpoint endpoint = impl_->acceptor.local_endpoint(ec);
        return ec ? std::string() : format_endpoint(endpoint);
    } catch (...) {
        return std::string();
    }
}

HttpEndpointStats HttpEndpoint::stats() const noexcept { return impl_->stats; }

}  // namespace telemetry::observe

#include "core/base/no_postgres.hpp"
