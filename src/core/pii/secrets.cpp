// The secret detectors: JSON Web Tokens (a header that decodes to JSON naming "alg"), PEM and
// PuTTY private keys, and API keys of well-known services (exact prefixes, lengths and
// alphabets). Not personal data, but the same harm when stored. Linear time: token candidates
// start only where no token continues from the left and look a bounded distance ahead, or
// (JWT segments, key blocks) consume what they read, and the searches for a key's end only
// move forward.
#include <cstddef>
#include <string_view>
#include <vector>

#include "core/pii/scanners.hpp"

namespace telemetry::pii {

namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_upper(char c) noexcept { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) noexcept { return c >= 'a' && c <= 'z'; }
bool is_alnum(char c) noexcept { return is_digit(c) || is_upper(c) || is_lower(c); }
bool is_base64url(char c) noexcept { return is_alnum(c) || c == '-' || c == '_'; }
bool is_upper_or_digit(char c) noexcept { return is_upper(c) || is_digit(c); }
bool is_word(char c) noexcept { return is_alnum(c) || c == '_'; }
bool is_lower_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f'); }

bool starts_with(std::string_view text, std::size_t pos, std::string_view prefix) noexcept {
    return text.size() - pos >= prefix.size() && text.compare(pos, prefix.size(), prefix) == 0;
}

// ---- JSON Web Tokens ----

int base64url_value(char c) noexcept {
    if (is_upper(c)) return c - 'A';
    if (is_lower(c)) return c - 'a' + 26;
    if (is_digit(c)) return c - '0' + 52;
    return c == '-' ? 62 : 63;
}

bool is_json_space(unsigned char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// What the header segment of a JWT names: nothing (it is not base64url of a JSON object text,
// '{' ... '}' around optional white space, with a member "alg"), an algorithm, or "none".
enum class HeaderAlg { missing, named, none };

// Decodes as it goes, without allocating, matching the first "alg" member and its value.
HeaderAlg header_alg(std::string_view segment) noexcept {
    if (segment.size() % 4 == 1) return HeaderAlg::missing;
    static constexpr std::string_view key = "\"alg\"";
    static constexpr std::string_view none_value = "\"none\"";
    enum class State { key, colon, value, done } state = State::key;
    std::size_t matched = 0;  // of `key` in State::key, of `none_value` in State::value
    bool value_started = false;
    bool value_none = false;
    bool any = false;
    unsigned char first = 0;
    unsigned char last = 0;
    const auto feed = [&](unsigned char c) {
        if (!is_json_space(c)) {
            if (!any) first = c;
            any = true;
            last = c;
        }
        switch (state) {
            case State::key:
                if (c == static_cast<unsigned char>(key[matched])) {
                    if (++matched == key.size()) state = State::colon;
                } else {
                    matched = c == '"' ? 1 : 0;
                }
                break;
            case State::colon:
                if (c == ':') {
                    state = State::value;
                    matched = 0;
                } else if (!is_json_space(c)) {
                    state = State::key;
                    matched = c == '"' ? 1 : 0;
                }
                break;
            case State::value:
                if (!value_started && is_json_space(c)) break;
                value_started = true;
                if (matched < none_value.size() && c == static_cast<unsigned char>(none_value[matched])) {
                    ++matched;
                } else {
                    value_none = matched == none_value.size() && (is_json_space(c) || c == ',' || c == '}');
                    state = State::done;
                }
                break;
            case State::done:
                break;
        }
    };
    unsigned bits = 0;
    int nbits = 0;
    for (char ch : segment) {
        bits = (bits << 6) | static_cast<unsigned>(base64url_value(ch));
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            feed(static_cast<unsigned char>((bits >> nbits) & 0xFF));
        }
    }
    if (state != State::done || first != '{' || last != '}') return HeaderAlg::missing;
    return value_none ? HeaderAlg::none : HeaderAlg::named;
}

constexpr std::size_t jwt_min_signature = 16;  // HS256 has 43 characters; none of the real algorithms fewer than 22
constexpr int jwt_max_segments = 5;            // a JWE; a JWS has 3

// A JWT at `begin` ("eyJ" where no token continues from the left): base64url segments split
// by single dots, either a JWS (header.payload.signature, all three non-empty), an unsigned JWT
// (RFC 7519 §6: header {"alg":"none"}, payload, and a final dot with nothing after it) or a JWE
// (header.key.iv.ciphertext.tag, the key may be empty). Returns the end, or 0. `next` is set
// to where scanning resumes, past every segment read.
std::size_t match_jwt(std::string_view text, std::size_t begin, std::size_t& next) noexcept {
    std::size_t seg_begin[jwt_max_segments + 1];
    std::size_t seg_end[jwt_max_segments + 1];
    int segments = 0;
    std::size_t pos = begin;
    for (;;) {
        seg_begin[segments] = pos;
        while (pos < text.size() && is_base64url(text[pos])) ++pos;
        seg_end[segments] = pos;
        ++segments;
        // A dot joins another segment when a segment (or another dot) follows; else it ends a sentence.
        if (pos + 1 < text.size() && text[pos] == '.' && (is_base64url(text[pos + 1]) || text[pos + 1] == '.')) {
            if (segments > jwt_max_segments) break;
            ++pos;
            continue;
        }
        break;
    }
    next = pos;
    const auto length = [&](int s) { return seg_end[s] - seg_begin[s]; };
    for (int s = 0; s < segments; ++s)
        if (length(s) % 4 == 1) return 0;
    const bool unsigned_jwt = segments == 2 && length(1) > 0 && pos < text.size() && text[pos] == '.';
    if (unsigned_jwt) {
        if (header_alg(text.substr(seg_begin[0], length(0))) != HeaderAlg::none) return 0;
        next = pos + 1;
        return pos + 1;
    }
    if (segments == 3) {
        if (length(1) == 0 || length(2) < jwt_min_signature) return 0;
    } else if (segments == 5) {
        if (length(2) == 0 || length(3) == 0 || length(4) < jwt_min_signature) return 0;
    } else {
        return 0;
    }
    if (header_alg(text.substr(seg_begin[0], length(0))) == HeaderAlg::missing) return 0;
    return seg_end[segments - 1];
}

// ---- private keys ----

// The label of a PEM private key block ("RSA PRIVATE KEY", "OPENSSH PRIVATE KEY",
// "ENCRYPTED PRIVATE KEY", "PRIVATE KEY", "PGP PRIVATE KEY BLOCK", ...).
bool private_key_label(std::string_view label) noexcept {
    static constexpr std::string_view suffix = "PRIVATE KEY";
    if (label == "PGP PRIVATE KEY BLOCK") return true;
    if (label.size() < suffix.size() || label.substr(label.size() - suffix.size()) != suffix) return false;
    return label.size() == suffix.size() || label[label.size() - suffix.size() - 1] == ' ';
}

constexpr std::size_t pem_max_label = 64;

// The PEM block beginning at `begin` ("-----BEGIN "): its end (after the matching
// "-----END <label>-----", else the end of the text), or 0 when the label is not a private
// key's.
std::size_t match_pem(std::string_view text, std::size_t begin) noexcept {
    static constexpr std::string_view open = "-----BEGIN ";
    static constexpr std::string_view dashes = "-----";
    static constexpr std::string_view close = "-----END ";
    const std::size_t label_begin = begin + open.size();
    std::size_t pos = label_begin;
    while (pos < text.size() && pos - label_begin <= pem_max_label &&
           (is_upper(text[pos]) || is_digit(text[pos]) || text[pos] == ' '))
        ++pos;
    const std::string_view label = text.substr(label_begin, pos - label_begin);
    if (label.size() > pem_max_label || !starts_with(text, pos, dashes) || !private_key_label(label)) return 0;
    pos += dashes.size();
    for (;;) {
        const std::size_t at = text.find(close, pos);
        if (at == std::string_view::npos) return text.size();
        pos = at + close.size();
        if (starts_with(text, pos, label) && starts_with(text, pos + label.size(), dashes))
            return pos + label.size() + dashes.size();
    }
}

// A PuTTY key file beginning at `begin` ("PuTTY-User-Key-File-<version>:"): its end (the end of
// the "Private-MAC:" or, in version 1, "Private-Hash:" line, else the end of the text), or 0.
std::size_t match_putty(std::string_view text, std::size_t begin) noexcept {
    static constexpr std::string_view open = "PuTTY-User-Key-File-";
    std::size_t pos = begin + open.size();
    const std::size_t version = pos;
    while (pos < text.size() && pos - version < 3 && is_digit(text[pos])) ++pos;
    if (pos == version || pos >= text.size() || text[pos] != ':') return 0;
    for (;;) {
        const std::size_t at = text.find("Private-", pos);
        if (at == std::string_view::npos) return text.size();
        pos = at + 8;
        if (starts_with(text, pos, "MAC:") || starts_with(text, pos, "Hash:")) {
            std::size_t end = text.find('\n', pos);
            if (end == std::string_view::npos) return text.size();
            if (end > pos && text[end - 1] == '\r') --end;
            return end;
        }
    }
}

// ---- API keys ----

// Whether a token continues across the boundary before `pos`.
bool in_token_before(std::string_view text, std::size_t pos) noexcept { return pos > 0 && is_base64url(text[pos - 1]); }

// The length of the run of `in` characters at `pos`, counting at most `limit + 1`.
template <typename In>
std::size_t run(std::string_view text, std::size_t pos, In in, std::size_t limit) noexcept {
    std::size_t n = 0;
    while (pos + n < text.size() && n <= limit && in(text[pos + n])) ++n;
    return n;
}

// A key body at `pos`: `min`..`max` characters of `in`, ending the token (no letter, digit,
// '_' or '-' after). Returns its end, or 0.
template <typename In>
std::size_t body(std::string_view text, std::size_t pos, In in, std::size_t min, std::size_t max) noexcept {
    const std::size_t n = run(text, pos, in, max);
    if (n < min || n > max || (pos + n < text.size() && is_base64url(text[pos + n]))) return 0;
    return pos + n;
}

// Whether `s` mixes upper case, lower case and digits, as random keys do (and prose does not).
bool mixed(std::string_view s) noexcept {
    bool upper = false, lower = false, digit = false;
    for (char c : s) {
        upper = upper || is_upper(c);
        lower = lower || is_lower(c);
        digit = digit || is_digit(c);
    }
    return upper && lower && digit;
}

constexpr std::size_t key_max_body = 256;

// An API key starting at `begin` (no token continues from the left). Returns the end, or 0.
std::size_t match_api_key(std::string_view text, std::size_t begin) noexcept {
    const auto after = [&](std::string_view prefix) { return begin + prefix.size(); };
    switch (text[begin]) {
        case 'A':
            // AWS access key id (long-term AKIA, temporary ASIA).
            if (starts_with(text, begin, "AKIA") || starts_with(text, begin, "ASIA"))
                return body(text, begin + 4, is_upper_or_digit, 16, 16);
            // Google API key.
            if (starts_with(text, begin, "AIza")) return body(text, begin + 4, is_base64url, 35, 35);
            return 0;
        case 'g':
            // GitHub tokens: personal, OAuth, user-to-server, server-to-server, refresh; fine-grained PAT.
            if (starts_with(text, begin, "github_pat_")) return body(text, after("github_pat_"), is_word, 82, 82);
            if (starts_with(text, begin, "gh") && text.size() - begin >= 4 && text[begin + 3] == '_') {
                const char kind = text[begin + 2];
                if (kind == 'p' || kind == 'o' || kind == 'u' || kind == 's' || kind == 'r')
                    return body(text, begin + 4, is_alnum, 36, 36);
            }
            // GitLab personal access token.
            if (starts_with(text, begin, "glpat-")) return body(text, after("glpat-"), is_base64url, 20, 20);
            return 0;
        case 'x': {
            // Slack: bot, user, app, refresh, session tokens: "xoxb-" then numbers and a secret joined by dashes.
            if (!starts_with(text, begin, "xox") || text.size() - begin < 5 || text[begin + 4] != '-') return 0;
            const char kind = text[begin + 3];
            if (kind != 'b' && kind != 'p' && kind != 'a' && kind != 'r' && kind != 's') return 0;
            const auto slack = [](char c) { return is_alnum(c) || c == '-'; };
            const std::size_t from = begin + 5;
            const std::size_t end = body(text, from, slack, 10, key_max_body);
            if (end == 0 || !is_digit(text[from]) || text[end - 1] == '-') return 0;
            if (text.substr(from, end - from).find('-') == std::string_view::npos) return 0;
            return end;
        }
        case 's':
        case 'r':
            // Stripe secret and restricted keys.
            if (starts_with(text, begin, "sk_live_") || starts_with(text, begin, "sk_test_") ||
                starts_with(text, begin, "rk_live_") || starts_with(text, begin, "rk_test_"))
                return body(text, begin + 8, is_alnum, 24, key_max_body);
            // OpenAI ("sk-", "sk-proj-") and Anthropic ("sk-ant-"): a long random tail.
            if (starts_with(text, begin, "sk-")) {
                const std::size_t end = body(text, begin + 3, is_base64url, 32, key_max_body);
                if (end == 0 || !mixed(text.substr(begin + 3, end - begin - 3))) return 0;
                return end;
            }
            return 0;
        case 'S':
            // SendGrid: "SG." 22 "." 43.
            if (starts_with(text, begin, "SG.")) {
                const std::size_t id = begin + 3;
                if (run(text, id, is_base64url, 22) != 22 || !starts_with(text, id + 22, ".")) return 0;
                return body(text, id + 23, is_base64url, 43, 43);
            }
            // Twilio API key SID: "SK" and 32 lower-case hex digits.
            if (starts_with(text, begin, "SK")) return body(text, begin + 2, is_lower_hex, 32, 32);
            return 0;
        case 'n':
            // npm access token.
            if (starts_with(text, begin, "npm_")) return body(text, begin + 4, is_alnum, 36, 36);
            return 0;
        default:
            return 0;
    }
}

}  // namespace

void find_jwts(std::string_view text, std::vector<Finding>& out) {
    std::size_t i = 0;
    while (i + 3 <= text.size()) {
        const std::size_t at = text.find("eyJ", i);
        if (at == std::string_view::npos) return;
        // Not inside a token, nor a later segment of a dotted one.
        if (in_token_before(text, at) || (at > 0 && text[at - 1] == '.')) {
            i = at + 1;
            continue;
        }
        std::size_t next = at + 1;
        const std::size_t end = match_jwt(text, at, next);
        if (end != 0) out.push_back(Finding{Detector::jwt, at, end});
        i = next > at ? next : at + 1;
    }
}

void find_private_keys(std::string_view text, std::vector<Finding>& out) {
    static constexpr std::string_view pem = "-----BEGIN ";
    static constexpr std::string_view putty = "PuTTY-User-Key-File-";
    constexpr std::size_t none = std::string_view::npos;
    // The next occurrence of each opening at or after `pos`, searched again only once passed.
    std::size_t pos = 0;
    std::size_t next_pem = text.find(pem);
    std::size_t next_putty = text.find(putty);
    while (next_pem != none || next_putty != none) {
        const bool is_pem = next_pem != none && (next_putty == none || next_pem < next_putty);
        const std::size_t begin = is_pem ? next_pem : next_putty;
        const std::size_t end = is_pem ? match_pem(text, begin) : match_putty(text, begin);
        if (end != 0) {
            out.push_back(Finding{Detector::private_key, begin, end});
            if (end >= text.size()) return;
            pos = end;
        } else {
            pos = begin + 1;
        }
        if (next_pem != none && next_pem < pos) next_pem = text.find(pem, pos);
        if (next_putty != none && next_putty < pos) next_putty = text.find(putty, pos);
    }
}

void find_api_keys(std::string_view text, std::vector<Finding>& out) {
    std::size_t i = 0;
    while (i < text.size()) {
        if (!in_token_before(text, i)) {
            const std::size_t end = match_api_key(text, i);
            if (end != 0) {
                out.push_back(Finding{Detector::api_key, i, end});
                i = end;
                continue;
            }
        }
        ++i;
    }
}

}  // namespace telemetry::pii

#include "core/base/no_postgres.hpp"
