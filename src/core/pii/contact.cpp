// The contact detectors: e-mail addresses, phone numbers and IP addresses (scanners.hpp).
//
// Each scanner walks the text once. A candidate is found from an anchor ('@', a digit, '+',
// '(', a hex digit or ':'), grown over a maximal run of the characters it may hold, validated,
// and the scan resumes after the run, so that every byte is looked at a bounded number of times
// whatever the input ("a@a@a@…", "1.1.1.1.1…", "+1 +1 +1…" included). The validators favour
// precision: analytics payloads are full of versions, dates, ids, counts and timestamps, and a
// detector that fires on them would make every policy useless.
#include <algorithm>
#include <cstddef>
#include <string_view>
#include <vector>

#include "core/pii/scanners.hpp"

namespace telemetry::pii {

namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) noexcept { return is_digit(c) || is_alpha(c); }
bool is_word(char c) noexcept { return is_alnum(c) || c == '_'; }
bool is_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// ---------------------------------------------------------------------------------------------
// E-mail

// The top-level domains of the Public Suffix List, sorted: see scripts/generate_tlds.py.
constexpr std::string_view kTlds[] = {
#include "core/pii/tlds.inc"
};

constexpr bool tlds_sorted() {
    for (std::size_t i = 1; i < sizeof kTlds / sizeof kTlds[0]; ++i)
        if (!(kTlds[i - 1] < kTlds[i])) return false;
    return true;
}
static_assert(tlds_sorted(), "tlds.inc must be sorted for binary search");

bool is_tld(std::string_view label) noexcept {
    char buffer[64];
    if (label.empty() || label.size() > sizeof buffer) return false;
    for (std::size_t i = 0; i < label.size(); ++i) buffer[i] = lower(label[i]);
    const std::string_view key(buffer, label.size());
    return std::binary_search(std::begin(kTlds), std::end(kTlds), key);
}

// The local-part characters accepted: the common subset of RFC 5322 atext (what Presidio and
// most mail providers allow). '/', '=', '?', '{', '}', '|' and friends are legal but in free
// text mostly belong to URLs and query strings, whose neighbouring address they would swallow.
bool is_local_char(char c) noexcept {
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '\'';
}
bool is_domain_char(char c) noexcept { return is_alnum(c) || c == '-' || c == '.'; }

constexpr std::size_t kMaxLocal = 64;     // RFC 5321 4.5.3.1.1
constexpr std::size_t kMaxAddress = 254;  // RFC 5321 4.5.3.1.3 (a path of 256 less the brackets)
constexpr std::size_t kMaxLabel = 63;

// Whether the UTF-8 character whose lead byte is at text[i] ends a local part like a space
// does: Latin-1 punctuation (C2 xx, × ÷), general punctuation and symbols (U+2000-U+2FFF: curly
// quotes, dashes, arrows), CJK, kana and Hangul (U+3000-U+DFFF: written without spaces, so
// "请联系john@example.com" holds "john@example.com"), U+E000-U+FFFF and the four-byte planes
// (emoji). Letters of other scripts belong to the local part ("josé", "renée.smith").
bool ends_local_part(std::string_view text, std::size_t i) noexcept {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead == 0xC2 || lead >= 0xE2) return true;
    if (lead == 0xC3 && i + 1 < text.size()) {
        const auto next = static_cast<unsigned char>(text[i + 1]);
        return next == 0x97 || next == 0xB7;
    }
    return false;
}

// Whether text[i] is the second of two dots: the local part cannot hold "..".
bool after_double_dot(std::string_view text, std::size_t i, std::size_t at) noexcept {
    return text[i - 1] == '.' && i < at && text[i] == '.';
}

// The local part ending at `at`: [begin, at), or begin == at when there is none. Scans back at
// most kMaxLocal + 1 bytes, twice when a longer run mixes scripts (its ASCII end is taken then:
// "…说明john@"). After an ellipsis ("see...john@") the part starts after the last "..". Leading
// dots and apostrophes (quotes) are not part of it. Internationalised local parts (RFC 6531,
// "josé@") are read; domains only as A-labels ("xn--…").
std::size_t local_part_begin(std::string_view text, std::size_t at) noexcept {
    std::size_t begin = at;
    std::size_t continuation = 0;  // continuation bytes passed since the last lead byte
    bool mixed = false;
    for (; begin > 0; --begin) {
        const auto c = static_cast<unsigned char>(text[begin - 1]);
        if (c < 0x80) {
            if (continuation > 0 || !is_local_char(text[begin - 1]) || after_double_dot(text, begin, at)) break;
            continuation = 0;
        } else if (c >= 0xC0) {
            if (ends_local_part(text, begin - 1)) break;
            continuation = 0;
            mixed = true;
        } else {
            ++continuation;
        }
        if (at - begin == kMaxLocal) {  // one byte more than a local part may have
            if (!mixed) return at;      // an encoded blob, no address
            begin = at;
            while (begin > 0 && is_local_char(text[begin - 1]) && !after_double_dot(text, begin, at)) --begin;
            continuation = 0;
            break;
        }
    }
    begin += continuation;  // continuation bytes without their lead byte: not a character
    while (begin < at && (text[begin] == '.' || text[begin] == '\'')) ++begin;
    if (begin == at || text[at - 1] == '.') return at;
    // "ssh://git@host/…": the user of a URL's authority is a login at a host, not a mailbox.
    if (begin >= 2 && text[begin - 1] == '/' && text[begin - 2] == '/') return at;
    bool has_letter = false;
    for (std::size_t i = begin; i < at; ++i)
        has_letter = has_letter || is_alnum(text[i]) || static_cast<unsigned char>(text[i]) >= 0x80;
    return has_letter ? begin : at;
}

// The end of the domain after the '@' at `at`, or `at` when there is none: the longest run of
// valid labels (1-63 letters, digits, hyphens, no hyphen first or last) of which the last is a
// TLD and which has at least two labels ("localhost" has none, "pkg@1.2.3" ends in no TLD). The
// run is cut at an invalid label, so "john@example.com." and "john@example.com.Thanks" (a
// missing space) both end after "com". Reads at most max_length + 1 bytes.
std::size_t domain_end(std::string_view text, std::size_t at, std::size_t max_length) noexcept {
    std::size_t end = at + 1;
    while (end < text.size() && end - (at + 1) <= max_length && is_domain_char(text[end])) ++end;
    std::size_t best = at;
    std::size_t labels = 0;
    for (std::size_t begin = at + 1; begin < end;) {
        std::size_t stop = begin;
        while (stop < end && text[stop] != '.') ++stop;
        const std::size_t length = stop - begin;
        if (length == 0 || length > kMaxLabel || text[begin] == '-' || text[stop - 1] == '-') break;
        ++labels;
        if (labels >= 2 && is_tld(text.substr(begin, length))) best = stop;
        begin = stop + 1;
    }
    // A run cut by the length limit ends in a truncated label: no address.
    if (best == end && end < text.size() && is_domain_char(text[end])) return at;
    return best - (at + 1) > max_length ? at : best;
}

// ---------------------------------------------------------------------------------------------
// Phone numbers
//
// Rules (no per-country numbering plan: libphonenumber is not in core). A candidate is a run of
// digit groups joined by single separators (space - . /), where a group may be parenthesised,
// optionally after a '+'. Bare digits without a '+' never match (epoch seconds and millis, ids,
// counts). A run matches when it has one of these shapes:
//  - international: '+', first digit not 0, 8-15 digits in all (E.164; exactly 11 for +1 and
//    +7), separators space - . and parentheses ("+44 20 7946 0958", "+1 (555) 123-4567",
//    "+44 (0)20 7946 0958", "+14155552671"); not two groups joined by '.' ("+1.2345678" is a
//    signed decimal). The "00" prefix stands for the '+' when separators follow the rules of
//    national numbers below ("0049 30 1234567", "00 33 6 12 34 56 78");
//  - North American: 3-3-4 digits with one separator throughout, or "(555) 123-4567", optionally
//    after a country code "1" ("1-800-555-0199"); the area code does not start with 0 or 1;
//  - national with a trunk prefix: the first group starts with a single 0 ("020", "06", "0171")
//    and has 2-5 digits, 9-12 digits in all, one separator throughout; then either two groups,
//    the second of 5-8 digits ("030 12345678", "030/1234567", "07700 900123"), or three or more
//    groups of 2-4 digits after the first ("020 7946 0958", "06 12 34 56 78", "0151.496.0000").
// Whatever the shape, a run is refused when it starts with a date (2024-01-15, 15.01.2024,
// 01/15/2024), when it sits inside a longer token (a letter or digit next to it, joined to a
// letter or digit by . - /, or to a digit by , : = as in "v1.2.3", "ID123", "SKU-555…", "1,299.99",
// "12:30"), or after a currency sign ($ € £ ¥). "tel:", "phone=" and "John,555-…" are fine. A candidate that is a part
// of a longer run must start and end at a space, and must not use spaces itself: "10 20 30 40
// 50" is a list of numbers, "2024-01-15 555-123-4567" holds one phone number.

struct Group {
    std::size_t begin;      // first digit
    std::size_t end;        // after the last digit
    std::size_t tok_begin;  // the '(' of a parenthesised group, else begin
    std::size_t tok_end;    // after its ')', else end
    char sep;               // the separator after it: ' ', '-', '.', '/', 0 (none: "(555)123"), 'E' (end)
    bool paren;
};

constexpr std::size_t kMaxPhoneDigits = 15;      // E.164
constexpr std::size_t kMaxCandidateDigits = 17;  // with an international prefix "00"
constexpr std::size_t kChunk = 64;               // groups kept while a (long) run is read
constexpr std::size_t kWindow = 18;              // a candidate spans at most 17 groups (17 digits)

bool is_phone_sep(char c) noexcept { return c == ' ' || c == '-' || c == '.' || c == '/'; }

int two_digits(std::string_view text, const Group& g) noexcept {
    return (text[g.begin] - '0') * 10 + (text[g.begin + 1] - '0');
}

bool plausible_date(int day, int month) noexcept { return month >= 1 && month <= 12 && day >= 1 && day <= 31; }

// Whether groups g[0..2] read as a date: yyyy-mm-dd, dd-mm-yyyy or mm-dd-yyyy, with the same
// separator twice.
bool starts_with_date(std::string_view text, const Group* g, std::size_t count) noexcept {
    if (count < 3 || g[0].paren || g[1].paren || g[2].paren || g[0].sep != g[1].sep) return false;
    const std::size_t l0 = g[0].end - g[0].begin, l1 = g[1].end - g[1].begin, l2 = g[2].end - g[2].begin;
    if (l0 == 4 && l1 == 2 && l2 == 2) return plausible_date(two_digits(text, g[2]), two_digits(text, g[1]));
    if (l0 == 2 && l1 == 2 && l2 == 4) {
        const int a = two_digits(text, g[0]), b = two_digits(text, g[1]);
        return plausible_date(a, b) || plausible_date(b, a);
    }
    return false;
}

// Whether a run may start at `pos` (its '+', '(' or first digit): not inside a longer token.
bool phone_left_ok(std::string_view text, std::size_t pos) noexcept {
    if (pos == 0) return true;
    const char prev = text[pos - 1];
    if (is_word(prev) || prev == '$' || prev == '+') return false;
    const auto uprev = static_cast<unsigned char>(prev);
    if (pos >= 2) {
        const auto before = static_cast<unsigned char>(text[pos - 2]);
        if (before == 0xC2 && (uprev == 0xA3 || uprev == 0xA5)) return false;  // £ ¥
        if (pos >= 3 && uprev == 0xAC && before == 0x82 && static_cast<unsigned char>(text[pos - 3]) == 0xE2)
            return false;  // €
        // "tel:", "phone=", "John,": fine; "12:", "1,", "v1.", "a-", "x/": part of a longer token.
        if ((prev == ':' || prev == '=' || prev == ',') && is_digit(text[pos - 2])) return false;
        if ((prev == '.' || prev == '-' || prev == '/') && is_alnum(text[pos - 2])) return false;
    }
    return true;
}

// Whether a run may end at `pos` (after its last digit or ')').
bool phone_right_ok(std::string_view text, std::size_t pos) noexcept {
    if (pos >= text.size()) return true;
    const char next = text[pos];
    if (is_word(next)) return false;
    if (pos + 1 == text.size()) return true;
    const char after = text[pos + 1];
    if ((next == ',' || next == ':' || next == '=') && is_digit(after)) return false;
    if ((next == '.' || next == '-' || next == '/') && is_alnum(after)) return false;
    return true;
}

// Whether groups g[0..count) make a phone number (the shapes above). `plus`: the run's '+'
// precedes g[0]; `whole`: they are the whole run.
bool phone_shape(std::string_view text, const Group* g, std::size_t count, bool plus, bool whole) noexcept {
    auto length = [&](std::size_t k) { return g[k].end - g[k].begin; };
    std::size_t digits = 0;
    for (std::size_t k = 0; k < count; ++k) digits += length(k);
    // The separators between plain groups (those next to a parenthesised group are free).
    char sep = 0;
    bool mixed = false;
    for (std::size_t k = 0; k + 1 < count; ++k) {
        if (g[k].paren || g[k + 1].paren) {
            if (g[k].sep != 0 && g[k].sep != ' ' && g[k].sep != '-') return false;
            continue;
        }
        if (g[k].sep == 0) return false;
        if (sep == 0) sep = g[k].sep;
        mixed = mixed || g[k].sep != sep;
    }
    // International: the country code and number after '+' (or "00"), 8-15 digits, 11 for the
    // North American plan (+1) and Russia and Kazakhstan (+7).
    auto international = [&](std::size_t first, std::size_t number) {
        const char cc = text[first];
        if (number < 8 || number > kMaxPhoneDigits || cc == '0' || g[0].paren) return false;
        if ((cc == '1' || cc == '7') && number != 11) return false;
        for (std::size_t k = 0; k + 1 < count; ++k)
            if (g[k].sep == '/') return false;
        return !(count == 2 && sep == '.');  // "+1.2345678" is a signed decimal
    };
    if (plus) return international(g[0].begin, digits);
    if (count < 2 || mixed || starts_with_date(text, g, count)) return false;
    if (sep == ' ' && !whole) return false;
    // International with the "00" prefix: "0044 20 7946 0958", "00 33 6 12 34 56 78".
    if (length(0) >= 2 && text[g[0].begin] == '0' && text[g[0].begin + 1] == '0') {
        for (std::size_t k = 0; k < count; ++k)
            if (g[k].paren) return false;
        return sep != '.' && international(length(0) == 2 ? g[1].begin : g[0].begin + 2, digits - 2);
    }
    if (digits > kMaxPhoneDigits) return false;
    // North American: [1] (3) 3 4 or [1] 3 3 4.
    std::size_t a = 0;
    if (count == 4 && length(0) == 1 && text[g[0].begin] == '1' && !g[0].paren) a = 1;
    if (count - a == 3 && length(a) == 3 && length(a + 1) == 3 && length(a + 2) == 4 && !g[a + 1].paren &&
        !g[a + 2].paren && text[g[a].begin] >= '2' && sep != '/') {
        if (a == 1 && g[1].paren) return g[0].sep == ' ' || g[0].sep == '-';
        return true;
    }
    // National with a trunk prefix.
    if (digits < 9 || digits > 12 || length(0) < 2 || length(0) > 5) return false;
    if (text[g[0].begin] != '0') return false;
    for (std::size_t k = 1; k < count; ++k)
        if (g[k].paren) return false;
    if (count == 2) return sep != '.' && length(1) >= 5 && length(1) <= 8;
    if (sep == '/' || (count == 3 && length(0) == 3 && length(1) == 2 && length(2) == 4)) return false;  // SSN
    for (std::size_t k = 1; k < count; ++k)
        if (length(k) < 2 || length(k) > 4) return false;
    return true;
}

// Reads phone runs and evaluates their candidates. A run longer than kChunk groups is evaluated
// chunk by chunk with kWindow groups of overlap, so that memory stays bounded.
class PhoneScanner {
public:
    PhoneScanner(std::string_view text, std::vector<Finding>& out) : text_(text), out_(out) {}

    void run() {
        const std::size_t n = text_.size();
        for (std::size_t i = 0; i < n;) {
            const char c = text_[i];
            if (!(is_digit(c) || c == '+' || c == '(')) {
                ++i;
                continue;
            }
            const std::size_t end = read_run(i);
            i = end > i ? end : i + 1;
        }
    }

private:
    std::string_view text_;
    std::vector<Finding>& out_;
    std::vector<Group> groups_;
    std::size_t base_ = 0;      // the run index of groups_[0]
    char sep_before_ = 'E';     // the separator before groups_[0] (when base_ > 0)
    std::size_t resume_ = 0;    // the first run index a candidate may start at (after a match)
    std::size_t plus_pos_ = 0;  // the '+', when plus_
    bool plus_ = false;
    bool left_ok_ = false;

    // Parses a group at p into g; false when there is none ("(" without digits and ")").
    bool read_group(std::size_t p, Group& g) const noexcept {
        const std::size_t n = text_.size();
        if (p >= n) return false;
        if (text_[p] == '(') {
            std::size_t q = p + 1;
            while (q < n && q - p <= 6 && is_digit(text_[q])) ++q;
            if (q == p + 1 || q - p - 1 > 5 || q >= n || text_[q] != ')') return false;
            g = Group{p + 1, q, p, q + 1, 'E', true};
            return true;
        }
        if (!is_digit(text_[p])) return false;
        std::size_t q = p;
        while (q < n && is_digit(text_[q])) ++q;
        g = Group{p, q, p, q, 'E', false};
        return true;
    }

    // Reads the run starting at `start`; returns the position after it (start when none).
    std::size_t read_run(std::size_t start) {
        groups_.clear();
        base_ = 0;
        sep_before_ = 'E';
        resume_ = 0;
        plus_ = text_[start] == '+';
        plus_pos_ = start;
        left_ok_ = phone_left_ok(text_, start);
        std::size_t p = plus_ ? start + 1 : start;
        if (plus_ && (p >= text_.size() || !is_digit(text_[p]))) return start + 1;
        Group g{};
        if (!read_group(p, g)) return start + 1;
        for (;;) {
            p = g.tok_end;
            Group next{};
            const std::size_t n = text_.size();
            char sep = 'E';
            if (p < n && is_phone_sep(text_[p]) && read_group(p + 1, next) && (!next.paren || text_[p] == ' ')) {
                sep = text_[p];
            } else if (p < n && ((g.paren && is_digit(text_[p])) || (!g.paren && text_[p] == '(')) &&
                       read_group(p, next)) {
                sep = 0;
            }
            g.sep = sep;
            push(g);
            if (sep == 'E') break;
            g = next;
        }
        evaluate(true);
        return groups_.empty() ? p : groups_.back().tok_end;
    }

    void push(const Group& g) {
        if (groups_.size() == kChunk) {
            evaluate(false);
            const std::size_t drop = kChunk - kWindow;
            sep_before_ = groups_[drop - 1].sep;
            groups_.erase(groups_.begin(), groups_.begin() + static_cast<std::ptrdiff_t>(drop));
            base_ += drop;
        }
        groups_.push_back(g);
    }

    // Evaluates candidates starting in groups_ (all of them when `final`, else those whose
    // window lies inside groups_), the longest match at each start, without overlaps.
    void evaluate(bool final) {
        const std::size_t size = groups_.size();
        const std::size_t starts = final ? size : size - kWindow;
        for (std::size_t s = 0; s < starts; ++s) {
            const std::size_t index = base_ + s;
            if (index < resume_) continue;
            if (index == 0 ? !left_ok_ : (s == 0 ? sep_before_ : groups_[s - 1].sep) != ' ') continue;
            const bool plus = plus_ && index == 0;
            // A part of a run ("2 555-123-4567") uses no spaces itself: skip "1 1 1 …" at once.
            if (!(plus || (index == 0 && final)) && groups_[s].sep == ' ' && !groups_[s].paren &&
                !(s + 1 < size && groups_[s + 1].paren))
                continue;
            // The groups a candidate may span: at most kMaxCandidateDigits digits.
            std::size_t last = s;
            std::size_t digits = groups_[s].end - groups_[s].begin;
            const std::size_t limit = std::min(size, s + kWindow);
            while (last + 1 < limit &&
                   digits + (groups_[last + 1].end - groups_[last + 1].begin) <= kMaxCandidateDigits) {
                ++last;
                digits += groups_[last].end - groups_[last].begin;
            }
            if (digits > kMaxCandidateDigits) continue;
            for (std::size_t e = last + 1; e-- > s;) {
                const bool run_end = final && e + 1 == size;
                if (run_end ? !phone_right_ok(text_, groups_[e].tok_end) : groups_[e].sep != ' ') continue;
                if (!phone_shape(text_, &groups_[s], e - s + 1, plus, run_end && index == 0)) continue;
                out_.push_back(Finding{Detector::phone, plus ? plus_pos_ : groups_[s].tok_begin, groups_[e].tok_end});
                resume_ = base_ + e + 1;
                break;
            }
        }
    }
};

// ---------------------------------------------------------------------------------------------
// IP addresses
//
// IPv4: a dotted quad of decimal 0-255 without leading zeros, standing alone: not one of a
// longer dotted sequence ("1.2.3.4.5", an OID), not after a letter, digit or '.' ("v1.2.3.4"),
// not a product version ("Chrome/120.0.0.0": after a '/' that follows a letter or digit), not
// after a version word ("version 10.2.3.4", "build: 10.0.0.1"), and not four different one-digit
// octets ("1.2.3.4", "2.0.0.1": versions; "8.8.8.8" is kept).
// IPv6: validated like inet_pton (groups of 1-4 hex digits, at most one "::", 8 groups without
// it and at most 7 with it, an optional dotted IPv4 tail counting for two, an optional zone
// "%eth0"), and then told apart from times, MAC addresses and C++/Rust paths: it must have a
// "::" or 8 groups; a hex letter, or "::" and a group of 3 or more digits (or be "::1": "1::2"
// is a slice); with "::", two groups at least (or be "::1": "::123", "192::" are not hosts); a
// decimal digit ("a::b", "std::max" fail); its letters one case; and not 8 groups of exactly 2
// hex digits (an EUI-64). An IPv4 address inside an IPv6 one is reported once.

// Whether s is a dotted quad; `version_like` tells whether every octet is one digit but not all
// the same digit: "1.2.3.4", "2.0.0.1" are versions, not the addresses of anyone ("8.8.8.8" and
// "1.1.1.1" are public resolvers; one address in 400 000 has four one-digit octets).
bool ipv4_quad(std::string_view s, bool* version_like = nullptr) noexcept {
    if (version_like != nullptr) *version_like = s.size() == 7 && !(s[0] == s[2] && s[2] == s[4] && s[4] == s[6]);
    int groups = 0;
    std::size_t i = 0;
    while (true) {
        const std::size_t begin = i;
        int value = 0;
        while (i < s.size() && is_digit(s[i]) && i - begin < 4) value = value * 10 + (s[i++] - '0');
        const std::size_t length = i - begin;
        if (length == 0 || length > 3 || value > 255 || (length > 1 && s[begin] == '0')) return false;
        ++groups;
        if (i == s.size()) return groups == 4;
        if (s[i] != '.' || groups == 4) return false;
        ++i;
    }
}

bool version_word_before(std::string_view text, std::size_t pos) noexcept {
    std::size_t k = pos;
    int skipped = 0;
    while (k > 0 && skipped < 3 &&
           (text[k - 1] == ' ' || text[k - 1] == ':' || text[k - 1] == '=' || text[k - 1] == '.' ||
            text[k - 1] == '#' || text[k - 1] == '\t')) {
        --k;
        ++skipped;
    }
    std::size_t begin = k;
    while (begin > 0 && k - begin < 12 && is_alpha(text[begin - 1])) --begin;
    if (begin == k || (begin > 0 && is_alpha(text[begin - 1]))) return false;
    char word[12];
    const std::size_t length = k - begin;
    for (std::size_t i = 0; i < length; ++i) word[i] = lower(text[begin + i]);
    const std::string_view w(word, length);
    static constexpr std::string_view kWords[] = {"v",   "ver",      "version", "versions", "release", "rel", "build",
                                                  "rev", "revision", "fw",      "firmware", "sdk",     "app", "os"};
    for (std::string_view candidate : kWords)
        if (w == candidate) return true;
    return false;
}

void find_ipv4(std::string_view text, std::vector<Finding>& out) {
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n;) {
        if (!is_digit(text[i])) {
            ++i;
            continue;
        }
        // The maximal dotted digit sequence at i.
        const std::size_t start = i;
        std::size_t dots = 0;
        std::size_t end = i;
        while (end < n) {
            while (end < n && is_digit(text[end])) ++end;
            if (end + 1 < n && text[end] == '.' && is_digit(text[end + 1])) {
                ++dots;
                ++end;
                continue;
            }
            break;
        }
        i = end;
        bool version_like = false;
        if (dots != 3 || !ipv4_quad(text.substr(start, end - start), &version_like) || version_like) continue;
        if (start > 0) {
            const char prev = text[start - 1];
            if (is_word(prev) || prev == '.') continue;
            if (prev == '/' && start >= 2 && is_alnum(text[start - 2])) continue;
        }
        if (end < n && is_word(text[end])) continue;
        if (version_word_before(text, start)) continue;
        out.push_back(Finding{Detector::ip_address, start, end});
    }
}

bool is_ipv6_char(char c) noexcept { return is_hex(c) || c == ':' || c == '.'; }

// inet_pton-style validation of s plus the precision rules above.
bool ipv6_address(std::string_view s) noexcept {
    if (s.size() < 3 || s.size() > 45) return false;
    if (s[0] == ':' && s[1] != ':') return false;
    if (s.back() == ':' && s[s.size() - 2] != ':') return false;
    int groups = 0;
    bool compressed = false;
    bool hex_letter = false, upper = false, lower_case = false, decimal = false, long_decimal = false;
    bool all_two = true;
    std::size_t i = 0;
    if (s[0] == ':') {  // "::…"
        compressed = true;
        i = 2;
    }
    while (i < s.size()) {
        std::size_t j = i;
        while (j < s.size() && s[j] != ':') ++j;
        const std::string_view group = s.substr(i, j - i);
        if (group.find('.') != std::string_view::npos) {
            if (j != s.size() || !ipv4_quad(group)) return false;  // an IPv4 tail is last
            groups += 2;
            decimal = true;
            long_decimal = true;
            all_two = false;
            break;
        }
        if (group.empty() || group.size() > 4) return false;
        bool digits_only = true;
        for (char c : group) {
            if (!is_hex(c)) return false;
            if (is_digit(c)) {
                decimal = true;
            } else {
                digits_only = false;
                hex_letter = true;
                (c >= 'a' ? lower_case : upper) = true;
            }
        }
        if (digits_only && group.size() >= 3) long_decimal = true;
        all_two = all_two && group.size() == 2;
        ++groups;
        if (j == s.size()) break;
        if (j + 1 < s.size() && s[j + 1] == ':') {
            if (compressed) return false;  // a second "::"
            compressed = true;
            i = j + 2;
            if (i == s.size()) break;  // "…::"
            if (s[i] == ':') return false;
        } else {
            i = j + 1;
        }
    }
    if (compressed ? groups > 7 : groups != 8) return false;
    if (compressed && groups < 2 && s != "::1") return false;  // "::123", "192::", "fe80::": not a host
    if (!decimal || (upper && lower_case)) return false;
    if (!hex_letter && !(compressed && (long_decimal || s == "::1"))) return false;
    if (!compressed && all_two) return false;
    return true;
}

void find_ipv6(std::string_view text, std::vector<Finding>& out) {
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n;) {
        if (!(is_hex(text[i]) || text[i] == ':')) {
            ++i;
            continue;
        }
        std::size_t begin = i;
        std::size_t end = i;
        std::size_t colons = 0;
        while (end < n && is_ipv6_char(text[end])) colons += text[end++] == ':';
        i = end;
        if (colons < 2) continue;
        // Punctuation at the edges of the run: "ip:fe80::1", "at ::1.", "fe80::1: up".
        while (end > begin && text[end - 1] == '.') --end;
        if (end - begin >= 2 && text[end - 1] == ':' && text[end - 2] != ':') --end;
        if (end - begin >= 2 && text[begin] == ':' && text[begin + 1] != ':') ++begin;
        if (begin > 0 && (is_word(text[begin - 1]) || text[begin - 1] == '.')) continue;
        if (!ipv6_address(text.substr(begin, end - begin))) continue;
        std::size_t span_end = end;
        if (end == i && end + 1 < n && text[end] == '%') {  // zone: "fe80::1%eth0"
            std::size_t z = end + 1;
            while (z < n && z - end <= 16 && (is_alnum(text[z]) || text[z] == '_' || text[z] == '-')) ++z;
            if (z > end + 1) span_end = z;
        }
        if (span_end < n && is_word(text[span_end])) continue;
        out.push_back(Finding{Detector::ip_address, begin, span_end});
        i = std::max(i, span_end);
    }
}

}  // namespace

// Every '@' is an anchor: the local part is read backwards from it and the domain forwards, each
// within its length limit and never across another '@' (neither holds one), so a byte is read at
// most three times.
void find_emails(std::string_view text, std::vector<Finding>& out) {
    for (std::size_t at = text.find('@'); at != std::string_view::npos; at = text.find('@', at + 1)) {
        const std::size_t begin = local_part_begin(text, at);
        if (begin == at) continue;
        const std::size_t end = domain_end(text, at, kMaxAddress - (at - begin) - 1);
        if (end == at) continue;
        if (end < text.size()) {
            const char next = text[end];
            if (next == '_' || next == '@') continue;  // "a@b.com@c.com": only the last is whole
            // "git@github.com:org/repo": an scp-style location, not a mailbox.
            if (next == ':' && end + 1 < text.size() && !is_space(text[end + 1])) continue;
        }
        out.push_back(Finding{Detector::email, begin, end});
    }
}

void find_phones(std::string_view text, std::vector<Finding>& out) { PhoneScanner(text, out).run(); }

void find_ip_addresses(std::string_view text, std::vector<Finding>& out) {
    std::vector<Finding> v4;
    std::vector<Finding> v6;
    find_ipv4(text, v4);
    find_ipv6(text, v6);
    // Merge by position; an IPv4 address inside an IPv6 one ("::ffff:192.0.2.1") is part of it.
    // IPv6 spans do not overlap one another, so only the last one begun can hold f.
    std::size_t k = 0;
    for (const Finding& f : v4) {
        while (k < v6.size() && v6[k].begin <= f.begin) out.push_back(v6[k++]);
        if (k > 0 && f.end <= v6[k - 1].end) continue;
        out.push_back(f);
    }
    while (k < v6.size()) out.push_back(v6[k++]);
}

}  // namespace telemetry::pii

#include "core/base/no_postgres.hpp"
