// The settings of the metrics endpoint, read by its worker: telemetry.metrics_listen and the
// credential files (telemetry.metrics_bearer_token_file, telemetry.metrics_basic_auth_file).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace telemetry::observe {

// Without the ASCII whitespace around it (a header's value, a file's line).
std::string_view trim_whitespace(std::string_view s) noexcept;

// The first line of a credential file, surrounding whitespace removed. False, with the reason in
// error (which never quotes the file's content), when it cannot be read, is empty, holds a
// control character or is longer than 4096 bytes.
bool read_credential_file(const std::string& path, std::string& out, std::string& error) noexcept;

// Parses telemetry.metrics_listen: "host:port" or "[ipv6]:port", host a numeric IP address,
// "localhost" (127.0.0.1) or "*" (0.0.0.0, every IPv4 interface); port 1 to 65535.
bool parse_listen_address(std::string_view text, std::string& host, std::uint16_t& port, std::string& error) noexcept;

}  // namespace telemetry::observe
