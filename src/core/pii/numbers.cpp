// The numeric detectors: payment cards (Luhn and an IIN table), IBANs (per-country length and
// ISO 7064 mod-97) and US social security numbers (3-2-4 with one delimiter, SSA's invalid
// ranges). Each scanner visits the starts of candidate tokens once and looks a bounded number
// of bytes ahead of each (at most a card's 19 digits and their separators, an IBAN's 34
// characters and spaces, an SSN's 11 bytes), so the time is linear in the text.
#include <cstddef>
#include <string_view>
#include <vector>

#include "core/pii/scanners.hpp"

namespace telemetry::pii {

namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_alpha(char c) noexcept { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_alnum(char c) noexcept { return is_digit(c) || is_alpha(c); }
char to_upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// Whether a token starting at `begin` continues one to its left: a letter or digit right
// before it, a '+' (an international phone number), or a '-' or '.' with a digit before that
// ("1-4111...", "3.14159...").
bool continues_left(std::string_view text, std::size_t begin) noexcept {
    if (begin == 0) return false;
    const char c = text[begin - 1];
    if (is_alnum(c) || c == '+') return true;
    return (c == '-' || c == '.') && begin >= 2 && is_digit(text[begin - 2]);
}

// The same to the right of `end`.
bool continues_right(std::string_view text, std::size_t end) noexcept {
    if (end >= text.size()) return false;
    const char c = text[end];
    if (is_alnum(c)) return true;
    return (c == '-' || c == '.') && end + 1 < text.size() && is_digit(text[end + 1]);
}

// ---- payment cards ----

constexpr int card_min_digits = 12;
constexpr int card_max_digits = 19;

// An issuer range: the first `width` digits, read as a number, in [low, high], with a length
// in [min_length, max_length] (Visa's three lengths are listed apart).
struct IinRange {
    int width;
    int low;
    int high;
    int min_length;
    int max_length;
};

constexpr IinRange iin_ranges[] = {
    {1, 4, 4, 13, 13},       {1, 4, 4, 16, 16},       {1, 4, 4, 19, 19},                         // Visa
    {2, 51, 55, 16, 16},     {4, 2221, 2720, 16, 16},                                            // Mastercard
    {2, 34, 34, 15, 15},     {2, 37, 37, 15, 15},                                                // American Express
    {4, 6011, 6011, 16, 19}, {3, 644, 649, 16, 19},   {2, 65, 65, 16, 19},                       // Discover
    {4, 3528, 3589, 16, 19},                                                                     // JCB
    {3, 300, 305, 14, 19},   {4, 3095, 3095, 14, 19}, {2, 36, 36, 14, 19}, {2, 38, 39, 14, 19},  // Diners Club
    {2, 62, 62, 16, 19},                                                                         // UnionPay
    {2, 50, 50, 12, 19},     {2, 56, 69, 12, 19},                                                // Maestro
    {4, 2200, 2204, 16, 19},                                                                     // Mir
};

bool known_issuer(const char* digits, int length) noexcept {
    for (const IinRange& range : iin_ranges) {
        if (length < range.min_length || length > range.max_length) continue;
        int prefix = 0;
        for (int i = 0; i < range.width; ++i) prefix = prefix * 10 + (digits[i] - '0');
        if (prefix >= range.low && prefix <= range.high) return true;
    }
    return false;
}

bool luhn_valid(const char* digits, int length) noexcept {
    int sum = 0;
    for (int i = 0; i < length; ++i) {
        int d = digits[length - 1 - i] - '0';
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9) d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

bool valid_card(const char* digits, int length) noexcept {
    if (length < card_min_digits || length > card_max_digits) return false;
    // 13 digits starting with 1: epoch milliseconds (2001..2286), not a card (as Presidio).
    if (length == 13 && digits[0] == '1') return false;
    bool all_same = true;
    for (int i = 1; i < length; ++i) all_same = all_same && digits[i] == digits[0];
    if (all_same) return false;
    return known_issuer(digits, length) && luhn_valid(digits, length);
}

// Reads the digits at `pos` into `digits` after `count` of them, at most up to a card's 19.
// Returns how many were read, or -1 when the run goes on (more digits, or a letter).
int read_group(std::string_view text, std::size_t& pos, char* digits, int count) noexcept {
    int size = 0;
    while (pos < text.size() && is_digit(text[pos]) && count + size < card_max_digits) {
        digits[count + size] = text[pos];
        ++size;
        ++pos;
    }
    if (pos < text.size() && is_alnum(text[pos])) return -1;
    return size;
}

bool card_group_size(int size) noexcept { return size >= 3 && size <= 6; }

// A card candidate starting at `begin` (a digit that does not continue a token to its left).
// Either one run of 12-19 digits, or groups of 3-6 digits adding up to 12-19, joined by one
// separator, ' ' or '-', the same throughout ("4111 1111 1111 1111", "3782-822463-10005",
// "6011 0009 9013 9424 123"). A dash joins its groups into one token, so a dashed candidate
// must be whole; spaces separate words, so a spaced candidate may be the first groups of a
// longer run of numbers (the longest valid one is taken). Returns the end of the card, or 0.
std::size_t match_card(std::string_view text, std::size_t begin) noexcept {
    char digits[card_max_digits];
    std::size_t pos = begin;
    const int first = read_group(text, pos, digits, 0);
    if (first >= card_min_digits) {
        if (continues_right(text, pos)) return 0;
        return valid_card(digits, first) ? pos : 0;
    }
    if (!card_group_size(first)) return 0;
    const char separator = pos + 1 < text.size() && is_digit(text[pos + 1]) ? text[pos] : 0;
    if (separator != ' ' && separator != '-') return 0;
    const bool whole = separator == '-';
    int group_digits[card_max_digits];  // digits up to the end of each group
    std::size_t group_end[card_max_digits];
    group_digits[0] = first;
    group_end[0] = pos;
    int groups = 1;
    int count = first;
    // Each round: a separator and a digit follow the last group read.
    while (pos + 1 < text.size() && text[pos] == separator && is_digit(text[pos + 1])) {
        if (count == card_max_digits) {  // more groups than a card's digits
            if (whole) return 0;
            break;
        }
        ++pos;
        const int size = read_group(text, pos, digits, count);
        if (!card_group_size(size)) {  // too long, glued to letters, or not a card's group
            if (whole) return 0;
            break;
        }
        count += size;
        group_digits[groups] = count;
        group_end[groups] = pos;
        ++groups;
    }
    for (int k = groups; k >= 2; --k) {
        const int length = group_digits[k - 1];
        if (length < card_min_digits) break;
        if (!continues_right(text, group_end[k - 1]) && valid_card(digits, length)) return group_end[k - 1];
        if (whole) break;
    }
    return 0;
}

// ---- IBANs ----

// The IBAN countries of the SWIFT IBAN registry and their IBAN lengths.
struct IbanCountry {
    char code[3];
    unsigned char length;
};

constexpr IbanCountry iban_countries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22}, {"BH", 22},
    {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27},
    {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FK", 18}, {"FO", 18}, {"FR", 27},
    {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HN", 28}, {"HR", 21}, {"HU", 28},
    {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28},
    {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22},
    {"MK", 19}, {"MN", 20}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23},
    {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24},
    {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28},
    {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};
constexpr int iban_max_length = 34;

int iban_length(char a, char b) noexcept {
    for (const IbanCountry& country : iban_countries)
        if (country.code[0] == a && country.code[1] == b) return country.length;
    return 0;
}

// ISO 7064 MOD 97-10 over the IBAN moved to BBAN + country + check digits, letters as 10..35,
// reduced one character at a time (no big integer). Valid when the remainder is 1.
bool iban_checksum_valid(const char* chars, int length) noexcept {
    int remainder = 0;
    for (int i = 0; i < length; ++i) {
        const char c = chars[(i + 4) % length];
        if (is_digit(c)) remainder = (remainder * 10 + (c - '0')) % 97;
        else remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
    }
    return remainder == 1;
}

// An IBAN starting at `begin` (a letter that does not continue a token): country, two check
// digits, then letters and digits up to the country's length, either run together or in
// groups of four split by single spaces ("DE89 3704 0044 0532 0130 00"). Letters in any case.
// Returns the end, or 0.
std::size_t match_iban(std::string_view text, std::size_t begin) noexcept {
    if (begin + 4 > text.size()) return 0;
    const char a = to_upper(text[begin]);
    const char b = to_upper(text[begin + 1]);
    if (!is_alpha(a) || !is_alpha(b) || !is_digit(text[begin + 2]) || !is_digit(text[begin + 3])) return 0;
    const int length = iban_length(a, b);
    if (length == 0) return 0;
    // Check digits 00, 01 and 99 are never issued (they alias 97, 98 and 02 under mod 97).
    const int check = (text[begin + 2] - '0') * 10 + (text[begin + 3] - '0');
    if (check < 2 || check > 98) return 0;
    char chars[iban_max_length] = {a, b, text[begin + 2], text[begin + 3]};
    int count = 4;
    std::size_t pos = begin + 4;
    const bool spaced = pos + 1 < text.size() && text[pos] == ' ' && is_alnum(text[pos + 1]);
    while (count < length) {
        if (spaced && count % 4 == 0) {
            if (pos + 1 >= text.size() || text[pos] != ' ' || !is_alnum(text[pos + 1])) return 0;
            ++pos;
        }
        if (pos >= text.size() || !is_alnum(text[pos])) return 0;
        chars[count++] = to_upper(text[pos++]);
    }
    if (pos < text.size() && is_alnum(text[pos])) return 0;
    return iban_checksum_valid(chars, length) ? pos : 0;
}

// ---- US social security numbers ----

bool valid_ssn(const char* d) noexcept {
    const int area = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    const int group = (d[3] - '0') * 10 + (d[4] - '0');
    const int serial = (d[5] - '0') * 1000 + (d[6] - '0') * 100 + (d[7] - '0') * 10 + (d[8] - '0');
    if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) return false;
    bool all_same = true;
    for (int i = 1; i < 9; ++i) all_same = all_same && d[i] == d[0];
    if (all_same) return false;
    // The Woolworth wallet card (078-05-1120), an advertised sample (219-09-9999), and the
    // example every form shows (123-45-6789, which Presidio also rejects).
    const std::string_view number(d, 9);
    return number != "078051120" && number != "219099999" && number != "123456789";
}

// An SSN starting at `begin`: AAA-GG-SSSS, the delimiter '-', ' ' or '.' used twice. Not part
// of a longer number: no digit or letter either side, and no further group joined by the same
// kind of delimiter ("1-123-45-6789", "123 45 6789 0"). ZIP+4 (12345-6789) has another shape.
std::size_t match_ssn(std::string_view text, std::size_t begin) noexcept {
    if (begin + 11 > text.size()) return 0;
    const char sep = text[begin + 3];
    if (sep != '-' && sep != ' ' && sep != '.') return 0;
    if (text[begin + 6] != sep) return 0;
    char d[9];
    int count = 0;
    for (std::size_t i = begin; i < begin + 11; ++i) {
        if (i == begin + 3 || i == begin + 6) continue;
        if (!is_digit(text[i])) return 0;
        d[count++] = text[i];
    }
    const std::size_t end = begin + 11;
    if (continues_left(text, begin) || continues_right(text, end)) return 0;
    if (sep == ' ') {
        if (begin >= 2 && text[begin - 1] == ' ' && is_digit(text[begin - 2])) return 0;
        if (end + 1 < text.size() && text[end] == ' ' && is_digit(text[end + 1])) return 0;
    }
    return valid_ssn(d) ? end : 0;
}

// Runs `match` at the start of every token of characters satisfying `in_token` that does not
// continue a token to its left, appending what it finds. After a failure the rest of the token
// is skipped, so each byte is a start at most once.
template <typename InToken, typename Match>
void scan_tokens(std::string_view text, std::vector<Finding>& out, Detector detector, InToken in_token, Match match) {
    std::size_t i = 0;
    while (i < text.size()) {
        if (!in_token(text[i])) {
            ++i;
            continue;
        }
        if (!continues_left(text, i)) {
            const std::size_t end = match(text, i);
            if (end != 0) {
                out.push_back(Finding{detector, i, end});
                i = end;
                continue;
            }
        }
        while (i < text.size() && in_token(text[i])) ++i;
    }
}

}  // namespace

void find_payment_cards(std::string_view text, std::vector<Finding>& out) {
    scan_tokens(text, out, Detector::payment_card, is_digit, match_card);
}

void find_ibans(std::string_view text, std::vector<Finding>& out) {
    scan_tokens(text, out, Detector::iban, is_alnum, match_iban);
}

void find_us_ssns(std::string_view text, std::vector<Finding>& out) {
    scan_tokens(text, out, Detector::us_ssn, is_digit, match_ssn);
}

}  // namespace telemetry::pii

#include "core/base/no_postgres.hpp"
