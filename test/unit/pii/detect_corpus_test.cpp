// The PII detectors against a labelled corpus (detect.hpp): every value carries the set of
// detectors a reader would expect in it, written from ../shared/research/security-anchors.md
// §1.5 (what must be found, and the look-alikes that must not), not from the scanners' rules.
// The test measures precision and recall per detector and fails below 0.98, listing every value
// it got wrong. Check digits are computed here (Luhn, ISO 7064 mod-97), and the first test
// checks the labels themselves, so a wrong label cannot hide behind a wrong detector.
//
// Secret-shaped test values (API keys, private keys) are made up, and their literals are split
// (unsplit("gh", "p_...")) so that secret scanners reading this file do not take them for leaks.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/pii/detect.hpp"

namespace telemetry::pii {
namespace {

using D = Detector;
using DetectorSet = std::set<Detector>;

// ---------------------------------------------------------------------------------------------
// Check digits, computed by hand.

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// Luhn over a string of digits only.
bool luhn_valid(std::string_view digits) {
    int sum = 0;
    bool twice = false;
    for (std::size_t i = digits.size(); i-- > 0;) {
        int d = digits[i] - '0';
        if (twice) {
            d *= 2;
            if (d > 9) d -= 9;
        }
        sum += d;
        twice = !twice;
    }
    return sum % 10 == 0;
}

// `prefix` followed by the one digit that makes it pass Luhn.
std::string luhn_complete(std::string prefix) {
    for (char c = '0'; c <= '9'; ++c) {
        std::string candidate = prefix + c;
        if (luhn_valid(candidate)) return candidate;
    }
    return prefix;  // unreachable
}

int alnum_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    return -1;
}

// ISO 7064 mod 97-10 of an IBAN (spaces ignored): the first four characters moved to the end,
// letters as 10..35. A valid IBAN gives 1.
int iban_mod97(std::string_view iban) {
    std::string compact;
    for (char c : iban)
        if (c != ' ') compact += c;
    if (compact.size() < 5) return -1;
    const std::string rotated = compact.substr(4) + compact.substr(0, 4);
    int rest = 0;
    for (char c : rotated) {
        const int v = alnum_value(c);
        if (v < 0) return -1;
        rest = v >= 10 ? (rest * 100 + v) % 97 : (rest * 10 + v) % 97;
    }
    return rest;
}

// The length of an IBAN of `country` (ISO 13616 registry), for the countries used here.
std::size_t iban_length(const std::string& country) {
    if (country == "DE" || country == "GB") return 22;
    if (country == "FR" || country == "IT") return 27;
    if (country == "NL") return 18;
    if (country == "ES") return 24;
    if (country == "CH") return 21;
    return 0;
}

// An IBAN of `country` with the check digits that make `bban` valid.
std::string make_iban(const std::string& country, const std::string& bban) {
    const int rest = iban_mod97(country + "00" + bban);
    const int check = 98 - rest;
    std::string out = country;
    out += static_cast<char>('0' + check / 10);
    out += static_cast<char>('0' + check % 10);
    return out + bban;
}

// "DE89370400440532013000" -> "DE89 3704 0044 0532 0130 00" (with `sep`).
std::string group_every(std::string_view s, std::size_t n, char sep) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i > 0 && i % n == 0) out += sep;
        out += s[i];
    }
    return out;
}

// "378282246310005", {4, 6, 5} -> "3782 822463 10005".
std::string group_sizes(std::string_view s, std::initializer_list<std::size_t> sizes, char sep) {
    std::string out;
    std::size_t at = 0;
    for (std::size_t n : sizes) {
        if (at > 0) out += sep;
        out += std::string(s.substr(at, n));
        at += n;
    }
    return out;
}

// Fullwidth digits (U+FF10..U+FF19) for the ASCII digits of `s`; other bytes kept.
std::string fullwidth_digits(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c >= '0' && c <= '9') {
            out += "\xEF\xBC";
            out += static_cast<char>(0x90 + (c - '0'));
        } else if (c == '+') {
            out += "\xEF\xBC\x8B";  // U+FF0B
        } else {
            out += c;
        }
    }
    return out;
}

// Invisible and format characters that normalise() drops.
const std::string kZwsp = "\xE2\x80\x8B";  // U+200B zero width space
const std::string kZwnj = "\xE2\x80\x8C";  // U+200C
const std::string kZwj = "\xE2\x80\x8D";   // U+200D
const std::string kWj = "\xE2\x81\xA0";    // U+2060 word joiner
const std::string kBom = "\xEF\xBB\xBF";   // U+FEFF
const std::string kShy = "\xC2\xAD";       // U+00AD soft hyphen

// ---------------------------------------------------------------------------------------------
// The numbers the corpus is built from; LabelsAreRight checks each list.

// Published test numbers of the card networks and payment processors (all pass Luhn).
const std::vector<std::string> kCards = {
    "4111111111111111",     // Visa
    "4012888888881881",     // Visa
    "4222222222222",        // Visa, 13 digits
    "4242424242424242",     // Visa (Stripe)
    "4000056655665556",     // Visa debit (Stripe)
    "4917610000000000",     // Visa Electron
    "5555555555554444",     // Mastercard
    "5105105105105100",     // Mastercard
    "5200828282828210",     // Mastercard debit
    "5425233430109903",     // Mastercard
    "2223003122003222",     // Mastercard 2-series
    "2221000000000009",     // Mastercard 2-series
    "2223000048400011",     // Mastercard 2-series
    "2720990000000007",     // Mastercard 2-series, top of the range
    "378282246310005",      // Amex
    "371449635398431",      // Amex
    "378734493671000",      // Amex Corporate
    "6011111111111117",     // Discover
    "6011000990139424",     // Discover
    "6011981111111113",     // Discover debit
    "3530111333300000",     // JCB
    "3566002020360505",     // JCB
    "3566111111111113",     // JCB
    "30569309025904",       // Diners Club
    "38520000023237",       // Diners Club
    "36227206271667",       // Diners Club, 14 digits
    "6200000000000005",     // UnionPay
    "6205500000000000004",  // UnionPay, 19 digits
};

// Order numbers and ids of card length that fail Luhn.
const std::vector<std::string> kLuhnFailing = {
    "4111111111111112", "5555555555554440", "378282246310006",  "6011111111111110", "1234567890123456",
    "9876543210987654", "4532015112830367", "9526018159083016", "9613186091390996", "3530111333300001",
};

// 13-digit epoch milliseconds (2023-2024) chosen so that they PASS Luhn: only the rule "13 digits
// starting with 1 is a timestamp" (Presidio) keeps them out.
const std::vector<std::string> kEpochMsPassingLuhn = {
    "1700000000004", "1699999999996", "1705312245122", "1716239022007", "1680000000008", "1720000000002",
};

// Published example IBANs (ECBS, banks' documentation) and IBANs whose check digits are computed
// here; all satisfy mod-97 = 1.
const std::vector<std::string> kIbans = {
    "DE89370400440532013000",
    "DE44500105175407324931",
    "GB29NWBK60161331926819",
    "GB82WEST12345698765432",
    "FR1420041010050500013M02606",
    "FR7630006000011234567890189",
    "NL91ABNA0417164300",
    "NL20INGB0001234567",
    "ES9121000418450200051332",
    "ES7921000813610123456789",
    "IT60X0542811101000000123456",
    "CH9300762011623852957",
    make_iban("GB", "BARC20031851234567"),
    make_iban("NL", "RABO0123456789"),
    make_iban("IT", "X0300203280000400162854"),
    make_iban("CH", "04830000001234567"),
    make_iban("FR", "30003035400005048291346"),
    make_iban("ES", "00491500051234567892"),
    make_iban("DE", "100100100987654321"),
};

// Product codes and SKUs shaped like IBANs whose check digits are wrong (mod-97 != 1).
const std::vector<std::string> kIbanLookalikes = {
    "DE12345678901234567890",      "GB12ABCD12345612345678",   "NL12ABCD0123456789",
    "FR1234567890123456789012345", "DE89370400440532013001",  // one digit off a valid IBAN
    "CH1234567890123456789",       "ES1212345678901234567890", "IT12A1234567890123456789012",
};

// ---------------------------------------------------------------------------------------------
// The corpus.

struct Sample {
    std::string value;
    DetectorSet expected;
};

class Corpus {
public:
    void add(std::string value, std::initializer_list<Detector> expected) {
        samples_.push_back(Sample{std::move(value), DetectorSet(expected)});
    }
    void none(std::string value) { samples_.push_back(Sample{std::move(value), {}}); }
    const std::vector<Sample>& samples() const { return samples_; }

private:
    std::vector<Sample> samples_;
};

void add_emails(Corpus& c) {
    const D e = D::email;
    c.add("john.doe@example.com", {e});
    c.add("JOHN.DOE@EXAMPLE.COM", {e});
    c.add("Jane.Smith@Example.Org", {e});
    c.add("First.Last@Sub.Domain.Example.COM", {e});
    c.add("jane+newsletter@gmail.com", {e});
    c.add("jane+tag+more@example.com", {e});
    c.add("user@mail.sub.example.co.uk", {e});
    c.add("alerts@eu-west-1.mail.example.net", {e});
    c.add("support@EXAMPLE.co.jp", {e});
    c.add("user@example.xn--p1ai", {e});  // IDN TLD .рф in punycode
    c.add("info@xn--80aswg.xn--p1ai", {e});
    c.add("kim@example.xn--3e0b707e", {e});  // .한국
    c.add("first_last-99@my-company.io", {e});
    c.add("user-name@example-domain.com", {e});
    c.add("o'brien@example.ie", {e});
    c.add("a@b.co", {e});
    c.add("x@example.museum", {e});
    c.add("hello@example.technology", {e});
    c.add("ceo@startup.ai", {e});
    c.add("12345@numbers.example.com", {e});
    c.add("noreply@github.com", {e});
    c.add("Contact me at jane.smith@company.io for details.", {e});
    c.add("email me: bob@example.org.", {e});
    c.add("j.doe@example.com, thanks", {e});
    c.add("John Doe <john.doe@example.com>", {e});
    c.add("reply-to:<ops+alerts@example.com>", {e});
    c.add("mailto:support@example.com", {e});
    c.add("mailto:support@example.com?subject=Hello", {e});
    c.add("Emails: a.b@example.com; c.d@example.net", {e});
    c.add("\"quoted\" from anna.k@example.fr, see you", {e});
    // Percent-encoded (decoded once by normalise()).
    c.add("john%40example.com", {e});
    c.add("jane%2Bnews%40example.de", {e});
    c.add("https://app.example.com/invite?email=alice%40example.com&ref=1", {e});
    c.add("email=user%40example.org&step=2", {e});
    // Fullwidth forms.
    c.add("user＠example.com", {e});
    c.add("user＠example．com", {e});
    c.add("ｕｓｅｒ＠ｅｘａｍｐｌｅ．ｃｏｍ", {e});
    // Zero-width and format characters inside.
    c.add("jo" + kZwsp + "hn@example.com", {e});
    c.add("john@exa" + kZwsp + "mple.com", {e});
    c.add("john" + kZwj + "@example.com", {e});
    c.add("john@" + kZwnj + "example.com", {e});
    c.add("jo" + kShy + "hn@example.com", {e});
    c.add(kBom + "john@example.com", {e});
    c.add("user" + kWj + "@example.com", {e});

    // Look-alikes.
    c.none("react@18.2.0");
    c.none("@types/node@20.1.0");
    c.none("npm install react@18.2.0 react-dom@18.2.0");
    c.none("lodash@^4.17.21");
    c.none("@babel/core@7.22.5");
    c.none("pnpm add zod@3.22.4");
    c.none("https://cdn.jsdelivr.net/npm/jquery@3.7.1/dist/jquery.min.js");
    c.none("git@github.com:org/repo.git");
    c.none("git@gitlab.com:group/sub/project.git");
    c.none("git clone git@bitbucket.org:team/repo.git");
    c.none("@alice");
    c.none("thanks @bob and @carol_99!");
    c.none("@media (max-width: 600px) { .a { color: red } }");
    c.none("@import url(\"theme.css\");");
    c.none("@font-face");
    c.none("user@localhost");
    c.none("postgres@localhost:5432");
    c.none("name@example");
    c.none("user@example.zzz");  // not a TLD
    c.none("foo@bar");
    c.none("email@");
    c.none("@example.com");
    c.none("nginx@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    c.none("2 apples @ 3.99 each");
    c.none("@Override public String toString()");
    c.none("email verified: true");
}

void add_phones(Corpus& c) {
    const D p = D::phone;
    // E.164.
    c.add("+14155552671", {p});
    c.add("+442079460958", {p});
    c.add("+33123456789", {p});
    c.add("+4930123456", {p});
    c.add("+4915123456789", {p});
    c.add("+61291234567", {p});
    c.add("+819012345678", {p});
    c.add("+5511987654321", {p});
    // US.
    c.add("+1 415 555 2671", {p});
    c.add("+1 (415) 555-2671", {p});
    c.add("+1-415-555-2671", {p});
    c.add("(415) 555-2671", {p});
    c.add("415-555-2671", {p});
    c.add("415.555.2671", {p});
    c.add("1-800-555-0199", {p});
    c.add("Call (212) 555-0123 today", {p});
    c.add("tel:+1-212-555-0123", {p});
    // UK.
    c.add("+44 20 7946 0958", {p});
    c.add("+44 (0)20 7946 0958", {p});
    c.add("020 7946 0958", {p});
    c.add("07700 900123", {p});
    c.add("+44 7700 900123", {p});
    c.add("0161 496 0000", {p});
    // France.
    c.add("+33 1 23 45 67 89", {p});
    c.add("+33 (0)1 23 45 67 89", {p});
    c.add("01 23 45 67 89", {p});
    c.add("06 12 34 56 78", {p});
    c.add("+33 6 12 34 56 78", {p});
    c.add("01.23.45.67.89", {p});
    // Germany.
    c.add("+49 30 12345678", {p});
    c.add("+49-30-1234567", {p});
    c.add("+49 (0)30 1234567", {p});
    c.add("030 12345678", {p});
    c.add("(030) 1234 5678", {p});
    c.add("0151 23456789", {p});
    c.add("+49 151 23456789", {p});
    c.add("Tel.: 089 1234567", {p});
    // In a sentence, encoded, fullwidth, with an invisible character.
    c.add("My number is +1 415 555 2671, call after 5pm", {p});
    c.add("phone=%2B14155552671", {p});
    c.add(fullwidth_digits("+44 20 7946 0958"), {p});
    c.add("+44 20 7946" + kZwsp + " 0958", {p});

    // Look-alikes: dates, times, prices, order numbers, counts, epoch seconds, postcodes.
    c.none("2024-01-15");
    c.none("15.01.2024");
    c.none("01/15/2024");
    c.none("2024/01/15");
    c.none("15-01-2024");
    c.none("12:30:45");
    c.none("12:30:45.123");
    c.none("2024-01-15T12:30:45Z");
    c.none("2024-01-15 12:30:45.123456+00");
    c.none("$1,299.99");
    c.none("12.50 EUR");
    c.none("€1.299,00");
    c.none("USD 2,499,000.00");
    c.none("1 299,99 €");
    c.none("ORD-2024-000123");
    c.none("Order #100234567");
    c.none("INV-2023-04-00017");
    c.none("1234567");
    c.none("1,234,567");
    c.none("3.14159265");
    c.none("1700000000");
    c.none("1705312245");
    c.none("created_at=1716239022");
    c.none("90210");
    c.none("12345-6789");
    c.none("90210-1234");
    c.none("SW1A 1AA");
    c.none("75008 Paris");
    c.none("10115 Berlin");
    c.none("ISBN 978-3-16-148410-0");
    c.none("ISBN 0-306-40615-2");
    c.none("1Z999AA10123456784");
    c.none("48.8566, 2.3522");
    c.none("HTTP 404");
    c.none("+12345");
    c.none("build 20240115.3");
    c.none("scores 98 87 76 65 54");
    c.none("1920x1080");
    c.none("rgb(255, 128, 0)");
    c.none("page 12 of 345");
    c.none("phone number required");
}

void add_cards(Corpus& c) {
    const D k = D::payment_card;
    for (const std::string& card : kCards) c.add(card, {k});
    c.add("4111 1111 1111 1111", {k});
    c.add("4111-1111-1111-1111", {k});
    c.add(group_every("5555555555554444", 4, ' '), {k});
    c.add(group_every("5555555555554444", 4, '-'), {k});
    c.add(group_every("2223003122003222", 4, ' '), {k});
    c.add(group_sizes("378282246310005", {4, 6, 5}, ' '), {k});
    c.add(group_sizes("378282246310005", {4, 6, 5}, '-'), {k});
    c.add(group_every("6011111111111117", 4, ' '), {k});
    c.add(group_every("3530111333300000", 4, '-'), {k});
    c.add(group_sizes("30569309025904", {4, 6, 4}, ' '), {k});
    c.add(group_every("6200000000000005", 4, ' '), {k});
    c.add(group_every("6205500000000000004", 4, ' '), {k});
    c.add("card: 4111111111111111 exp 12/29", {k});
    c.add("Paid with Visa 4242 4242 4242 4242, thanks!", {k});
    c.add("cc=5105105105105100&cvv=123", {k});
    c.add("card%3D4111%201111%201111%201111", {k});  // "card=4111 1111 1111 1111"
    c.add(fullwidth_digits("4111 1111 1111 1111"), {k});
    c.add("4111" + kZwsp + "1111" + kZwsp + "1111" + kZwsp + "1111", {k});
    c.add(luhn_complete("453201511283036"), {k});  // a Visa number computed here

    // Look-alikes.
    for (const std::string& n : kLuhnFailing) c.none(n);
    c.none("Order 4532015112830367 shipped");
    c.none("order_id=9876543210987654");
    c.none(group_every("4111111111111112", 4, ' '));
    for (const std::string& ms : kEpochMsPassingLuhn) c.none(ms);
    c.none("1700000000000");
    c.none("ts=1716239022007");
    c.none("{\"sent_at\":1705312245122}");
    c.none("0000 0000 0000 0000");
}

void add_ibans(Corpus& c) {
    const D i = D::iban;
    for (const std::string& iban : kIbans) c.add(iban, {i});
    for (const std::string& iban : {std::string("DE89370400440532013000"), std::string("GB29NWBK60161331926819"),
                                    std::string("FR1420041010050500013M02606"), std::string("NL91ABNA0417164300"),
                                    std::string("ES9121000418450200051332"), std::string("IT60X0542811101000000123456"),
                                    std::string("CH9300762011623852957"), make_iban("DE", "100100100987654321")})
        c.add(group_every(iban, 4, ' '), {i});
    c.add("IBAN: DE89 3704 0044 0532 0130 00", {i});
    c.add("Please transfer to GB29 NWBK 6016 1331 9268 19 by Friday.", {i});
    c.add("iban=DE89%203704%200044%200532%200130%2000", {i});
    c.add("Konto NL91ABNA0417164300, danke", {i});

    for (const std::string& sku : kIbanLookalikes) c.none(sku);
    c.none("SKU GB12ABCD12345612345678");
    c.none("DE12 3456 7890 1234 5678 90");
    c.none("XX89370400440532013000");
    c.none("Enter your IBAN");
}

void add_ips(Corpus& c) {
    const D ip = D::ip_address;
    c.add("192.168.1.1", {ip});
    c.add("10.0.0.1", {ip});
    c.add("8.8.8.8", {ip});
    c.add("203.0.113.42", {ip});
    c.add("127.0.0.1", {ip});
    c.add("172.16.254.1", {ip});
    c.add("client 198.51.100.7 connected", {ip});
    c.add("172.16.254.1:8080", {ip});
    c.add("http://93.184.216.34/index.html", {ip});
    c.add("X-Forwarded-For: 203.0.113.195, 70.41.3.18", {ip});
    c.add("ip=100.64.0.10&ua=curl", {ip});
    c.add("Failed login from 45.33.32.156", {ip});
    c.add("(192.0.2.1)", {ip});
    c.add("2001:0db8:85a3:0000:0000:8a2e:0370:7334", {ip});
    c.add("2001:db8:85a3::8a2e:370:7334", {ip});
    c.add("2001:DB8::1", {ip});
    c.add("::1", {ip});
    c.add("fe80::1ff:fe23:4567:890a", {ip});
    c.add("[2001:db8::1]:443", {ip});
    c.add("http://[2001:db8::1]/path", {ip});
    c.add("::ffff:192.0.2.128", {ip});
    c.add("2606:4700:4700::1111", {ip});
    c.add("2001:db8:0:0:1:0:0:1", {ip});
    c.add("fd12:3456:789a:1::1", {ip});
    c.add("peer 2001:db8::42 port 5432", {ip});

    // Look-alikes: version strings, OIDs, MAC addresses, times, C++ scopes.
    c.none("1.2.3.4");
    c.none("v1.2.3.4");
    c.none("v10.0.0.1");
    c.none("1.2.3.4.5");
    c.none("10.0.0");
    c.none("192.168.1");
    c.none("256.1.1.1");
    c.none("999.999.999.999");
    c.none("1.3.6.1.4.1.311.21.7");
    c.none(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36");
    c.none("Chrome/120.0.0.0 Safari/537.36");
    c.none("00:1A:2B:3C:4D:5E");
    c.none("00-1A-2B-3C-4D-5E");
    c.none("001A.2B3C.4D5E");
    c.none("a4:83:e7:12:34:56");
    c.none("std::vector<int>");
    c.none("Foo::bar()");
    c.none("See section 4.2.1 for details");
}

void add_ssns(Corpus& c) {
    const D s = D::us_ssn;
    c.add("536-22-1234", {s});
    c.add("412-34-5678", {s});
    c.add("701-12-3456", {s});
    c.add("001-01-0001", {s});
    c.add("899-99-9998", {s});
    c.add("536 22 1234", {s});
    c.add("412 34 5678", {s});
    c.add("SSN: 457-12-5462", {s});
    c.add("my ssn is 321-54-9876", {s});
    c.add("ssn=536-22-1234&dob=1980-01-01", {s});
    c.add("Social Security Number 605-12-3456", {s});
    c.add("SSN 222-33-4444 on file", {s});

    // Look-alikes: invalid areas, groups and serials, known samples, mixed delimiters, bare 9
    // digits (an SSN only with key context), ZIP+4, wrong lengths.
    c.none("000-12-3456");
    c.none("666-12-3456");
    c.none("945-12-3456");
    c.none("536-00-1234");
    c.none("536-22-0000");
    c.none("111-11-1111");
    c.none("123-45-6789");
    c.none("987-65-4321");
    c.none("078-05-1120");
    c.none("536-22 1234");
    c.none("536221234");
    c.none("order 536221234");
    c.none("ZIP 12345-6789");
    c.none("536-22-12345");
    c.none("1536-22-1234");
    c.none("Your SSN is required");
}

// Made-up tokens of real shapes.
const std::string kJwt1 =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
    "XbPfbIHMI6arZ3Y922BhjWgQzWXcXNrz0ogtVhfEd2o";
const std::string kJwt2 =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyXzQyIiwiZXhwIjoxNzE2MjM5MDIyfQ."
    "-NmYQ2AytuvZfXvgaMm7xjE4eldJvnXPgNK0QlEklVI";
const std::string kJwt3 =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJhcGkifQ."
    "negYE_cXHlbrvtlN0Om28I2S2IqIlgmsOcDFyxLQ0NI";
const std::string kJwt4 =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYzEyMyJ9.eyJzdWIiOiI0MiIsInNjb3BlIjoicmVhZCB3cml0ZSJ9."
    "2WQiG1PbZpc_uz3y-uDPpFePu3qm3l93Dnjk7ormIf8";
const std::string kJwt5 =
    "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4IiwiYWRtaW4iOnRydWV9.vtDC3vxJbOHQZ3zx6LxfL4jrydm-tXuSil7agGdUkMc";
const std::string kJwtUnsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";  // alg "none", RFC 7519 §6

void add_jwts(Corpus& c) {
    const D j = D::jwt;
    c.add(kJwt1, {j});
    c.add(kJwt2, {j});
    c.add(kJwt3, {j});
    c.add(kJwt4, {j});
    c.add(kJwt5, {j});
    c.add(kJwtUnsigned, {j});
    c.add("Authorization: Bearer " + kJwt1, {j});
    c.add("token=" + kJwt2 + "&next=/home", {j});
    c.add("https://app.example.com/callback#id_token=" + kJwt4 + "&state=xyz", {j});
    c.add("{\"access_token\":\"" + kJwt3 + "\"}", {j});

    // Look-alikes: base64 that is not a JWT, dotted names.
    c.none("eyJmb28iOiJiYXIifQ.eyJ4IjoxfQ.c2lnbmF0dXJl");  // header {"foo":"bar"}: no alg
    c.none("eyJrZXkiOiJ2YWx1ZSJ9");
    c.none("eyJhbGciOiJIUzI1NiJ9");  // a header alone
    c.none("SGVsbG8gV29ybGQ=");
    c.none("dGhpcyBpcyBub3QgYSBqd3Q=");
    c.none("aGVsbG8.d29ybGQ.Zm9v");
    c.none("a.b.c");
    c.none("foo.bar.baz");
    c.none("archive.tar.gz");
    c.none("www.example.com");
    c.none(
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");
}

// Joins a secret-shaped literal written in two pieces (see the top of the file).
std::string unsplit(const char* head, const char* tail) { return std::string(head) + tail; }

const std::string kDashes = "-----";
std::string pem(const std::string& label, const std::string& body) {
    return kDashes + "BEGIN " + label + kDashes + "\n" + body + "\n" + kDashes + "END " + label + kDashes + "\n";
}
const std::string kBody =
    "aRtrZzQBeWH+JDgzW9d0mT39xS2Af/I67jGZPwBOHCL4U4fC3gEqFq9uS0DxxqG6\n"
    "hLcQYrJV44fd2S6vzjFTs1qZ44njgv8WInc58NQyuZ+rH0F9ylcQM2KN8Gsfx+O4\n"
    "Q7r7nCzaoZazJXk3d8DoykVt6eaNFc/JjiO9Xzrrg9JBTFtju8CK3AW5r67NWmw2\n"
    "T5j7Jt3EI3Zc+hqpyAHTLThzl9mFVyGRywm8Vj86PRUZW2XyKFd4t1PxWYf4nGit";

void add_private_keys(Corpus& c) {
    const D k = D::private_key;
    c.add(pem(unsplit("RSA PRIVATE", " KEY"), "MIIEowIBAAKCAQEA" + kBody), {k});
    c.add(pem(unsplit("PRIVATE", " KEY"), "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + kBody), {k});
    c.add(pem(unsplit("EC PRIVATE", " KEY"), "MHcCAQEEIBkg" + kBody), {k});
    c.add(pem(unsplit("OPENSSH PRIVATE", " KEY"),
              "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW" + kBody),
          {k});
    c.add(pem(unsplit("ENCRYPTED PRIVATE", " KEY"), "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI" + kBody), {k});
    c.add(pem(unsplit("DSA PRIVATE", " KEY"), "MIIBuwIBAAKBgQC" + kBody), {k});
    c.add(pem(unsplit("PGP PRIVATE", " KEY BLOCK"), "\nlQOYBGR" + kBody), {k});
    c.add(kDashes + unsplit("BEGIN RSA PRIVATE", " KEY") + kDashes, {k});  // a header alone, the rest cut off
    // As it sits in a JSON service-account file: the newlines are the two characters \ and n.
    c.add(kDashes + unsplit("BEGIN PRIVATE", " KEY") + kDashes + "\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n" + kDashes +
              unsplit("END PRIVATE", " KEY") + kDashes + "\\n",
          {k});
    c.add("key: " + kDashes + unsplit("BEGIN PRIVATE", " KEY") + kDashes + " MIIEvQIBADANBgkqhkiG9w0BAQEFAASC " +
              kDashes + unsplit("END PRIVATE", " KEY") + kDashes,
          {k});

    // Look-alikes: public material, words.
    c.none(pem("CERTIFICATE", "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa" + kBody));
    c.none(pem("PUBLIC KEY", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + kBody));
    c.none(pem("RSA PUBLIC KEY", "MIIBCgKCAQEA" + kBody));
    c.none(pem("CERTIFICATE REQUEST", "MIICijCCAXICAQAwRTELMAkGA1UEBhMC" + kBody));
    c.none("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy@ci");
    c.none("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7vbqajDhA user@host");
    c.none("Rotate the private key every 90 days.");
    c.none("private_key_id: 1234abcd");
}

void add_api_keys(Corpus& c) {
    const D a = D::api_key;
    c.add(unsplit("AKIA", "IOSFODNN7EXAMPLE"), {a});  // the AWS documentation's example key
    c.add(unsplit("AKIA", "MDHBCXGYL2XQ27GY"), {a});
    c.add(unsplit("ASIA", "OLBOR2KHNQJGU5PX"), {a});  // AWS temporary (STS) access key
    c.add(unsplit("aws_access_key_id = AKIA", "IOSFODNN7EXAMPLE"), {a});
    c.add(unsplit("gh", "p_JPtY6KeZBhO5mQnN8w2l7ExJvQWuYB2Ybr56"), {a});
    c.add(unsplit("gh", "o_P7hHxexiHhNv7KVtxUKTQoc7INsw0l3QtTos"), {a});
    c.add(unsplit("gh", "s_9LCp3DqhU710WEMy6M0HinQ113V5BN2AB0Al"), {a});
    c.add(unsplit("github", "_pat_11EEE12P3B7JVBM585W1ZU_rLfYn4qlxBV5i9lAesF20lWA8uLdRaPopAP0WLPwDjownBZ5iaLodYCbxM6"),
          {a});
    c.add(unsplit("export GITHUB_TOKEN=gh", "p_JPtY6KeZBhO5mQnN8w2l7ExJvQWuYB2Ybr56"), {a});
    c.add(unsplit("xox", "b-232106220884-3766348662797-djGqdrySJ1ExqhKsVaIk9a1y"), {a});
    c.add(unsplit("xox", "p-684221783434-479387753142-4258680014019-be240ea4777caf162c89cfa8ea23a9e8"), {a});
    c.add(unsplit("SLACK_BOT_TOKEN=xox", "b-232106220884-3766348662797-djGqdrySJ1ExqhKsVaIk9a1y"), {a});
    c.add(unsplit("sk_", "live_PlnBREzbnIrnuBSuEp7RG9H2"), {a});
    c.add(
        unsplit(
            "sk_",
            "live_51p1hAMA3xPwhxFMlpAaEpdInTJEjXpLMOeTgyw2hfZ2arcNml9SRVciiB8Tz6OeoA4GxpGcK9G4SAUixnYNpO5wEcyngQuCm6S"),
        {a});
    c.add(unsplit("rk_", "live_EUM94IJWWcSqwVvXdsjwk8zE"), {a});  // Stripe restricted key
    c.add(unsplit("sk_", "test_ZCR1JoFJi1SwfmOrn9TutDD7"), {a});  // a test-mode key is still a credential
    c.add(unsplit("stripe.api_key = \"sk_", "live_PlnBREzbnIrnuBSuEp7RG9H2\""), {a});
    c.add(unsplit("AI", "zadRdiLFjRbcgRhWXpvwVm7K9l-BxMhKKwvFS"), {a});
    c.add(unsplit("AI", "za92ZGEOwfAYXEF68Pe9ozeEFuljbgdXnV3W7"), {a});
    c.add(unsplit("https://maps.googleapis.com/maps/api/js?key=AI",
                  "zadRdiLFjRbcgRhWXpvwVm7K9l-BxMhKKwvFS&callback=init"),
          {a});
    c.add(unsplit("sk-", "uxDAcZG7q1Vhy5VmT5TDT3BlbkFJZy9uBieiQpCaD2Y5k5ms"), {a});
    c.add(
        unsplit(
            "sk-",
            "proj-muIiJxRRjgTAA-ORd6oIUy-OWw3jcPtlRnMaL4CUrMDonrP4duDrRyfpQcQXrVEx1NvS61i3XpT3BlbkFJVlP0i2d8sePFpiEy8s0VE8Nn8XP_rwk91i7cxYVHZiHbtpqRLQQ3IgNJT6umTTlZI2SfZpd1L9"),
        {a});
    c.add(unsplit("Authorization: Bearer sk-", "uxDAcZG7q1Vhy5VmT5TDT3BlbkFJZy9uBieiQpCaD2Y5k5ms"), {a});

    // Look-alikes: words with the prefixes, prefixes alone, hashes and ids.
    c.none("sk-learn");
    c.none("pip install scikit-learn  # not sk-learn");
    c.none("task-list");
    c.none("risk-assessment-matrix-2024-final-version");
    c.none("disk-usage-monitor");
    c.none("kiosk-mode-enabled");
    c.none("sk-SK");
    c.none("locale sk-SK, fallback cs-CZ");
    c.none("sk-this-is-not-a-key");
    c.none(unsplit("gh", "p_"));
    c.none("the AKIA prefix marks AWS access keys");
    c.none(unsplit("AKIA", "IOSFODNN7"));
    c.none("xoxo, gossip girl");
    c.none(unsplit("AI", "za"));
    c.none(unsplit("sk_", "live_"));
    c.none("550e8400-e29b-41d4-a716-446655440000");
    c.none("da39a3ee5e6b4b0d3255bfef95601890afd80709");  // a git SHA-1
    c.none("commit 9fceb02d0ae598e95dc970b74767f19372d61af8");
    c.none("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    c.none("d41d8cd98f00b204e9800998ecf8427e");
    c.none("session 8f14e45fceea167a5a36dedd4bea2543");
}

void add_mixed(Corpus& c) {
    c.add("Call +1 415 555 2671 or email jane@example.com", {D::phone, D::email});
    c.add("Contact: bob@example.org, +44 20 7946 0958", {D::email, D::phone});
    c.add("user=jane.doe@example.com&phone=%2B33123456789", {D::email, D::phone});
    c.add("login from 203.0.113.9 by alice@example.com", {D::ip_address, D::email});
    c.add("card 4111 1111 1111 1111, ssn 536-22-1234", {D::payment_card, D::us_ssn});
    c.add("IBAN DE89 3704 0044 0532 0130 00, Tel. +49 30 12345678", {D::iban, D::phone});
    c.add("token=" + kJwt5 + " from 10.0.0.5", {D::jwt, D::ip_address});
    c.add(unsplit("AKIA", "IOSFODNN7EXAMPLE leaked by dev@example.com"), {D::api_key, D::email});
    c.add("pay 5555555555554444 to GB29NWBK60161331926819", {D::payment_card, D::iban});
    c.add("owner ops@example.com\n" + pem(unsplit("EC PRIVATE", " KEY"), "MHcCAQEEIBkg" + kBody),
          {D::email, D::private_key});
    c.add(unsplit("from 2001:db8::1 with gh", "p_JPtY6KeZBhO5mQnN8w2l7ExJvQWuYB2Ybr56"), {D::ip_address, D::api_key});
    c.add("SSN 412-34-5678, DOB 1980-01-01, email x.y@example.net", {D::us_ssn, D::email});
    c.add("Jane (jane@example.com, 06 12 34 56 78) paid with 378282246310005 from 192.168.0.12",
          {D::email, D::phone, D::payment_card, D::ip_address});
}

void add_ordinary(Corpus& c) {
    c.none("");
    c.none(" ");
    c.none("null");
    c.none("true");
    c.none("OK");
    c.none("42");
    c.none("1000000");
    c.none("user_12345");
    c.none("id=987654321012");
    c.none("ORDER-20240115-000042");
    c.none("The quick brown fox jumps over the lazy dog.");
    c.none("Hello, world!");
    c.none("Checkout completed in 3 steps");
    c.none("Meeting at 10:30 in room B-204");
    c.none("Build #4521 passed on 2024-01-15");
    c.none("Signed up via Google");
    c.none("utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale");
    c.none("Error: connection refused (code 111)");
    c.none("Temperature 21.5°C, humidity 40%");
    c.none("50% off until 31/12");
    c.none("Task list: buy milk, call mom");
    c.none("Card declined, please try another payment method");
    c.none("https://www.example.com/products/shoes?size=42&color=blue");
    c.none("/api/v2/users/123/orders/456");
    c.none("#FF5733");
    c.none("Résumé téléchargé — merci !");
    c.none("日本語のテキスト");
    c.none("{\"a\":1,\"b\":[2,3]}");
}

const std::vector<Sample>& corpus() {
    static const std::vector<Sample> samples = [] {
        Corpus c;
        add_emails(c);
        add_phones(c);
        add_cards(c);
        add_ibans(c);
        add_ips(c);
        add_ssns(c);
        add_jwts(c);
        add_private_keys(c);
        add_api_keys(c);
        add_mixed(c);
        add_ordinary(c);
        return c.samples();
    }();
    return samples;
}

// ---------------------------------------------------------------------------------------------
// Reporting.

const std::vector<Detector>& all_detectors() {
    static const std::vector<Detector> all = [] {
        std::vector<Detector> v;
        for (int i = 0; i < detector_count; ++i) v.push_back(static_cast<Detector>(i));
        return v;
    }();
    return all;
}

// The value printable on one line: \n, \t, \\, other control bytes and every non-ASCII byte as
// escapes (so an invisible character shows).
std::string escaped(std::string_view s) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (c < 0x20 || c >= 0x7F) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xF];
        } else {
            out += ch;
        }
    }
    return out;
}

std::string names(const DetectorSet& set) {
    std::string out = "{";
    for (Detector d : set) {
        if (out.size() > 1) out += ", ";
        out += std::string(detector_name(d));
    }
    return out + "}";
}

// ---------------------------------------------------------------------------------------------
// Tests.

// The labels: card numbers pass Luhn, IBANs pass mod-97, look-alikes fail them.
TEST(PiiDetectCorpus, LabelsAreRight) {
    for (const std::string& card : kCards) {
        EXPECT_TRUE(all_digits(card)) << card;
        EXPECT_TRUE(luhn_valid(card)) << card;
        EXPECT_GE(card.size(), 13u) << card;
        EXPECT_LE(card.size(), 19u) << card;
    }
    for (const std::string& n : kLuhnFailing) EXPECT_FALSE(luhn_valid(n)) << n;
    for (const std::string& ms : kEpochMsPassingLuhn) {
        EXPECT_EQ(ms.size(), 13u) << ms;
        EXPECT_EQ(ms[0], '1') << ms;
        EXPECT_TRUE(luhn_valid(ms)) << ms;
    }
    EXPECT_FALSE(luhn_valid("1700000000000"));
    EXPECT_TRUE(luhn_valid(luhn_complete("453201511283036")));
    for (const std::string& iban : kIbans) {
        EXPECT_EQ(iban_mod97(iban), 1) << iban;
        EXPECT_EQ(iban.size(), iban_length(iban.substr(0, 2))) << iban << " has the wrong length for its country";
    }
    for (const std::string& sku : kIbanLookalikes) EXPECT_NE(iban_mod97(sku), 1) << sku;
    EXPECT_NE(iban_mod97("DE12 3456 7890 1234 5678 90"), 1);
    // The published example is reproduced by the check-digit computation.
    EXPECT_EQ(make_iban("DE", "370400440532013000"), "DE89370400440532013000");
    EXPECT_EQ(make_iban("GB", "NWBK60161331926819"), "GB29NWBK60161331926819");
    EXPECT_EQ(group_every("DE89370400440532013000", 4, ' '), "DE89 3704 0044 0532 0130 00");
    EXPECT_EQ(group_sizes("378282246310005", {4, 6, 5}, ' '), "3782 822463 10005");
    EXPECT_GE(corpus().size(), 320u);
}

// normalise() as detect.hpp describes it: fullwidth forms folded, zero-width and format
// characters removed, percent-encoding decoded once.
TEST(PiiDetectCorpus, NormaliseFoldsDropsAndDecodesOnce) {
    EXPECT_EQ(normalise("user＠example．com"), "user@example.com");
    EXPECT_EQ(normalise(fullwidth_digits("+44 20")), "+44 20");
    EXPECT_EQ(normalise("jo" + kZwsp + "hn" + kZwj + kWj + kBom + "@x"), "john@x");
    EXPECT_EQ(normalise("john%40example.com"), "john@example.com");
    EXPECT_EQ(normalise("%2540"), "%40");  // once, not twice
    EXPECT_EQ(normalise("plain text 123"), "plain text 123");
    EXPECT_EQ(normalise(""), "");
}

TEST(PiiDetectCorpus, PrecisionAndRecallPerDetector) {
    const std::vector<Sample>& samples = corpus();
    struct Counts {
        int tp = 0, fp = 0, fn = 0;
    };
    std::vector<Counts> counts(detector_count);
    struct Miss {
        const Sample* sample;
        std::string normalised;
        DetectorSet found;
        std::vector<Finding> findings;
    };
    std::vector<Miss> misses;

    for (const Sample& sample : samples) {
        const std::string normalised = normalise(sample.value);
        std::vector<Finding> findings;
        scan_value(normalised, findings);
        DetectorSet found;
        for (std::size_t i = 0; i < findings.size(); ++i) {
            const Finding& f = findings[i];
            EXPECT_LT(f.begin, f.end) << escaped(sample.value);
            EXPECT_LE(f.end, normalised.size()) << escaped(sample.value);
            if (i > 0) {
                EXPECT_LE(findings[i - 1].begin, f.begin) << "not in order of position: " << escaped(sample.value);
            }
            EXPECT_LT(static_cast<int>(f.detector), detector_count);
            found.insert(f.detector);
        }
        for (Detector d : all_detectors()) {
            const bool expected = sample.expected.count(d) > 0;
            const bool got = found.count(d) > 0;
            Counts& n = counts[static_cast<int>(d)];
            if (expected && got) ++n.tp;
            if (!expected && got) ++n.fp;
            if (expected && !got) ++n.fn;
        }
        if (found != sample.expected) misses.push_back(Miss{&sample, normalised, found, findings});
    }

    std::printf("\nPII detector corpus: %zu values\n", samples.size());
    std::printf("%-16s %5s %5s %5s %10s %8s\n", "detector", "TP", "FP", "FN", "precision", "recall");
    std::vector<std::string> below;
    for (Detector d : all_detectors()) {
        const Counts& n = counts[static_cast<int>(d)];
        const int positives = n.tp + n.fn;
        // No finding at all: precision is 1 when there is nothing to find, else 0.
        const double precision =
            n.tp + n.fp > 0 ? static_cast<double>(n.tp) / (n.tp + n.fp) : (positives > 0 ? 0.0 : 1.0);
        const double recall = positives > 0 ? static_cast<double>(n.tp) / positives : 1.0;
        std::printf("%-16s %5d %5d %5d %10.3f %8.3f\n", std::string(detector_name(d)).c_str(), n.tp, n.fp, n.fn,
                    precision, recall);
        if (positives > 0 && (precision < 0.98 || recall < 0.98)) below.push_back(std::string(detector_name(d)));
        // Key-name detectors are never seen in a value (detect.hpp).
        if (static_cast<int>(d) >= static_cast<int>(D::password)) {
            EXPECT_EQ(n.fp, 0) << detector_name(d) << " is a key-name detector but scan_value() reported it";
        }
    }

    if (!misses.empty()) {
        std::printf("\nMisclassified values (%zu):\n", misses.size());
        for (const Miss& m : misses) {
            DetectorSet missing, extra;
            for (Detector d : m.sample->expected)
                if (m.found.count(d) == 0) missing.insert(d);
            for (Detector d : m.found)
                if (m.sample->expected.count(d) == 0) extra.insert(d);
            std::printf("  \"%s\"\n    expected %s, found %s", escaped(m.sample->value).c_str(),
                        names(m.sample->expected).c_str(), names(m.found).c_str());
            if (!missing.empty()) std::printf("; missed %s", names(missing).c_str());
            if (!extra.empty()) std::printf("; extra %s", names(extra).c_str());
            std::printf("\n");
            if (m.normalised != m.sample->value) std::printf("    normalised \"%s\"\n", escaped(m.normalised).c_str());
            for (const Finding& f : m.findings) {
                if (f.begin < f.end && f.end <= m.normalised.size())
                    std::printf("    %s [%zu,%zu) \"%s\"\n", std::string(detector_name(f.detector)).c_str(), f.begin,
                                f.end, escaped(m.normalised.substr(f.begin, f.end - f.begin)).c_str());
            }
        }
    }
    std::fflush(stdout);

    for (const std::string& name : below)
        ADD_FAILURE() << "detector " << name << ": precision or recall below 0.98 (see the table and the list above)";
}

// ---------------------------------------------------------------------------------------------
// Key names.

struct KeyCase {
    const char* key;
    DetectorSet accepted;  // what classify_key() may answer
};

TEST(PiiClassifyKeyCorpus, NamesPersonalDataKeys) {
    const std::vector<KeyCase> cases = {
        // email
        {"email", {D::email}},
        {"Email", {D::email}},
        {"EMAIL", {D::email}},
        {"E-Mail", {D::email}},
        {"e_mail", {D::email}},
        {"email_address", {D::email}},
        {"emailAddress", {D::email}},
        {"EmailAddress", {D::email}},
        {"userEmail", {D::email}},
        {"user_email", {D::email}},
        {"contact-email", {D::email}},
        // phone
        {"phone", {D::phone}},
        {"Phone", {D::phone}},
        {"phoneNumber", {D::phone}},
        {"phone_number", {D::phone}},
        {"PHONE-NUMBER", {D::phone}},
        {"mobile", {D::phone}},
        {"mobileNumber", {D::phone}},
        {"tel", {D::phone}},
        {"telephone", {D::phone}},
        {"msisdn", {D::phone}},
        // social security number
        {"ssn", {D::us_ssn}},
        {"SSN", {D::us_ssn}},
        {"social_security_number", {D::us_ssn}},
        {"socialSecurityNumber", {D::us_ssn}},
        // birth date
        {"dob", {D::birth_date}},
        {"DOB", {D::birth_date}},
        {"birthDate", {D::birth_date}},
        {"birth_date", {D::birth_date}},
        {"date_of_birth", {D::birth_date}},
        {"dateOfBirth", {D::birth_date}},
        {"birthday", {D::birth_date}},
        // person name
        {"first_name", {D::person_name}},
        {"firstName", {D::person_name}},
        {"last_name", {D::person_name}},
        {"lastName", {D::person_name}},
        {"full_name", {D::person_name}},
        {"fullName", {D::person_name}},
        {"surname", {D::person_name}},
        // street address
        {"street", {D::street_address}},
        {"streetAddress", {D::street_address}},
        {"street_address", {D::street_address}},
        {"addressLine1", {D::street_address}},
        // password
        {"password", {D::password}},
        {"Password", {D::password}},
        {"PASSWORD", {D::password}},
        {"passwd", {D::password}},
        {"pwd", {D::password}},
        {"user_password", {D::password}},
        {"newPassword", {D::password}},
        // secrets
        {"api_key", {D::secret}},
        {"apiKey", {D::secret}},
        {"API-Key", {D::secret}},
        {"x-api-key", {D::secret}},
        {"access_token", {D::secret}},
        {"accessToken", {D::secret}},
        {"refresh_token", {D::secret}},
        {"auth_token", {D::secret}},
        {"secret", {D::secret}},
        {"client_secret", {D::secret}},
        {"clientSecret", {D::secret}},
        {"private_key", {D::private_key, D::secret}},
        {"privateKey", {D::private_key, D::secret}},
        // payment card, IBAN, IP address
        {"card_number", {D::payment_card}},
        {"cardNumber", {D::payment_card}},
        {"credit_card", {D::payment_card}},
        {"creditCardNumber", {D::payment_card}},
        {"iban", {D::iban}},
        {"IBAN", {D::iban}},
        {"ip", {D::ip_address}},
        {"ip_address", {D::ip_address}},
        {"ipAddress", {D::ip_address}},
        {"IP-Address", {D::ip_address}},
        {"client_ip", {D::ip_address}},
    };
    ASSERT_GE(cases.size(), 40u);
    int wrong = 0;
    for (const KeyCase& kc : cases) {
        Detector d = D::email;
        const bool named = classify_key(kc.key, d);
        if (!named || kc.accepted.count(d) == 0) {
            ++wrong;
            ADD_FAILURE() << "classify_key(\"" << kc.key << "\") gave "
                          << (named ? std::string(detector_name(d)) : std::string("nothing")) << ", expected "
                          << names(kc.accepted);
        }
    }
    std::printf("classify_key: %d of %zu personal-data keys wrong\n", wrong, cases.size());
}

TEST(PiiClassifyKeyCorpus, LeavesOrdinaryKeysAlone) {
    const std::vector<const char*> keys = {
        "inputTokens",   "outputTokens",  "totalTokens", "scenarioSlug",  "streamType", "latencyMs",   "durationMs",
        "messageCount",  "model",         "reason",      "attemptNumber", "success",    "percentUsed", "plan",
        "emailVerified", "phoneVerified", "eventName",   "pageTitle",     "buttonId",   "statusCode",  "retryCount",
        "screenWidth",   "locale",        "featureFlag", "errorCode",     "cacheHit",   "currency",    "itemCount",
    };
    ASSERT_GE(keys.size(), 20u);
    int wrong = 0;
    for (const char* key : keys) {
        Detector d = D::email;
        if (classify_key(key, d)) {
            ++wrong;
            ADD_FAILURE() << "classify_key(\"" << key << "\") gave " << detector_name(d) << ", expected nothing";
        }
    }
    std::printf("classify_key: %d of %zu ordinary keys wrongly classified\n", wrong, keys.size());
}

}  // namespace
}  // namespace telemetry::pii
