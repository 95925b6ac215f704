#include "core/observe/endpoint_settings.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <boost/asio/ip/address.hpp>

namespace telemetry::observe {

namespace {

constexpr std::size_t credential_max_bytes = 4096;

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

}  // namespace

std::string_view trim_whitespace(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

bool read_credential_file(const std::string& path, std::string& out, std::string& error) noexcept {
    try {
        out.clear();
        error.clear();
        if (path.empty()) {
            error = "no file given";
            return false;
        }
        const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rbe"), &std::fclose);
        if (!file) {
            error = "could not open \"" + path + "\": " + std::strerror(errno);
            return false;
        }
        std::string line;
        int c;
        while ((c = std::getc(file.get())) != EOF && c != '\n') {
            if (line.size() >= credential_max_bytes) {
                error = "the first line of \"" + path + "\" is longer than " + std::to_string(credential_max_bytes) +
                        " bytes";
                return false;
            }
            line.push_back(static_cast<char>(c));
        }
        if (std::ferror(file.get())) {
            error = "could not read \"" + path + "\": " + std::strerror(errno);
            return false;
        }
        const std::string_view value = trim_whitespace(line);
        if (value.empty()) {
            error = "the first line of \"" + path + "\" is empty";
            return false;
        }
        for (const char ch : value) {
            const auto u = static_cast<unsigned char>(ch);
            if (u < 0x20 || u == 0x7f) {
                error = "the first line of \"" + path + "\" holds a control character";
                return false;
            }
        }
        out.assign(value.data(), value.size());
        return true;
    } catch (...) {
        try {
            out.clear();
            error = "could not read the file: out of memory";
        } catch (...) {}
        return false;
    }
}

bool parse_listen_address(std::string_view text, std::string& host, std::uint16_t& port, std::string& error) noexcept {
    try {
        host.clear();
        port = 0;
        error.clear();
        std::string_view host_part;
        std::string_view port_part;
        bool bracketed = false;
        if (!text.empty() && text.front() == '[') {
            const std::size_t close = text.find(']');
            if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
                error = "an IPv6 address is written \"[address]:port\", e.g. \"[::1]:9187\"";
                return false;
            }
            host_part = text.substr(1, close - 1);
            port_part = text.substr(close + 2);
            bracketed = true;
        } else {
            const std::size_t colon = text.rfind(':');
            if (colon == std::string_view::npos) {
                error = "expected \"host:port\", e.g. \"127.0.0.1:9187\"";
                return false;
            }
            host_part = text.substr(0, colon);
            port_part = text.substr(colon + 1);
            if (host_part.find(':') != std::string_view::npos) {
                error = "an IPv6 address is written in brackets: \"[address]:port\", e.g. \"[::1]:9187\"";
                return false;
            }
        }
        if (host_part.empty()) {
            error = "the host is missing: \"127.0.0.1:9187\" for this machine only, \"*:9187\" for every interface";
            return false;
        }
        if (port_part.empty() || port_part.size() > 5 ||
            !std::all_of(port_part.begin(), port_part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            error = "the port must be a number from 1 to 65535";
            return false;
        }
        const unsigned long number = std::stoul(std::string(port_part));
        if (number < 1 || number > 65535) {
            error = "the port must be a number from 1 to 65535";
            return false;
        }
        std::string address(host_part);
        if (!bracketed && address == "localhost") address = "127.0.0.1";
        if (!bracketed && address == "*") address = "0.0.0.0";
        boost::system::error_code ec;
        const boost::asio::ip::address parsed = boost::asio::ip::make_address(address, ec);
        if (ec || (bracketed && !parsed.is_v6())) {
            error = bracketed ? "the host in brackets must be a numeric IPv6 address"
                              : "the host must be a numeric IP address (no host names: no resolver runs here), "
                                "\"localhost\" or \"*\"";
            return false;
        }
        host = std::move(address);
        port = static_cast<std::uint16_t>(number);
        return true;
    } catch (...) {
        try {
            host.clear();
            error = "could not parse the address: out of memory";
        } catch (...) {}
        return false;
    }
}

}  // namespace telemetry::observe

#include "core/base/no_postgres.hpp"
