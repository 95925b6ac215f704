// The numeric and secret PII scanners one by one (src/core/pii/numbers.cpp, secrets.cpp):
// payment cards, IBANs, US SSNs, JWTs, private keys and API keys, each with valid values in
// several formats, look-alikes that must not match, and near-miss inputs of 1 MB that must scan
// in linear time.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/pii/scanners.hpp"

namespace telemetry::pii {
namespace {

using Scanner = void (*)(std::string_view, std::vector<Finding>&);

// The spans `scan` finds in `text`, checking that each is well formed and that they come in
// order of position.
std::vector<std::string> found(Scanner scan, Detector detector, std::string_view text) {
    std::vector<Finding> out;
    scan(text, out);
    std::vector<std::string> spans;
    std::size_t last_begin = 0;
    for (const Finding& f : out) {
        EXPECT_TRUE(f.detector == detector);
        EXPECT_LT(f.begin, f.end);
        EXPECT_LE(f.end, text.size());
        EXPECT_GE(f.begin, last_begin);
        last_begin = f.begin;
        if (f.begin <= f.end && f.end <= text.size()) spans.emplace_back(text.substr(f.begin, f.end - f.begin));
    }
    return spans;
}

struct Case {
    std::string text;
    std::vector<std::string> expected;  // the spans found, in order
};

// A value found whole.
Case whole(const std::string& text) { return Case{text, {text}}; }
// A value in which nothing is found.
Case none(const std::string& text) { return Case{text, {}}; }

void check(Scanner scan, Detector detector, const std::vector<Case>& cases) {
    for (const Case& c : cases) EXPECT_EQ(found(scan, detector, c.text), c.expected) << "input: " << c.text;
}

std::string repeat(std::string_view s, std::size_t times) {
    std::string out;
    out.reserve(s.size() * times);
    for (std::size_t i = 0; i < times; ++i) out += s;
    return out;
}

// `n` characters of mixed-case letters and digits, different for each `seed` (for building key
// shapes in the test rather than writing key-like literals into the tree).
std::string base62(std::size_t n, unsigned seed = 1) {
    static constexpr std::string_view alphabet = "aB3cD5eF7gH9iJ1kL2mN4oP6qR8sT0uVwXyZAbCdEfGhIjKlMnOpQrStUvWxYz";
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += alphabet[(i * 7 + seed * 13) % alphabet.size()];
    return out;
}

std::string lower_hex(std::size_t n, unsigned seed = 1) {
    static constexpr std::string_view alphabet = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += alphabet[(i * 5 + seed * 3) % alphabet.size()];
    return out;
}

std::string base64url(std::string_view in) {
    static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    unsigned bits = 0;
    int nbits = 0;
    for (unsigned char c : in) {
        bits = (bits << 8) | c;
        nbits += 8;
        while (nbits >= 6) {
            nbits -= 6;
            out += alphabet[(bits >> nbits) & 63];
        }
    }
    if (nbits > 0) out += alphabet[(bits << (6 - nbits)) & 63];
    return out;
}

const std::string signature = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";  // 43, as HS256
const std::string claims = R"({"sub":"1234567890","name":"John Doe","iat":1516239022})";

std::string jwt(std::string_view header, std::string_view payload = claims, std::string_view sig = signature) {
    return base64url(header) + "." + base64url(payload) + "." + std::string(sig);
}

std::string jwt_alg(std::string_view alg) { return jwt(R"({"alg":")" + std::string(alg) + R"(","typ":"JWT"})"); }

// Checks that `scan` gets through `text` (about 1 MB) in well under a second.
void expect_fast(Scanner scan, const std::string& text) {
    ASSERT_GE(text.size(), 1000000u);
    std::vector<Finding> out;
    const auto start = std::chrono::steady_clock::now();
    scan(text, out);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 250)
        << "input starts " << text.substr(0, 40);
}

// ---- payment cards ----

TEST(PiiDetectNumbers, PaymentCards) {
    check(find_payment_cards, Detector::payment_card,
          {
              // Test numbers per brand, ungrouped and grouped.
              whole("4111 1111 1111 1111"),
              whole("4111111111111111"),
              whole("4111-1111-1111-1111"),
              whole("5555555555554444"),
              whole("5105 1051 0510 5100"),
              whole("2223003122003222"),         // Mastercard 2-series
              whole("378282246310005"),          // Amex
              whole("3782 822463 10005"),        // Amex 4-6-5
              whole("3714-496353-98431"),        // Amex 4-6-5 dashed
              whole("6011111111111117"),         // Discover
              whole("6011 0009 9013 9424"),      // Discover
              whole("6500000000000002"),         // Discover 65
              whole("6440000000000005"),         // Discover 644
              whole("3530111333300000"),         // JCB
              whole("3566 0020 2036 0505"),      // JCB
              whole("3589000000000000009"),      // JCB, 19 digits
              whole("30569309025904"),           // Diners 14
              whole("3056 930902 5904"),         // Diners 4-6-4
              whole("38520000023237"),           // Diners 38
              whole("36000000000008"),           // Diners 36
              whole("6200000000000005"),         // UnionPay
              whole("6759649826438453"),         // Maestro
              whole("500000000009"),             // Maestro, 12 digits
              whole("2200000000000004"),         // Mir
              whole("4222222222222"),            // Visa, 13 digits
              whole("4000000000000000006"),      // Visa, 19 digits
              whole("4000 0000 0000 0000 006"),  // 4-4-4-4-3
              // In context.
              {"card: 4012888888881881.", {"4012888888881881"}},
              {R"({"pan":"4012888888881881"})", {"4012888888881881"}},
              {"pay 4111111111111111 now, 5555555555554444 later", {"4111111111111111", "5555555555554444"}},
              {"4111 1111 1111 1111 exp 12/29", {"4111 1111 1111 1111"}},
              {"4111 1111 1111 1111 2029", {"4111 1111 1111 1111"}},  // the year is a word of its own
              {"4111111111111111 2029", {"4111111111111111"}},
              {"no. 12 4111 1111 1111 1111", {"4111 1111 1111 1111"}},
              {"card=4111111111111111&cvv=123", {"4111111111111111"}},
              {"(5555-5555-5555-4444)", {"5555-5555-5555-4444"}},
              // Luhn fails: order numbers.
              none("4111111111111112"),
              none("order 4111 1111 1111 1112"),
              none("5555555555554445"),
              // Epoch milliseconds (13 digits starting with 1), Luhn valid or not.
              none("1700000000004"),
              none("1700000000000"),
              none("ts=1700000000012"),
              // All one digit.
              none("4444444444444444"),
              none("0000 0000 0000 0000"),
              // Luhn-valid numbers outside the issuer table, or the wrong length for their brand.
              none("7000000000000005"),
              none("9000000000000001"),
              none("3400000000000000"),    // Amex prefix, 16 digits
              none("510000000000003"),     // Mastercard prefix, 15 digits
              none("2721000000000004"),    // above Mastercard's 2720
              none("3590000000000000"),    // above JCB's 3589
              none("30600000000001"),      // above Diners' 305
              none("400000000000006"),     // Visa prefix, 15 digits
              none("490154203237518"),     // an IMEI (Luhn valid, 15 digits)
              none("4111 1111 1111 111"),  // 15 digits
              // Part of a longer token or number.
              none("41111111111111110000"),
              none("a4111111111111111"),
              none("4111111111111111b"),
              none("1-4111-1111-1111-1111"),
              none("4111-1111-1111-1111-2029"),
              none("4111111111111111.99"),
              none("v1.4111111111111111"),
              // Inconsistent or doubled separators, odd groups.
              none("4111-1111 1111-1111"),
              none("4111--1111--1111--1111"),
              none("4111  1111  1111  1111"),
              none("4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"),
              none("41 11 11 11 11 11 11 11"),
              // Other numbers.
              none("550e8400-e29b-41d4-a716-446655440000"),
              none("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
              none("$1234.56"),
              none("2024-01-15"),
              none("12345-6789"),
              none("+1 (415) 555-2671"),
              none("0049 30 1234 5678"),
              none("+4915123456787"),  // a phone number (13 digits, Visa prefix, Luhn valid)
              none(""),
          });
}

// ---- IBANs ----

TEST(PiiDetectNumbers, Ibans) {
    check(find_ibans, Detector::iban,
          {
              whole("DE89 3704 0044 0532 0130 00"),
              whole("DE89370400440532013000"),
              whole("GB82 WEST 1234 5698 7654 32"),
              whole("GB82WEST12345698765432"),
              whole("GB29 NWBK 6016 1331 9268 19"),
              whole("FR14 2004 1010 0505 0001 3M02 606"),
              whole("ES91 2100 0418 4502 0005 1332"),
              whole("IT60 X054 2811 1010 0000 0123 456"),
              whole("NL91 ABNA 0417 1643 00"),
              whole("BE68 5390 0754 7034"),
              whole("CH93 0076 2011 6238 5295 7"),
              whole("AT61 1904 3002 3457 3201"),
              whole("PL61 1090 1014 0000 0712 1981 2874"),
              whole("NO93 8601 1117 947"),
              whole("NO9386011117947"),
              whole("MT84 MALT 0110 0001 2345 MTLC AST0 01S"),
              whole("LC55 HEMM 0001 0001 0012 0012 0002 3015"),
              whole("BR18 0036 0305 0000 1000 9795 493C 1"),
              whole("SC18 SSCB 1101 0000 0000 0000 1497 USD"),
              whole("IE29 AIBK 9311 5212 3456 78"),
              whole("PT50 0002 0123 1234 5678 9015 4"),
              whole("SE45 5000 0000 0583 9825 7466"),
              whole("FI21 1234 5600 0007 85"),
              whole("DK50 0040 0440 1162 43"),
              whole("KW81 CBKU 0000 0000 0000 1234 5601 01"),
              whole("QA58 DOHB 0000 1234 5678 90AB CDEF G"),
              whole("LI21 0881 0000 2324 013A A"),
              whole("SA03 8000 0000 6080 1016 7519"),
              whole("HU42 1177 3016 1111 1018 0000 0000"),
              whole("TR33 0006 1005 1978 6457 8413 26"),
              whole("RU4504452522540817810938091310419"),  // 33, the longest
              whole("YE85CBYE0001000000000000000000"),
              whole("NI04BAPR00000000000000000000"),
              whole("DE98370400440532013032"),  // check digits 98 and 02, the extremes
              whole("DE02370400440532013014"),
              // Any case.
              whole("de89 3704 0044 0532 0130 00"),
              whole("gb82 west 1234 5698 7654 32"),
              whole("Gb82WeSt12345698765432"),
              // In context.
              {"IBAN: DE89 3704 0044 0532 0130 00;", {"DE89 3704 0044 0532 0130 00"}},
              {"iban=DE89370400440532013000&amount=5", {"DE89370400440532013000"}},
              {R"({"iban":"NL91ABNA0417164300"})", {"NL91ABNA0417164300"}},
              {"from BE68539007547034 to NL91ABNA0417164300", {"BE68539007547034", "NL91ABNA0417164300"}},
              {"DE89 3704 0044 0532 0130 00 12", {"DE89 3704 0044 0532 0130 00"}},
              {"(BE68 5390 0754 7034)", {"BE68 5390 0754 7034"}},
              // mod-97 fails.
              none("DE89 3704 0044 0532 0130 01"),
              none("GB82 WEST 1234 5698 7654 33"),
              none("GB28 WEST 1234 5698 7654 32"),
              none("DE8937040044O532013000"),  // letter O for a zero
              none("SKU DE12ABC34567890123456"),
              none("FR76 3000 6000 0112 3456 7890 188"),
              // Check digits never issued, though mod-97 holds (01 ~ 98, 99 ~ 02).
              none("DE01370400440532013032"),
              none("DE99370400440532013014"),
              none("DE00370400440532013000"),
              // Wrong length for the country, or no IBAN country.
              none("DE893704004405320130"),
              none("DE8937040044053201300000"),
              none("DE89 3704 0044 0532 0130 0"),
              none("XX89370400440532013000"),
              none("US64SVBKUS6S3300958879"),
              // Part of a longer token, or not grouped by fours.
              none("ADE89370400440532013000"),
              none("DE89370400440532013000X"),
              none("1DE89370400440532013000"),
              none("DE89-3704-0044-0532-0130-00"),
              none("DE89  3704  0044  0532  0130  00"),
              none("DE89 37040044 0532 0130 00"),
              none("DE89 3704 0044 0532 013000"),
              // Other identifiers.
              none("550e8400-e29b-41d4-a716-446655440000"),
              none("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
              none("ORDER-2024-000123"),
              none("ABCD1234EFGH5678IJKL"),
              none("the de12 value"),
              none(""),
          });
}

// ---- US social security numbers ----

TEST(PiiDetectNumbers, UsSsns) {
    check(find_us_ssns, Detector::us_ssn,
          {
              whole("536-90-4399"),
              whole("536 90 4399"),
              whole("536.90.4399"),
              whole("078-05-1121"),
              whole("665-12-3456"),
              whole("667-12-3456"),
              whole("899-99-9998"),
              whole("001-01-0001"),
              whole("772-01-2345"),
              {"SSN: 536-90-4399", {"536-90-4399"}},
              {"ssn=536-90-4399&x=1", {"536-90-4399"}},
              {"(536-90-4399)", {"536-90-4399"}},
              {R"({"ssn":"536-90-4399"})", {"536-90-4399"}},
              {"536-90-4399.", {"536-90-4399"}},
              {"536-90-4399, 2024", {"536-90-4399"}},
              {"536-90-4399 12", {"536-90-4399"}},
              {"ID 536-90-4399\n", {"536-90-4399"}},
              {"536-90-4399 and 123-44-5678", {"536-90-4399", "123-44-5678"}},
              // Invalid areas, groups, serials.
              none("000-12-3456"),
              none("666-12-3456"),
              none("900-12-3456"),
              none("999-12-3456"),
              none("123-00-4567"),
              none("123-45-0000"),
              // All one digit, and the known samples.
              none("111-11-1111"),
              none("222 22 2222"),
              none("078-05-1120"),
              none("219-09-9999"),
              none("123-45-6789"),
              // Mixed delimiters.
              none("536-90.4399"),
              none("536 90-4399"),
              none("536.90-4399"),
              none("536_90_4399"),
              none("536/90/4399"),
              // Bare nine digits (key context only), ZIP+4 and other shapes.
              none("536904399"),
              none("12345-6789"),
              none("zip 94103-1234"),
              none("536--90--4399"),
              none("536-9-04399"),
              none("5369-0-4399"),
              none("2024-01-15"),
              none("+1 415-555-2671"),
              // Part of a longer number or token.
              none("1536-90-4399"),
              none("536-90-43990"),
              none("536-90-4399-1"),
              none("1-536-90-4399"),
              none("1.536.90.4399"),
              none("a536-90-4399"),
              none("536-90-4399b"),
              none("7 536 90 4399"),
              none("536 90 4399 7"),
              none("550e8400-e29b-41d4-a716-446655440000"),
              none(""),
          });
}

// ---- JWTs ----

TEST(PiiDetectSecrets, Jwts) {
    const std::string hs256 = jwt_alg("HS256");
    const std::string jwe_header = base64url(R"({"alg":"RSA-OAEP","enc":"A256GCM"})");
    const std::string jwe = jwe_header + "." + base64url("encrypted key bytes") + "." + base64url("iv bytes iv") + "." +
                            base64url("the ciphertext of the claims") + "." + base64url("a sixteen byte t");
    const std::string jwe_dir = base64url(R"({"alg":"dir","enc":"A128GCM"})") + ".." + base64url("iv bytes iv") + "." +
                                base64url("ciphertext") + "." + base64url("a sixteen byte t");
    check(
        find_jwts, Detector::jwt,
        {
            whole("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNT"
                  "E2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
            whole(hs256),
            whole(jwt_alg("HS384")),
            whole(jwt_alg("HS512")),
            whole(jwt_alg("RS256")),
            whole(jwt_alg("RS512")),
            whole(jwt_alg("ES256")),
            whole(jwt_alg("ES384")),
            whole(jwt_alg("PS256")),
            whole(jwt_alg("EdDSA")),
            whole(jwt(R"({"kid":"key-1","alg":"RS256"})")),
            whole(jwt(R"({"alg" : "HS256" })")),
            whole(jwt("{\"typ\": \"JWT\",\n  \"alg\":\n\"HS256\"\n}\n")),
            whole(jwt(R"({"alg":"RS256"})", R"({"a":1})", base62(342))),  // RS256: 342 characters
            whole(jwt(R"({"alg":"HS256"})", "not JSON at all")),
            whole(jwt(R"({"alg":"HS256"})", "{}")),
            whole(jwe),
            whole(jwe_dir),
            // In context.
            {"Authorization: Bearer " + hs256, {hs256}},
            {"token=" + hs256 + "&next=/", {hs256}},
            {R"({"id_token":")" + hs256 + R"("})", {hs256}},
            {"it was " + hs256 + ". Then", {hs256}},
            {hs256 + "=", {hs256}},
            {hs256 + " " + jwt_alg("ES256"), {hs256, jwt_alg("ES256")}},
            {hs256 + "," + hs256, {hs256, hs256}},
            // Unsigned (RFC 7519 §6): alg "none" and the final dot, with nothing after it.
            whole(jwt(R"({"alg":"none"})", claims, "")),
            whole(jwt(R"({"typ":"JWT", "alg" : "none" })", claims, "")),
            {"t=" + jwt(R"({"alg":"none"})", claims, "") + " x", {jwt(R"({"alg":"none"})", claims, "")}},
            // An empty signature with another alg, no final dot, or a signature too short.
            none(jwt(R"({"alg":"HS256"})", claims, "")),
            none(jwt(R"({"alg":"nonesuch"})", claims, "")),
            none(jwt(R"({"alg":"none"})", claims, "").substr(0, jwt(R"({"alg":"none"})", claims, "").size() - 1)),
            none(jwt(R"({"alg":"none"})", claims, "abc")),
            none(jwt(R"({"alg":"HS256"})", claims, "abc")),
            none(jwt(R"({"alg":"HS256"})", claims, base62(15))),
            // No payload (detached) or an empty JWE part.
            none(base64url(R"({"alg":"HS256"})") + ".." + signature),
            none(jwe_header + ".." + base64url("iv bytes iv") + ".." + base64url("a sixteen byte t")),
            // A header that is not a JSON object naming "alg".
            none(jwt(R"({"typ":"JWT"})")),
            none(jwt(R"({"typ":"alg"})")),
            none(jwt(R"({"algorithm":"HS256"})")),
            none(jwt(R"({"alg":"HS256"} trailing)")),
            none(jwt(R"({"alg" "HS256"})")),
            none(jwt(R"({ "alg": "HS256" })")),  // JSON text not starting {" does not start eyJ
            // The wrong number of segments.
            none(base64url(R"({"alg":"HS256"})") + "." + base64url(claims)),
            none(hs256 + "." + signature),
            none(jwe + "." + signature),
            none(base64url(R"({"alg":"HS256"})")),
            // Part of a longer token, or a later segment.
            none("x" + hs256),
            none("_" + hs256),
            none("a." + hs256),
            // Other base64 and prose.
            none("SGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IGEgSldUIGF0IGFsbA"),
            none("eyJhbGciOiJIUzI1NiJ9"),
            none("eyJ.eyJ.eyJ"),
            none("heyJude.eyJ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
            none("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"),
            none(""),
        });
}

// ---- private keys ----

TEST(PiiDetectSecrets, PrivateKeys) {
    const auto pem = [](const std::string& label, const std::string& body = "MIIEowIBAAKCAQEAx5s\nQm9ndXM=\n") {
        return "-----BEGIN " + label + "-----\n" + body + "-----END " + label + "-----";
    };
    const std::string rsa = pem("RSA PRIVATE KEY");
    const std::string ppk2 =
        "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: rsa-key-20240101\nPublic-Lines: 1\n"
        "AAAAB3NzaC1yc2E=\nPrivate-Lines: 1\nAAABAQCx=\nPrivate-MAC: 0a1b2c3d4e5f";
    const std::string ppk3 =
        "PuTTY-User-Key-File-3: ssh-ed25519\r\nEncryption: none\r\nComment: ed\r\nPublic-Lines: 1\r\nAAAAC3=\r\n"
        "Private-Lines: 1\r\nAAAAIG=\r\nPrivate-MAC: 99aa";
    const std::string ppk1 = "PuTTY-User-Key-File-1: ssh-rsa\nPrivate-Lines: 1\nAAAA\nPrivate-Hash: 1234abcd";
    check(find_private_keys, Detector::private_key,
          {
              whole(rsa),
              whole(pem("EC PRIVATE KEY")),
              whole(pem("DSA PRIVATE KEY")),
              whole(pem("OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n")),
              whole(pem("ENCRYPTED PRIVATE KEY")),
              whole(pem("PRIVATE KEY")),
              whole(pem("PGP PRIVATE KEY BLOCK", "\nlQOYBF0=\n=abcd\n")),
              whole(pem("RSA PRIVATE KEY", "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,ABC\n\nMIIE\n")),
              whole(pem("PRIVATE KEY", "")),
              whole(pem("RSA PRIVATE KEY", "MIIE\\nQm9n\\n")),  // JSON-escaped new lines left in
              whole("-----BEGIN RSA PRIVATE KEY-----\r\nMIIE\r\n-----END RSA PRIVATE KEY-----"),
              whole(ppk2),
              whole(ppk3),
              whole(ppk1),
              // In context: the span ends with the END line.
              {"key: " + rsa + "\nthanks", {rsa}},
              {R"({"key":")" + rsa + R"("})", {rsa}},
              {ppk2 + "\nmore text", {ppk2}},
              {ppk3 + "\r\nmore text", {ppk3}},
              {rsa + "\n" + pem("EC PRIVATE KEY"), {rsa, pem("EC PRIVATE KEY")}},
              {ppk2 + "\n" + rsa, {ppk2, rsa}},
              {rsa + "\n" + ppk2, {rsa, ppk2}},
              {pem("CERTIFICATE") + "\n" + rsa, {rsa}},
              // No END line (truncated, or another label): to the end of the text.
              whole("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx5s"),
              whole("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END RSA PRIVATE KEY-----\nrest"),
              {"key -----BEGIN PRIVATE KEY-----\nMIIE", {"-----BEGIN PRIVATE KEY-----\nMIIE"}},
              {"-----BEGIN RSA PRIVATE KEY-----" + rsa, {"-----BEGIN RSA PRIVATE KEY-----" + rsa}},
              whole("PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nPrivate-Lines: 1\nAAAA"),
              whole("PuTTY-User-Key-File-3: ssh-rsa\nPrivate-Comment: x\nPrivate-MAC: ab"),
              // Not private keys.
              none(pem("CERTIFICATE")),
              none(pem("PUBLIC KEY")),
              none(pem("RSA PUBLIC KEY")),
              none(pem("CERTIFICATE REQUEST")),
              none(pem("RSA PRIVATE KEY BLOB")),
              none(pem("XPRIVATE KEY")),
              none("-----BEGIN private key-----\nabc\n-----END private key-----"),
              none("-----BEGIN PRIVATE KEY\nabc"),
              none("----BEGIN RSA PRIVATE KEY----\nabc"),
              none("-----BEGIN" + std::string(70, ' ') + "PRIVATE KEY-----"),
              none("-----BEGINRSA PRIVATE KEY-----"),
              none("BEGIN RSA PRIVATE KEY"),
              none("never store a private key in an event"),
              none("-----END RSA PRIVATE KEY-----"),
              none("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host"),
              none("PuTTY-User-Key-File ssh-rsa"),
              none("PuTTY-User-Key-File-x: ssh-rsa"),
              none("PuTTY-User-Key-File-2 ssh-rsa"),
              none(repeat("-----BEGIN ", 10)),
              none(""),
          });
}

// ---- API keys ----

TEST(PiiDetectSecrets, ApiKeys) {
    const std::string aws = "AKIA" + std::string("IOSFODNN7EXAMPLE");
    const std::string github = "ghp_" + base62(36);
    const std::string slack = "xoxb-" + std::string("123456789012-1234567890123-") + base62(24);
    const std::string stripe = "sk_live_" + base62(24);
    const std::string google = "AIza" + base62(33) + "-_";
    const std::string openai = "sk-" + base62(48);
    const std::string sendgrid = "SG." + base62(22) + "." + base62(43, 2);
    check(find_api_keys, Detector::api_key,
          {
              whole(aws),
              whole("ASIA" + std::string("Y34FZKBOKMUTVV7A")),
              whole(github),
              whole("gho_" + base62(36, 2)),
              whole("ghu_" + base62(36, 3)),
              whole("ghs_" + base62(36, 4)),
              whole("ghr_" + base62(36, 5)),
              whole("github_pat_" + base62(22) + "_" + base62(59, 2)),
              whole(slack),
              whole("xoxp-" + std::string("1234-5678-91011-") + lower_hex(32)),
              whole("xoxa-2-" + base62(40)),
              whole("xoxr-" + std::string("1-") + base62(30)),
              whole("xoxs-" + std::string("123456-") + base62(20)),
              whole(stripe),
              whole("sk_test_" + base62(99)),
              whole("rk_live_" + base62(30)),
              whole(google),
              whole(openai),
              whole("sk-proj-" + base62(48) + "_" + base62(60, 2) + "-" + base62(40, 3)),
              whole("sk-ant-api03-" + base62(93) + "AA"),
              whole(sendgrid),
              whole("SK" + lower_hex(32)),
              whole("npm_" + base62(36)),
              whole("glpat-" + base62(20)),
              // In context.
              {"aws_access_key_id=" + aws, {aws}},
              {R"({"key":")" + github + R"("})", {github}},
              {"Authorization: Bearer " + openai, {openai}},
              {"https://maps.example.com/api?key=" + google + "&q=1", {google}},
              {"keys: " + stripe + ", " + slack, {stripe, slack}},
              {"(" + sendgrid + ")", {sendgrid}},
              {aws + ".", {aws}},
              // Prose and near misses.
              none("task-list"),
              none("use the sk-learn package"),
              none("sk-this-is-a-very-long-kebab-case-identifier-name"),
              none("disk-" + base62(40)),
              none("ask-" + base62(40)),
              none("sk-" + base62(31)),
              none("AKIA" + std::string("IOSFODNN7EXAMPL")),
              none("AKIA" + std::string("IOSFODNN7EXAMPLEX")),
              none("AKIA" + std::string("iosfodnn7example")),
              none("X" + aws),
              none(aws + "_x"),
              none("ghp_" + base62(35)),
              none("ghp_" + base62(37)),
              none("ghx_" + base62(36)),
              none(github + "-suffix"),
              none("github_pat_" + base62(81)),
              none("xoxb-" + std::string("abc-def-ghijklmnop")),
              none("xoxb-123"),
              none("xoxb-1234567890123"),
              none("xoxz-" + std::string("123456789012-") + base62(24)),
              none("sk_live_" + base62(23)),
              none(stripe + "_x"),
              none("pk_live_" + base62(24)),
              none("AIza" + base62(34)),
              none("AIza" + base62(36)),
              none("SG." + base62(21) + "." + base62(43)),
              none("SG." + base62(22) + "." + base62(42)),
              none("SK" + lower_hex(31)),
              none("SK" + std::string("0123456789ABCDEF0123456789ABCDEF")),
              none("SKU-12345"),
              none("npm_" + base62(35)),
              none("550e8400-e29b-41d4-a716-446655440000"),
              none("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
              none("QUtJQUlPU0ZPRE5ON0VYQU1QTEU="),
              none(""),
          });
}

// ---- linear time ----

TEST(PiiDetectNumbers, NearMissesScanInLinearTime) {
    constexpr std::size_t mb = 1 << 20;
    expect_fast(find_payment_cards, repeat("4111 ", mb / 5 + 1));
    expect_fast(find_payment_cards, repeat("4111-", mb / 5 + 1));
    expect_fast(find_payment_cards, std::string(mb, '4'));
    expect_fast(find_payment_cards, repeat("4111 1111 1111 1112 ", mb / 20 + 1));
    expect_fast(find_ibans, repeat("DE89 ", mb / 5 + 1));
    expect_fast(find_ibans, repeat("DE89 3704 0044 0532 0130 01 ", mb / 28 + 1));
    expect_fast(find_ibans, "DE89" + std::string(mb, '0'));
    expect_fast(find_us_ssns, repeat("123-45-", mb / 7 + 1));
    expect_fast(find_us_ssns, repeat("1 ", mb / 2 + 1));
    expect_fast(find_us_ssns, std::string(mb, '5'));
}

TEST(PiiDetectSecrets, NearMissesScanInLinearTime) {
    constexpr std::size_t mb = 1 << 20;
    expect_fast(find_jwts, repeat("eyJ.", mb / 4 + 1));
    expect_fast(find_jwts, repeat("eyJ", mb / 3 + 1));
    expect_fast(find_jwts, repeat(" eyJhbGciOiJIUzI1NiJ9.", mb / 22 + 1));
    expect_fast(find_jwts, "eyJ" + std::string(mb, 'A') + ".x.y");
    expect_fast(find_private_keys, repeat("-----BEGIN ", mb / 11 + 1));
    expect_fast(find_private_keys, repeat("-----BEGIN CERTIFICATE-----\n", mb / 28 + 1));
    expect_fast(find_private_keys, repeat("-----BEGIN RSA PRIVATE KEY-----\n-----END ", mb / 40 + 1));
    expect_fast(find_private_keys, repeat("PuTTY-User-Key-File-", mb / 20 + 1));
    expect_fast(find_api_keys, repeat("sk-", mb / 3 + 1));
    expect_fast(find_api_keys, repeat(" sk-" + base62(31), mb / 35 + 1));
    expect_fast(find_api_keys, repeat(" xoxb-1", mb / 7 + 1));
    expect_fast(find_api_keys, "xoxb-1" + std::string(mb, '-'));
    expect_fast(find_api_keys, repeat("SG.", mb / 3 + 1));
    expect_fast(find_api_keys, repeat(" AKIA", mb / 5 + 1));
}

// What a near-miss input finds still comes out right (nothing, or what is really there).
TEST(PiiDetectNumbers, NearMissesFindNothing) {
    std::vector<Finding> out;
    find_payment_cards(repeat("4111 ", 1000), out);
    find_ibans(repeat("DE89 ", 1000), out);
    find_us_ssns(repeat("123-45-", 1000), out);
    find_jwts(repeat("eyJ.", 1000), out);
    find_private_keys(repeat("-----BEGIN ", 1000), out);
    find_api_keys(repeat("sk-", 1000), out);
    EXPECT_TRUE(out.empty());
    const std::string truncated = repeat("-----BEGIN RSA PRIVATE KEY-----\n", 1000);
    find_private_keys(truncated, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].begin, 0u);
    EXPECT_EQ(out[0].end, truncated.size());
}

}  // namespace
}  // namespace telemetry::pii
