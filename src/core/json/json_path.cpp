#include "core/json/json_path.hpp"

namespace telemetry {

std::size_t utf8_prefix(std::string_view text, std::size_t max_bytes) noexcept {
    if (text.size() <= max_bytes) return text.size();
    std::size_t end = max_bytes;
    // Back off continuation bytes (10xxxxxx) to the start of the character they belong to.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    return end;
}

namespace {
bool is_identifier(std::string_view key) {
    if (key.empty() || key.size() > 64) return false;
    for (std::size_t i = 0; i < key.size(); ++i) {
        const char c = key[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
        const bool digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && i > 0)) return false;
    }
    return true;
}
}  // namespace

namespace {

// A key that could itself be personal data (an e-mail address, a phone or card number, an IP
// address, something percent-encoded used as a property name) is never printed: paths go into
// error messages and the server log. Deliberately broad, and without the detectors (core/pii
// depends on this file): property names rarely hold '@', '%', two colons or seven digits.
bool key_may_show_personal_data(std::string_view key) noexcept {
    std::size_t digits = 0;
    std::size_t colons = 0;
    for (const char c : key) {
        if (c == '@' || c == '%') return true;
        if (c >= '0' && c <= '9') ++digits;
        if (c == ':') ++colons;
    }
    return digits >= 7 || colons >= 2;
}

}  // namespace

JsonPath JsonPath::key(std::string_view key) const {
    JsonPath out(text_);
    if (key_may_show_personal_data(key)) {
        out.text_ += "[\"~redacted\"]";
        return out;
    }
    if (is_identifier(key)) {
        out.text_ += '.';
        out.text_.append(key);
        return out;
    }
    // Quoted form. Keys are names chosen by developers, not values, but a hostile key could
    // still be long or hold control characters: cut it after at most 64 bytes, on a character
    // boundary (a cut inside a UTF-8 sequence would store invalid text: a quarantine row that
    // pg_dump writes and its restore refuses), and escape what is not printable.
    out.text_ += "[\"";
    const std::size_t shown = utf8_prefix(key, 64);
    for (std::size_t i = 0; i <= shown && i < key.size(); ++i) {
        if (i == shown) {
            out.text_ += "...";
            break;
        }
        const char c = key[i];
        const unsigned char u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.text_ += '\\';
            out.text_ += c;
        } else if (u < 0x20 || u == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            out.text_ += "\\u00";
            out.text_ += hex[u >> 4];
            out.text_ += hex[u & 15];
        } else {
            out.text_ += c;
        }
    }
    out.text_ += "\"]";
    return out;
}

JsonPath JsonPath::index(std::size_t i) const {
    JsonPath out(text_);
    out.text_ += '[';
    out.text_ += std::to_string(i);
    out.text_ += ']';
    return out;
}

JsonPath PathStep::path() const {
    switch (kind_) {
        case Kind::key:
            return parent_->path().key(key_);
        case Kind::index:
            return parent_->path().index(index_);
        case Kind::root:
            break;
    }
    return JsonPath();
}

std::string PathStep::pointer() const {
    if (kind_ == Kind::root) return std::string();
    std::string out = parent_->pointer();
    out += '/';
    if (kind_ == Kind::index) {
        out += std::to_string(index_);
        return out;
    }
    for (char c : key_) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
