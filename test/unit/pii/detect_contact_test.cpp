// The contact detectors (e-mail, phone, IP address), normalise(), scan_value() and
// classify_key(): positives, the look-alikes that must not match, and linear time on inputs made
// of near misses.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/pii/detect.hpp"
#include "core/pii/scanners.hpp"

namespace telemetry::pii {
namespace {

using Scanner = void (*)(std::string_view, std::vector<Finding>&);

// The matched substrings, in the order found.
std::vector<std::string> matches(Scanner scan, const std::string& text) {
    std::vector<Finding> found;
    scan(text, found);
    std::vector<std::string> out;
    for (const Finding& f : found) out.push_back(text.substr(f.begin, f.end - f.begin));
    return out;
}

struct Positive {
    std::string text;
    std::vector<std::string> expected;
};

void expect_positives(Scanner scan, const std::vector<Positive>& cases) {
    for (const Positive& c : cases) EXPECT_EQ(matches(scan, c.text), c.expected) << "input: " << c.text;
}

void expect_negatives(Scanner scan, const std::vector<std::string>& cases) {
    for (const std::string& text : cases)
        EXPECT_EQ(matches(scan, text), std::vector<std::string>{}) << "input: " << text;
}

// ---------------------------------------------------------------------------------------------
// normalise

// The invisible and look-alike characters, by name.
const std::string kFullwidthAt = "\xEF\xBC\xA0";       // U+FF20
const std::string kFullwidthStop = "\xEF\xBC\x8E";     // U+FF0E
const std::string kIdeographicSpace = "\xE3\x80\x80";  // U+3000
const std::string kIdeographicStop = "\xE3\x80\x82";   // U+3002
const std::string kNbsp = "\xC2\xA0";                  // U+00A0
const std::string kNarrowNbsp = "\xE2\x80\xAF";        // U+202F
const std::string kZwsp = "\xE2\x80\x8B";              // U+200B
const std::string kZwnj = "\xE2\x80\x8C";              // U+200C
const std::string kZwj = "\xE2\x80\x8D";               // U+200D
const std::string kWordJoiner = "\xE2\x81\xA0";        // U+2060
const std::string kBom = "\xEF\xBB\xBF";               // U+FEFF
const std::string kSoftHyphen = "\xC2\xAD";            // U+00AD
const std::string kRlo = "\xE2\x80\xAE";               // U+202E

TEST(PiiNormalise, FoldsFullwidthFormsAndIdeographicSpace) {
    EXPECT_EQ(normalise("john" + kFullwidthAt + "example" + kFullwidthStop + "com"), "john@example.com");
    EXPECT_EQ(normalise("\xEF\xBC\x90\xEF\xBC\x96 12"), "06 12");  // fullwidth digits
    EXPECT_EQ(normalise("\xEF\xBD\x81\xEF\xBD\x9E"), "a~");        // the last of the block, U+FF5E
    EXPECT_EQ(normalise("a" + kIdeographicSpace + "b"), "a b");
    EXPECT_EQ(normalise("06" + kNbsp + "12" + kNarrowNbsp + "34"), "06 12 34");
    EXPECT_EQ(normalise("example" + kIdeographicStop + "com"), "example.com");
}

TEST(PiiNormalise, RemovesZeroWidthAndFormatCharacters) {
    EXPECT_EQ(normalise("jo" + kZwsp + "hn@exa" + kZwj + "mple.com"), "john@example.com");
    EXPECT_EQ(normalise("a" + kZwnj + "b" + kWordJoiner + "c" + kBom + "d" + kSoftHyphen + "e"), "abcde");
    EXPECT_EQ(normalise(kRlo + "moc.elpmaxe"), "moc.elpmaxe");
}

TEST(PiiNormalise, PercentDecodesOnce) {
    EXPECT_EQ(normalise("john%40example.com"), "john@example.com");
    EXPECT_EQ(normalise("%2B44%2020%207946%200958"), "+44 20 7946 0958");
    EXPECT_EQ(normalise("john%2540example.com"), "john%40example.com");  // once, not twice
    EXPECT_EQ(normalise("%EF%BC%A0"), "@");                              // decoded, then folded
    EXPECT_EQ(normalise("100% sure, %zz, %4, %"), "100% sure, %zz, %4, %");
    EXPECT_EQ(normalise("%ff%FE"), "\xff\xfe");  // invalid UTF-8 is fine
}

TEST(PiiNormalise, KeepsCaseAndInvalidUtf8) {
    EXPECT_EQ(normalise("JoHn@Example.COM"), "JoHn@Example.COM");
    EXPECT_EQ(normalise("\xff\xfe\xE2\x80"), "\xff\xfe\xE2\x80");
    EXPECT_EQ(normalise("café 中文"), "café 中文");
    EXPECT_EQ(normalise(""), "");
}

TEST(PiiNormalise, HiddenAddressesAreFoundAfterNormalising) {
    std::vector<Finding> found;
    const std::string text = normalise("mail: jo" + kZwsp + "hn" + kFullwidthAt + "example.com, ip 10%2E0.0.1");
    scan_value(text, found);
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].detector, Detector::email);
    EXPECT_EQ(text.substr(found[0].begin, found[0].end - found[0].begin), "john@example.com");
    EXPECT_EQ(found[1].detector, Detector::ip_address);
    EXPECT_EQ(text.substr(found[1].begin, found[1].end - found[1].begin), "10.0.0.1");
}

// ---------------------------------------------------------------------------------------------
// e-mail

TEST(PiiEmail, FindsAddresses) {
    const std::string local64(64, 'a');
    const std::vector<Positive> cases = {
        {"john@example.com", {"john@example.com"}},
        {"Contact: john.doe@example.com.", {"john.doe@example.com"}},
        {"<jane+tag@mail.example.co.uk>", {"jane+tag@mail.example.co.uk"}},
        {"JOHN@EXAMPLE.COM", {"JOHN@EXAMPLE.COM"}},
        {"mailto:info@company.org?subject=hi", {"info@company.org"}},
        {"a@b.io", {"a@b.io"}},
        {"first_last-99@sub-domain.example.net", {"first_last-99@sub-domain.example.net"}},
        {"{\"email\":\"user@example.de\"}", {"user@example.de"}},
        {"x@example.com,y@example.org", {"x@example.com", "y@example.org"}},
        {"o'brien@example.ie", {"o'brien@example.ie"}},
        {"'quoted@example.com'", {"quoted@example.com"}},
        {"see...john@example.com", {"john@example.com"}},
        {"user@xn--bcher-kva.de", {"user@xn--bcher-kva.de"}},
        {"user@example.xn--p1ai", {"user@example.xn--p1ai"}},
        {"name@example.com.Thanks", {"name@example.com"}},  // a missing space (".next" is a TLD)
        {"Email john@example.com: please reply", {"john@example.com"}},
        {"user%relay@example.com", {"user%relay@example.com"}},
        {"reply to support@example.shop now", {"support@example.shop"}},
        {"me@Example.Photography", {"me@Example.Photography"}},
        {"(alice@example.org)", {"alice@example.org"}},
        {"请联系john@example.com谢谢", {"john@example.com"}},  // CJK is written without spaces
        {local64 + "@example.com", {local64 + "@example.com"}},
        {"a@a@example.com", {"a@example.com"}},
        {"user@example.com/path", {"user@example.com"}},
        {"josé@example.com", {"josé@example.com"}},
        {"renée.smith@example.com", {"renée.smith@example.com"}},
        {"“john@example.com”", {"john@example.com"}},  // curly quotes
        {"a@example.com@example.org", {"example.com@example.org"}},
    };
    expect_positives(find_emails, cases);
}

TEST(PiiEmail, IgnoresLookAlikes) {
    const std::vector<std::string> cases = {
        "pkg@1.2.3",
        "lodash@4.17.21",
        "@scope/pkg@2.0.0-beta.1",
        "python@3.11",
        "git@github.com:org/repo.git",
        "ssh://git@github.com/org/repo.git",
        "@mention",
        "hi @john.doe how are you",
        "user@localhost",
        "@media screen and (max-width: 600px)",
        "a{color:red}@media print",
        "@import url(style.css)",
        "icon@2x.png",
        "logo@3x.jpg",
        "admin@server.local",
        "root@host.internal",
        "user@example",
        "user@example.notatld",
        "user@-example.com",
        "user@example-.com",
        "user.@example.com",
        "user@.com",
        "user@bar..com",
        "@",
        "a@b",
        "john@example.com_backup",
        "image@sha256:abcdef",
        "user@@example.com",
        "...@example.com",
        std::string(65, 'a') + "@example.com",
        "a@" + std::string(64, 'b') + ".com",
        std::string(60, 'a') + "@" + std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(63, 'd') +
            ".com",  // 256 octets
    };
    expect_negatives(find_emails, cases);
}

// ---------------------------------------------------------------------------------------------
// phone

TEST(PiiPhone, FindsNumbers) {
    const std::vector<Positive> cases = {
        {"+14155552671", {"+14155552671"}},
        {"+1 415 555 2671", {"+1 415 555 2671"}},
        {"+1 (555) 123-4567", {"+1 (555) 123-4567"}},
        {"+44 20 7946 0958", {"+44 20 7946 0958"}},
        {"+44 (0)20 7946 0958", {"+44 (0)20 7946 0958"}},
        {"+33 6 12 34 56 78", {"+33 6 12 34 56 78"}},
        {"+49 30 12345678", {"+49 30 12345678"}},
        {"+1-555-123-4567", {"+1-555-123-4567"}},
        {"+1.555.123.4567", {"+1.555.123.4567"}},
        {"+91 98765 43210", {"+91 98765 43210"}},
        {"+61 2 9876 5432", {"+61 2 9876 5432"}},
        {"(555) 123-4567", {"(555) 123-4567"}},
        {"(555)123-4567", {"(555)123-4567"}},
        {"555-123-4567", {"555-123-4567"}},
        {"555.123.4567", {"555.123.4567"}},
        {"555 123 4567", {"555 123 4567"}},
        {"1-800-555-0199", {"1-800-555-0199"}},
        {"1 (800) 555-0199", {"1 (800) 555-0199"}},
        {"020 7946 0958", {"020 7946 0958"}},
        {"(020) 7946 0958", {"(020) 7946 0958"}},
        {"06 12 34 56 78", {"06 12 34 56 78"}},
        {"06.12.34.56.78", {"06.12.34.56.78"}},
        {"030 12345678", {"030 12345678"}},
        {"030/1234567", {"030/1234567"}},
        {"0171 1234567", {"0171 1234567"}},
        {"07700 900123", {"07700 900123"}},
        {"0151 496 0000", {"0151 496 0000"}},
        {"tel:+14155552671", {"+14155552671"}},
        {"Call 555-123-4567 now", {"555-123-4567"}},
        {"call me at +1 555 123 4567.", {"+1 555 123 4567"}},
        {"2024-01-15 555-123-4567", {"555-123-4567"}},
        {"phone=555-123-4567&x=1", {"555-123-4567"}},
        {"{\"phone\":\"+44 7700 900123\"}", {"+44 7700 900123"}},
        {"555-123-4567, 020 7946 0958", {"555-123-4567", "020 7946 0958"}},
        {"Office (555) 123-4567 ext", {"(555) 123-4567"}},
        {"John,555-123-4567,NY", {"555-123-4567"}},  // CSV
        {"+1 555 123 4567 2024", {"+1 555 123 4567"}},
        {"0049 30 1234567", {"0049 30 1234567"}},
        {"0044 20 7946 0958", {"0044 20 7946 0958"}},
        {"00 33 6 12 34 56 78", {"00 33 6 12 34 56 78"}},
        {"+7 912 345-67-89", {"+7 912 345-67-89"}},
    };
    expect_positives(find_phones, cases);
}

TEST(PiiPhone, IgnoresDatesTimesPricesIdsAndVersions) {
    const std::vector<std::string> cases = {
        "2024-01-15",
        "15.01.2024",
        "01/15/2024",
        "12:30:45",
        "2024-01-15T12:30:45Z",
        "2024-01-15 12:30:45.123456",
        "05 01 2024 12",
        "1,299.99",
        "$12.50",
        "$1,234,567.89",
        "1705312345",
        "1705312345678",
        "14155552671",
        "123456789012345678",
        "order #12345678",
        "1.2.3",
        "10.0.19045.2965",
        "1.2.3.4",
        "2.0.0.1",
        "v1.2.3.4",
        "v10.0.0.1",
        "2.16.840.1.113883",
        "192.168.100.200",
        "4111 1111 1111 1111",
        "123-45-6789",
        "12345-6789",
        "978-3-16-148410-0",
        "10 20 30 40 50",
        "scores 12 555 123 4567",
        "+1 +1 +1",
        "+1.2345678",
        "+123",
        "+0 123 456 789",
        "abc+14155552671",
        "ID123-456-7890",
        "v555-123-4567",
        "555-123-4567-89",
        "100-200-3000",
        "000-123-4567",
        "555-1234",
        "12:30-13:45",
        "3.14159265358979",
        "1 299 000",
        "0.5 0.25 0.125",
        "00:1a:2b:3c:4d:5e",
        "2001:db8::1",
        "build 20240115.1234",
        "555-123-4567abc",
        "555-123-4567-abc",
        "SKU-555-123-4567",
        "12:555-123-4567",
        "+1 555 123 45",
        "078-05-1120",
        "0012 3456 7890",
        "00.01.2024",
        "0000 1111 2222",
        "00-123123(0)2024",
    };
    expect_negatives(find_phones, cases);
}

// A run of more groups than the scanner keeps at once is read in overlapping chunks: a number
// inside it is found wherever the chunks' edges fall.
TEST(PiiPhone, FindsNumbersInsideLongRuns) {
    for (int before = 0; before < 200; ++before) {
        std::string text;
        for (int i = 0; i < before; ++i) text += "1 ";
        text += "555-123-4567 ";
        for (int i = 0; i < 47; ++i) text += "2 ";
        text += "555.123.4567 3";
        EXPECT_EQ(matches(find_phones, text), (std::vector<std::string>{"555-123-4567", "555.123.4567"}))
            << "groups before: " << before;
    }
}

// ---------------------------------------------------------------------------------------------
// IP address

TEST(PiiIpAddress, FindsIpv4AndIpv6) {
    const std::vector<Positive> cases = {
        {"192.168.1.1", {"192.168.1.1"}},
        {"10.0.0.1:8080", {"10.0.0.1"}},
        {"10.0.0.0/8", {"10.0.0.0"}},
        {"http://203.0.113.7/path", {"203.0.113.7"}},
        {"IP: 8.8.8.8", {"8.8.8.8"}},
        {"0.0.0.0", {"0.0.0.0"}},
        {"255.255.255.255", {"255.255.255.255"}},
        {"client 198.51.100.23, proxy 10.1.2.3", {"198.51.100.23", "10.1.2.3"}},
        {"(127.0.0.1)", {"127.0.0.1"}},
        {"ip=1.2.3.40.", {"1.2.3.40"}},
        {"1.1.1.1", {"1.1.1.1"}},
        {"dns 9.9.9.9", {"9.9.9.9"}},
        {"{\"ip\":\"172.16.254.1\"}", {"172.16.254.1"}},
        {"::1", {"::1"}},
        {"fe80::1", {"fe80::1"}},
        {"fe80::1%eth0", {"fe80::1%eth0"}},
        {"2001:db8::1", {"2001:db8::1"}},
        {"2001:0db8:85a3:0000:0000:8a2e:0370:7334", {"2001:0db8:85a3:0000:0000:8a2e:0370:7334"}},
        {"2001:DB8::8A2E:370:7334", {"2001:DB8::8A2E:370:7334"}},
        {"::ffff:192.0.2.1", {"::ffff:192.0.2.1"}},
        {"[2001:db8::1]:443", {"2001:db8::1"}},
        {"addr fe80::1ff:fe23:4567:890a", {"fe80::1ff:fe23:4567:890a"}},
        {"2001:db8::", {"2001:db8::"}},
        {"ip:fe80::1", {"fe80::1"}},
        {"2001::1", {"2001::1"}},
        {"from ::1 and 10.0.0.2", {"::1", "10.0.0.2"}},
    };
    expect_positives(find_ip_addresses, cases);
}

TEST(PiiIpAddress, IgnoresVersionsTimesMacsAndCode) {
    const std::vector<std::string> cases = {
        "1.2.3.4",
        "2.0.0.1",
        "v1.2.3.4",
        "v10.0.0.1",
        "version 10.2.3.4",
        "Version: 10.2.3.4",
        "ver. 10.2.3.4",
        "release 2.1.0.3",
        "build 10.0.0.1",
        "1.2.3.4.5",
        "1.1.1.1.1.1.1.1",
        "1.2.3",
        "256.1.1.1",
        "01.2.3.4",
        "192.168.001.001",
        "Mozilla/5.0 Chrome/120.0.0.0 Safari/537.36",
        "abc1.2.3.4",
        "1.2.3.4a",
        "12:30:45",
        "2024-01-15T12:30:45",
        "00:1a:2b:3c:4d:5e",
        "00:1a:2b:ff:fe:3c:4d:5e",
        "1:2:3:4:5:6:7:8",
        "std::vector<int>",
        "a::b",
        "x[1::2]",
        "::",
        ":::1",
        "2001:db8::1::2",
        "2001:db8:1:2:3:4:5:6:7",
        "12345::1",
        "2001:Db8::1",
        "fe80::1g",
        "Foo::Bar::baz",
        "::123",
        "192::",
        "ffff::",
    };
    expect_negatives(find_ip_addresses, cases);
}

// ---------------------------------------------------------------------------------------------
// scan_value, detector_name

TEST(PiiScanValue, MergesAndSortsFindings) {
    const std::string text = "ip 10.0.0.1 mail bob@example.com tel +44 20 7946 0958";
    std::vector<Finding> found{Finding{Detector::iban, 0, 0}};  // kept: scan_value appends
    scan_value(text, found);
    ASSERT_EQ(found.size(), 4u);
    EXPECT_EQ(found[0].detector, Detector::iban);
    EXPECT_EQ(found[1].detector, Detector::ip_address);
    EXPECT_EQ(found[2].detector, Detector::email);
    EXPECT_EQ(found[3].detector, Detector::phone);
    EXPECT_LT(found[1].begin, found[2].begin);
    EXPECT_LT(found[2].begin, found[3].begin);
}

TEST(PiiDetectorName, NamesEveryDetector) {
    const char* names[] = {"email",  "phone",       "payment_card",   "iban",      "ip_address",
                           "us_ssn", "jwt",         "private_key",    "api_key",   "password",
                           "secret", "person_name", "street_address", "birth_date"};
    for (int i = 0; i < detector_count; ++i) EXPECT_EQ(detector_name(static_cast<Detector>(i)), names[i]);
}

// ---------------------------------------------------------------------------------------------
// classify_key

TEST(PiiClassifyKey, NamesTheDetector) {
    const std::vector<std::pair<std::string, Detector>> cases = {
        {"email", Detector::email},
        {"Email", Detector::email},
        {"EMAIL", Detector::email},
        {"e-mail", Detector::email},
        {"E-Mail", Detector::email},
        {"e_mail", Detector::email},
        {"mail", Detector::email},
        {"userEmail", Detector::email},
        {"user_email", Detector::email},
        {"useremail", Detector::email},
        {"emailAddress", Detector::email},
        {"email_address", Detector::email},
        {"contact_email", Detector::email},
        {"customer.email", Detector::email},
        {"emails", Detector::email},
        {"$email", Detector::email},
        {"phone", Detector::phone},
        {"phoneNumber", Detector::phone},
        {"phone_number", Detector::phone},
        {"tel", Detector::phone},
        {"telephone", Detector::phone},
        {"mobile", Detector::phone},
        {"mobile_number", Detector::phone},
        {"msisdn", Detector::phone},
        {"cell", Detector::phone},
        {"cellPhone", Detector::phone},
        {"homephone", Detector::phone},
        {"phone2", Detector::phone},
        {"ssn", Detector::us_ssn},
        {"SSN", Detector::us_ssn},
        {"social_security_number", Detector::us_ssn},
        {"socialSecurityNumber", Detector::us_ssn},
        {"card", Detector::payment_card},
        {"card_number", Detector::payment_card},
        {"cardNumber", Detector::payment_card},
        {"credit_card", Detector::payment_card},
        {"creditCardNumber", Detector::payment_card},
        {"cc", Detector::payment_card},
        {"cc_number", Detector::payment_card},
        {"pan", Detector::payment_card},
        {"cvv", Detector::payment_card},
        {"iban", Detector::iban},
        {"IBAN", Detector::iban},
        {"payout_iban", Detector::iban},
        {"ip", Detector::ip_address},
        {"$ip", Detector::ip_address},
        {"ip_address", Detector::ip_address},
        {"ipAddress", Detector::ip_address},
        {"IPAddress", Detector::ip_address},
        {"userIPAddress", Detector::ip_address},
        {"client_ip", Detector::ip_address},
        {"clientIp", Detector::ip_address},
        {"remote_addr", Detector::ip_address},
        {"REMOTE_ADDR", Detector::ip_address},
        {"X-Forwarded-For", Detector::ip_address},
        {"ipv4", Detector::ip_address},
        {"password", Detector::password},
        {"Password", Detector::password},
        {"passwd", Detector::password},
        {"pwd", Detector::password},
        {"passcode", Detector::password},
        {"pin", Detector::password},
        {"new_password", Detector::password},
        {"newpassword", Detector::password},
        {"password_confirmation", Detector::password},
        {"passwordConfirm", Detector::password},
        {"secret", Detector::secret},
        {"client_secret", Detector::secret},
        {"clientSecret", Detector::secret},
        {"token", Detector::secret},
        {"access_token", Detector::secret},
        {"accessToken", Detector::secret},
        {"refresh_token", Detector::secret},
        {"refreshtoken", Detector::secret},
        {"idToken", Detector::secret},
        {"api_key", Detector::secret},
        {"apiKey", Detector::secret},
        {"X-API-Key", Detector::secret},
        {"apikey", Detector::secret},
        {"private_key", Detector::secret},
        {"privateKey", Detector::secret},
        {"authorization", Detector::secret},
        {"Authorization", Detector::secret},
        {"auth", Detector::secret},
        {"bearer", Detector::secret},
        {"first_name", Detector::person_name},
        {"firstName", Detector::person_name},
        {"FirstName", Detector::person_name},
        {"firstname", Detector::person_name},
        {"last_name", Detector::person_name},
        {"lastName", Detector::person_name},
        {"full_name", Detector::person_name},
        {"fullName", Detector::person_name},
        {"surname", Detector::person_name},
        {"given_name", Detector::person_name},
        {"family_name", Detector::person_name},
        {"customer_name", Detector::person_name},
        {"customerName", Detector::person_name},
        {"customername", Detector::person_name},
        {"cardholder_name", Detector::person_name},
        {"address", Detector::street_address},
        {"home_address", Detector::street_address},
        {"billingAddress", Detector::street_address},
        {"street", Detector::street_address},
        {"street_address", Detector::street_address},
        {"streetAddress", Detector::street_address},
        {"address_line_1", Detector::street_address},
        {"addressLine2", Detector::street_address},
        {"address1", Detector::street_address},
        {"dob", Detector::birth_date},
        {"DOB", Detector::birth_date},
        {"birthdate", Detector::birth_date},
        {"birth_date", Detector::birth_date},
        {"birthDate", Detector::birth_date},
        {"date_of_birth", Detector::birth_date},
        {"dateOfBirth", Detector::birth_date},
        {"birthday", Detector::birth_date},
    };
    for (const auto& [key, expected] : cases) {
        Detector detector = Detector::email;
        ASSERT_TRUE(classify_key(key, detector)) << "key: " << key;
        EXPECT_EQ(detector_name(detector), detector_name(expected)) << "key: " << key;
    }
}

TEST(PiiClassifyKey, LeavesFlagsCountsAndLookAlikes) {
    const std::vector<std::string> cases = {
        // flags, counts and times about a thing are not the thing
        "email_verified",
        "emailVerified",
        "emailOptIn",
        "email_count",
        "emailSent",
        "email_domain",
        "has_email",
        "hasEmail",
        "numEmails",
        "is_mobile",
        "isMobile",
        "phoneVerified",
        "phone_type",
        "passwordChangedAt",
        "password_strength",
        "has_password",
        "passwordless",
        "ssn_verified",
        "card_type",
        "card_title",
        "scenario_card",
        "flashcard",
        "iban_country",
        "ip_country",
        "ipCount",
        // LLM tokens
        "tokenCount",
        "token_usage",
        "inputTokens",
        "outputTokens",
        "totalTokens",
        "tokens",
        "max_tokens",
        "prompt_tokens",
        "completion_tokens",
        "cachedTokens",
        "input_token",
        "token_type",
        "tokenizer",
        // names that are not a person's
        "name",
        "eventname",
        "event_name",
        "filename",
        "file_name",
        "hostname",
        "username",
        "user_name",
        "scenarioName",
        "displayName",
        "nickname",
        // addresses that are not a street's, coarse locations
        "mac_address",
        "wallet_address",
        "server_address",
        "postcode",
        "postal_code",
        "zip",
        "zip_code",
        "city",
        "birth_year",
        // words that merely contain a detector's word
        "voicemail",
        "voice_mail",
        "microphone",
        "iphone",
        "tooltip",
        "ship",
        "map_pin",
        "pinned",
        "pan_x",
        "cell_id",
        "auth_method",
        "authProvider",
        "oauth",
        "key",
        "public_key",
        "session_id",
        "user_id",
        "scenarioId",
        "source",
        "",
    };
    for (const std::string& key : cases) {
        Detector detector = Detector::email;
        EXPECT_FALSE(classify_key(key, detector)) << "key: " << key << " -> " << detector_name(detector);
    }
}

TEST(PiiClassifyKey, LongKeysAreClassifiedByTheirTail) {
    std::string key;
    for (int i = 0; i < 40; ++i) key += "part_";
    Detector detector = Detector::phone;
    EXPECT_TRUE(classify_key(key + "email", detector));
    EXPECT_EQ(detector, Detector::email);
    EXPECT_FALSE(classify_key(key + "pin", detector));  // not the whole key
    EXPECT_FALSE(classify_key(std::string(100000, 'a'), detector));
}

// ---------------------------------------------------------------------------------------------
// linear time

TEST(PiiLinearTime, NearMissesScanQuickly) {
    const std::vector<std::string> units = {"a@",   "a@a.", "1.",    "1:",   "+1 ", "1 ",       "1-", "(1)",
                                            "1 1-", "::",   "fe80:", "a.a@", "0",   "1.1.1.1 ", "+",  "555-123-4567-"};
    for (const std::string& unit : units) {
        std::string text;
        while (text.size() < (1u << 20)) text += unit;
        const auto start = std::chrono::steady_clock::now();
        std::vector<Finding> found;
        scan_value(normalise(text), found);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        EXPECT_LT(seconds, 0.5) << "unit: " << unit;
    }
}

}  // namespace
}  // namespace telemetry::pii
