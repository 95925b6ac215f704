// The detectors' names, scan_value() over all value scanners, and classify_key(): what a
// property key names (detect.hpp).
#include "core/pii/detect.hpp"

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/pii/scanners.hpp"

namespace telemetry::pii {

std::string_view detector_name(Detector detector) noexcept {
    switch (detector) {
        case Detector::email:
            return "email";
        case Detector::phone:
            return "phone";
        case Detector::payment_card:
            return "payment_card";
        case Detector::iban:
            return "iban";
        case Detector::ip_address:
            return "ip_address";
        case Detector::us_ssn:
            return "us_ssn";
        case Detector::jwt:
            return "jwt";
        case Detector::private_key:
            return "private_key";
        case Detector::api_key:
            return "api_key";
        case Detector::password:
            return "password";
        case Detector::secret:
            return "secret";
        case Detector::person_name:
            return "person_name";
        case Detector::street_address:
            return "street_address";
        case Detector::birth_date:
            return "birth_date";
    }
    return "unknown";
}

namespace {

// Drops the phone numbers inside an IBAN or a payment card number found in the same place
// ("NL91 ABNA 0417 1643 00" ends in digit groups shaped like a French number): those two are
// validated by their check digits, a phone number only by its shape. `first`: where the sorted
// findings of this value begin in out.
void drop_phones_inside_account_numbers(std::vector<Finding>& out, std::size_t first) {
    const std::size_t size = out.size();
    std::vector<bool> drop(size - first, false);
    std::size_t j = first;  // the findings before out[j] that begin at or before the phone number
    std::size_t reach = 0;  // the furthest end of an IBAN or card number among them
    bool any = false;
    for (std::size_t i = first; i < size; ++i) {
        if (out[i].detector != Detector::phone) continue;
        for (; j < size && out[j].begin <= out[i].begin; ++j) {  // those sorted after it (by end) too
            if (out[j].detector == Detector::iban || out[j].detector == Detector::payment_card) {
                reach = std::max(reach, out[j].end);
                any = true;
            }
        }
        drop[i - first] = any && out[i].end <= reach;
    }
    std::size_t kept = first;
    for (std::size_t i = first; i < size; ++i)
        if (!drop[i - first]) out[kept++] = out[i];
    out.resize(kept);
}

}  // namespace

// Each scanner appends in order of position; the merged findings are sorted by (begin, end,
// detector) so that the order does not depend on the order of the scanners. A phone number
// inside an IBAN or card number is dropped (drop_phones_inside_account_numbers).
// What a string must hold for a scanner to find anything in it, counted in one pass: most
// strings of an analytics payload (a model name, a scenario, a sentence) rule out every
// scanner, and are not scanned nine times. Each bound is below the smallest match its scanner
// takes (the corpus and scanner tests hold them to it).
struct Shape {
    std::size_t digits = 0;
    bool at = false;
    std::size_t dots = 0;
    std::size_t colons = 0;
};

Shape shape_of(std::string_view text) noexcept {
    Shape s;
    for (char c : text) {
        if (c >= '0' && c <= '9') ++s.digits;
        else if (c == '@') s.at = true;
        else if (c == '.') ++s.dots;
        else if (c == ':') ++s.colons;
    }
    return s;
}

// The smallest size at which the long-text scanners (IBAN, private keys, API keys) run.
constexpr std::size_t kLongText = 15;

Prescan prescan(std::string_view text) noexcept {
    Shape shape;
    for (const char c : text) {
        const auto b = static_cast<unsigned char>(c);
        if (b >= '0' && b <= '9') ++shape.digits;
        else if (b == '@') shape.at = true;
        else if (b == '.') ++shape.dots;
        else if (b == ':') ++shape.colons;
        else if (b == '%' || b == 0xC2 || b == 0xE1 || b == 0xE2 || b == 0xE3 || b == 0xEF)
            return Prescan::normalise_then_scan;  // needs_normalising(): decoded or folded, it may show more
    }
    const bool any = text.size() >= kLongText || shape.at || shape.digits >= 7 ||
                     (shape.dots >= 3 && shape.digits >= 4) || shape.colons >= 2 ||
                     (text.size() >= 10 && shape.dots > 0);
    return any ? Prescan::scan : Prescan::nothing;
}

void scan_value(std::string_view normalised, std::vector<Finding>& out) {
    const std::size_t first = out.size();
    const Shape shape = shape_of(normalised);
    const std::size_t size = normalised.size();
    if (shape.at) find_emails(normalised, out);                               // local@domain
    if (shape.digits >= 7) find_phones(normalised, out);                      // national numbers have 9 or more
    if (shape.digits >= 12) find_payment_cards(normalised, out);              // 12 to 19 digits
    if (size >= kLongText && shape.digits >= 2) find_ibans(normalised, out);  // the shortest IBAN has 15
    // A dotted quad has three dots; IPv6 two colons at least ("::1"): "https://host" has one.
    if ((shape.dots >= 3 && shape.digits >= 4) || shape.colons >= 2) find_ip_addresses(normalised, out);
    if (shape.digits >= 9) find_us_ssns(normalised, out);
    if (size >= 10 && shape.dots > 0) find_jwts(normalised, out);  // eyJ...eyJ...sig
    if (size >= 20) find_private_keys(normalised, out);            // -----BEGIN ... or PuTTY-User-Key-File-
    if (size >= kLongText) find_api_keys(normalised, out);         // the shortest, Slack's, has 15
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(), [](const Finding& a, const Finding& b) {
        return std::make_tuple(a.begin, a.end, a.detector) < std::make_tuple(b.begin, b.end, b.detector);
    });
    drop_phones_inside_account_numbers(out, first);
}

// ---------------------------------------------------------------------------------------------
// classify_key
//
// The key is cut into lower-cased tokens: at every character that is not a letter or digit
// ("user_email", "e-mail", "$ip", "x.api.key"), at a camelCase step ("userEmail" → user email,
// "IPAddress" → ip address) and between letters and digits ("address1" → address 1). A key
// names a detector when its *last* tokens do, the way an English compound names its head:
// "user_email", "contactEmail", "emailAddress" hold an e-mail, "email_verified", "emailOptIn",
// "email_count", "phoneVerified", "passwordChangedAt", "tokenCount", "token_usage" hold a flag,
// a count or a time about one. Only the tail decides:
//  - The last 1-4 tokens, joined without separators, are looked up in kTerms (so "e_mail",
//    "E-Mail", "email" and "date_of_birth", "dateOfBirth", "dateofbirth" meet), longest first
//    ("email_address" is an e-mail, not a street address).
//  - When the tail names nothing, a trailing qualifier that does not change what is held is
//    dropped and the new tail tried: digits ("address_2"), value/raw/plain/text/string/field/
//    input ("password_input"), number/no/num after a phone, card, SSN or IBAN ("cc_number"),
//    header after a secret or password, and confirm/confirmation/repeat/hash/new/old/current
//    after a password ("password_confirmation"). Any other last word ("verified", "count",
//    "at", "type", "id", "usage") leaves the key unclassified.
//  - A single lower-case token is also matched by a known compound at its end ("useremail",
//    "newpassword", "customerfirstname"), never by a short word inside it ("voicemail",
//    "microphone", "tooltip", "hostname" stay unclassified).
//  - A key whose first token makes it a flag or a count (is, has, can, enable, num, count,
//    total, max…: "is_mobile", "hasEmail", "numEmails") is never classified.
// Decisions for ambiguous words:
//  - Plural "tokens" is not a secret (LLM usage: "inputTokens", "outputTokens", "totalTokens",
//    "max_tokens"); nor is singular "token" after a usage word ("input_token", "prompt_token").
//    Other plurals hold lists of the thing ("emails", "phones", "addresses", "ips").
//  - Bare "name" is not PII (scenario, event, plan, file names); "<person>_name" is
//    (first, last, full, middle, given, family, maiden, legal, real, customer, contact, patient,
//    cardholder, recipient, sender, billing, shipping, student, learner, employee, member, …).
//    "username", "nickname", "display_name", "screen_name" are handles, not names: unclassified
//    (an e-mail used as a user name is still caught in the value).
//  - "address" is a street address unless a network or crypto word precedes it ("mac_address",
//    "wallet_address", "server_address"); "ip_address", "email_address" name their own kinds.
//    "zip", "postcode", "postal_code", "city", "country" are not classified: coarse locations,
//    routinely kept for analytics; so is "birth_year" (like an age).
//  - "card" alone and after credit/debit/payment/bank/prepaid is a payment card, not
//    "scenario_card" or "profile_card"; "cc", "pan", "cell", "pin" and "auth" count only as the
//    whole key (with qualifiers): "map_pin", "pan_x", "cell_id", "auth_method" are unclassified.
//  - "mail" is an e-mail address except in "voice_mail" and "snail_mail".

namespace {

enum class Context : unsigned char {
    tail,     // after any tokens
    whole,    // the whole key (after qualifiers)
    token,    // not after a word of LLM usage
    address,  // not after a network, hardware or crypto word
    card,     // the whole key, or after credit/debit/payment/bank/prepaid
    mail,     // not after voice/snail
};

struct Term {
    std::string_view joined;
    Detector detector;
    Context context;
};

constexpr Term kTerms[] = {
    {"email", Detector::email, Context::tail},
    {"emails", Detector::email, Context::tail},
    {"mail", Detector::email, Context::mail},
    {"emailaddress", Detector::email, Context::tail},
    {"emailaddresses", Detector::email, Context::tail},
    {"emailaddr", Detector::email, Context::tail},
    {"mailaddress", Detector::email, Context::tail},
    {"emailadresse", Detector::email, Context::tail},
    {"mailadresse", Detector::email, Context::tail},

    {"phone", Detector::phone, Context::tail},
    {"phones", Detector::phone, Context::tail},
    {"phonenumber", Detector::phone, Context::tail},
    {"phonenumbers", Detector::phone, Context::tail},
    {"phoneno", Detector::phone, Context::tail},
    {"phonenum", Detector::phone, Context::tail},
    {"telephone", Detector::phone, Context::tail},
    {"telephonenumber", Detector::phone, Context::tail},
    {"tel", Detector::phone, Context::tail},
    {"telno", Detector::phone, Context::tail},
    {"telnumber", Detector::phone, Context::tail},
    {"mobile", Detector::phone, Context::tail},
    {"mobilenumber", Detector::phone, Context::tail},
    {"mobileno", Detector::phone, Context::tail},
    {"msisdn", Detector::phone, Context::tail},
    {"cellphone", Detector::phone, Context::tail},
    {"cellnumber", Detector::phone, Context::tail},
    {"cell", Detector::phone, Context::whole},
    {"fax", Detector::phone, Context::tail},
    {"faxnumber", Detector::phone, Context::tail},

    {"ssn", Detector::us_ssn, Context::tail},
    {"socialsecurity", Detector::us_ssn, Context::tail},
    {"socialsecuritynumber", Detector::us_ssn, Context::tail},
    {"socialsecurityno", Detector::us_ssn, Context::tail},
    {"socsec", Detector::us_ssn, Context::tail},

    {"card", Detector::payment_card, Context::card},
    {"creditcard", Detector::payment_card, Context::tail},
    {"creditcardnumber", Detector::payment_card, Context::tail},
    {"debitcard", Detector::payment_card, Context::tail},
    {"cardnumber", Detector::payment_card, Context::tail},
    {"cardno", Detector::payment_card, Context::tail},
    {"cardnum", Detector::payment_card, Context::tail},
    {"ccnumber", Detector::payment_card, Context::tail},
    {"ccnum", Detector::payment_card, Context::tail},
    {"ccno", Detector::payment_card, Context::tail},
    {"cc", Detector::payment_card, Context::whole},
    {"pan", Detector::payment_card, Context::whole},
    {"cardpan", Detector::payment_card, Context::tail},
    {"primaryaccountnumber", Detector::payment_card, Context::tail},
    {"cvv", Detector::payment_card, Context::tail},
    {"cvv2", Detector::payment_card, Context::tail},
    {"cvc", Detector::payment_card, Context::tail},

    {"iban", Detector::iban, Context::tail},
    {"ibans", Detector::iban, Context::tail},

    {"ip", Detector::ip_address, Context::tail},
    {"ips", Detector::ip_address, Context::tail},
    {"ipaddress", Detector::ip_address, Context::tail},
    {"ipaddresses", Detector::ip_address, Context::tail},
    {"ipaddr", Detector::ip_address, Context::tail},
    {"ipv4", Detector::ip_address, Context::tail},
    {"ipv6", Detector::ip_address, Context::tail},
    {"remoteaddr", Detector::ip_address, Context::tail},
    {"remoteaddress", Detector::ip_address, Context::tail},
    {"forwardedfor", Detector::ip_address, Context::tail},  // X-Forwarded-For

    {"password", Detector::password, Context::tail},
    {"passwords", Detector::password, Context::tail},
    {"passwd", Detector::password, Context::tail},
    {"pwd", Detector::password, Context::tail},
    {"passcode", Detector::password, Context::tail},
    {"passphrase", Detector::password, Context::tail},
    {"pin", Detector::password, Context::whole},
    {"pincode", Detector::password, Context::tail},
    {"cardpin", Detector::password, Context::tail},
    {"otp", Detector::password, Context::tail},

    {"secret", Detector::secret, Context::tail},
    {"secrets", Detector::secret, Context::tail},
    {"secretkey", Detector::secret, Context::tail},
    {"apikey", Detector::secret, Context::tail},
    {"apikeys", Detector::secret, Context::tail},
    {"accesskey", Detector::secret, Context::tail},
    {"privatekey", Detector::secret, Context::tail},
    {"signingkey", Detector::secret, Context::tail},
    {"encryptionkey", Detector::secret, Context::tail},
    {"token", Detector::secret, Context::token},
    {"authorization", Detector::secret, Context::tail},
    {"auth", Detector::secret, Context::whole},
    {"bearer", Detector::secret, Context::tail},
    {"credential", Detector::secret, Context::tail},
    {"credentials", Detector::secret, Context::tail},
    {"jwt", Detector::secret, Context::tail},

    {"firstname", Detector::person_name, Context::tail},
    {"lastname", Detector::person_name, Context::tail},
    {"fullname", Detector::person_name, Context::tail},
    {"middlename", Detector::person_name, Context::tail},
    {"givenname", Detector::person_name, Context::tail},
    {"familyname", Detector::person_name, Context::tail},
    {"maidenname", Detector::person_name, Context::tail},
    {"surname", Detector::person_name, Context::tail},
    {"forename", Detector::person_name, Context::tail},

    {"address", Detector::street_address, Context::address},
    {"addresses", Detector::street_address, Context::address},
    {"streetaddress", Detector::street_address, Context::tail},
    {"street", Detector::street_address, Context::tail},
    {"streetname", Detector::street_address, Context::tail},
    {"addressline", Detector::street_address, Context::tail},

    {"dob", Detector::birth_date, Context::tail},
    {"birthdate", Detector::birth_date, Context::tail},
    {"dateofbirth", Detector::birth_date, Context::tail},
    {"birthday", Detector::birth_date, Context::tail},
    {"bday", Detector::birth_date, Context::tail},
};

// Known compounds matched at the end of a single lower-case token ("useremail").
struct Compound {
    std::string_view suffix;
    Detector detector;
};
constexpr Compound kCompounds[] = {
    {"email", Detector::email},
    {"emailaddress", Detector::email},
    {"phonenumber", Detector::phone},
    {"password", Detector::password},
    {"passwd", Detector::password},
    {"apikey", Detector::secret},
    {"secretkey", Detector::secret},
    {"privatekey", Detector::secret},
    {"accesstoken", Detector::secret},
    {"refreshtoken", Detector::secret},
    {"authtoken", Detector::secret},
    {"idtoken", Detector::secret},
    {"sessiontoken", Detector::secret},
    {"bearertoken", Detector::secret},
    {"csrftoken", Detector::secret},
    {"clientsecret", Detector::secret},
    {"creditcard", Detector::payment_card},
    {"cardnumber", Detector::payment_card},
    {"ipaddress", Detector::ip_address},
    {"streetaddress", Detector::street_address},
    {"dateofbirth", Detector::birth_date},
    {"birthdate", Detector::birth_date},
    {"firstname", Detector::person_name},
    {"lastname", Detector::person_name},
    {"fullname", Detector::person_name},
    {"middlename", Detector::person_name},
};

constexpr std::string_view kPersonWords[] = {
    "first",    "last",    "full",     "middle",  "given",      "family",  "maiden",    "legal",  "real",   "birth",
    "customer", "contact", "person",   "patient", "cardholder", "holder",  "recipient", "sender", "buyer",  "payer",
    "payee",    "billing", "shipping", "student", "learner",    "teacher", "employee",  "member", "parent", "guardian",
};
// Who has a phone in one lower-case token ("homephone"), unlike "microphone" or "iphone".
constexpr std::string_view kPhoneOwners[] = {"cell",    "home",      "work",    "mobile",   "user",
                                             "contact", "customer",  "office",  "business", "primary",
                                             "alt",     "emergency", "billing", "shipping"};
constexpr std::string_view kUsageWords[] = {
    "input",  "output", "total",   "prompt",    "completion", "max",       "min",       "num",   "reasoning",
    "cached", "cache",  "context", "remaining", "used",       "usage",     "billed",    "count", "thinking",
    "audio",  "image",  "text",    "response",  "request",    "generated", "embedding", "per",   "avg",
};
constexpr std::string_view kNotStreetWords[] = {
    "mac",     "wallet",   "contract", "memory", "mem",      "server",    "host",      "web",         "url",
    "bind",    "listen",   "network",  "net",    "hardware", "hw",        "bluetooth", "ble",         "eth",
    "ether",   "ethernet", "crypto",   "btc",    "bitcoin",  "ethereum",  "token",     "deposit",     "proxy",
    "gateway", "dns",      "node",     "peer",   "socket",   "broadcast", "multicast", "smtp",        "pointer",
    "ptr",     "register", "public",   "local",  "base",     "physical",  "source",    "destination", "target",
};
constexpr std::string_view kCardKinds[] = {"credit", "debit", "payment", "bank", "prepaid"};
constexpr std::string_view kFlagOrCountWords[] = {
    "is",   "has",   "have",    "had",      "can",      "could",    "should",  "was",     "were",     "did",
    "does", "do",    "allow",   "allows",   "allowed",  "enable",   "enabled", "disable", "disabled", "show",
    "hide", "need",  "needs",   "require",  "requires", "required", "use",     "uses",    "accept",   "accepts",
    "want", "wants", "include", "includes", "no",       "num",      "number",  "count",   "total",    "max",
    "min",  "avg",   "sum",     "n",        "nb",       "cnt",
};

constexpr unsigned bit(Detector d) noexcept { return 1u << static_cast<unsigned>(d); }
constexpr unsigned kAll = (1u << detector_count) - 1;

struct Qualifier {
    std::string_view word;
    unsigned detectors;  // the detectors it may follow
};
constexpr unsigned kNumbered =
    bit(Detector::phone) | bit(Detector::payment_card) | bit(Detector::us_ssn) | bit(Detector::iban);
constexpr unsigned kCredential = bit(Detector::password) | bit(Detector::secret);
constexpr Qualifier kQualifiers[] = {
    {"value", kAll},
    {"raw", kAll},
    {"plain", kAll},
    {"plaintext", kAll},
    {"clear", kAll},
    {"cleartext", kAll},
    {"text", kAll},
    {"str", kAll},
    {"string", kAll},
    {"field", kAll},
    {"input", kAll},
    {"number", kNumbered},
    {"num", kNumbered},
    {"no", kNumbered},
    {"nr", kNumbered},
    {"header", kCredential},
    {"confirm", bit(Detector::password)},
    {"confirmation", bit(Detector::password)},
    {"repeat", bit(Detector::password)},
    {"again", bit(Detector::password)},
    {"verify", bit(Detector::password)},
    {"hash", bit(Detector::password)},
    {"hashed", bit(Detector::password)},
    {"new", bit(Detector::password)},
    {"old", bit(Detector::password)},
    {"current", bit(Detector::password)},
};

constexpr std::size_t kMaxTokens = 24;  // the last tokens of a (very long) key are kept

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_upper(char c) noexcept { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) noexcept { return (c >= 'a' && c <= 'z') || static_cast<unsigned char>(c) >= 0x80; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_letter(char c) noexcept { return is_upper(c) || is_lower(c); }

struct Token {
    std::string_view text;  // in the key, original case
    bool equals(std::string_view word) const noexcept {
        if (text.size() != word.size()) return false;
        for (std::size_t i = 0; i < text.size(); ++i)
            if (lower(text[i]) != word[i]) return false;
        return true;
    }
    // Ends with word after at least one more character.
    bool ends_with(std::string_view word) const noexcept {
        return text.size() > word.size() && Token{text.substr(text.size() - word.size())}.equals(word);
    }
    bool is_or_ends_with(std::string_view word) const noexcept {
        return text.size() >= word.size() && Token{text.substr(text.size() - word.size())}.equals(word);
    }
    bool digits() const noexcept {
        for (char c : text)
            if (!is_digit(c)) return false;
        return !text.empty();
    }
};

template <std::size_t N>
bool one_of(const Token& token, const std::string_view (&words)[N]) noexcept {
    for (std::string_view w : words)
        if (token.equals(w)) return true;
    return false;
}

// Calls visit(token) for each token of key, in order.
template <typename Visit>
void tokenise(std::string_view key, Visit&& visit) noexcept {
    std::size_t begin = 0;
    bool in_token = false;
    for (std::size_t i = 0; i <= key.size(); ++i) {
        const char c = i < key.size() ? key[i] : '\0';
        const bool word_char = i < key.size() && (is_letter(c) || is_digit(c));
        bool split = !word_char;
        if (word_char && in_token) {
            const char prev = key[i - 1];
            split = (is_lower(prev) && is_upper(c)) ||                                               // userEmail
                    (is_upper(prev) && is_upper(c) && i + 1 < key.size() && is_lower(key[i + 1]) &&  // IPAddress
                     static_cast<unsigned char>(key[i + 1]) < 0x80) ||
                    (is_digit(prev) != is_digit(c));  // address1
        }
        if (split && in_token) {
            visit(Token{key.substr(begin, i - begin)});
            in_token = false;
        }
        if (word_char && !in_token) {
            begin = i;
            in_token = true;
        }
    }
}

bool context_ok(Context context, const Token* tokens, std::size_t start) noexcept {
    const Token* before = start > 0 ? &tokens[start - 1] : nullptr;
    switch (context) {
        case Context::tail:
            return true;
        case Context::whole:
            return before == nullptr;
        case Context::token:
            return before == nullptr || !one_of(*before, kUsageWords);
        case Context::address:
            return before == nullptr || !one_of(*before, kNotStreetWords);
        case Context::card:
            return before == nullptr || one_of(*before, kCardKinds);
        case Context::mail:
            return before == nullptr || !(before->equals("voice") || before->equals("snail"));
    }
    return false;
}

// Whether tokens[0..end) name a detector allowed by `mask` by their last tokens.
bool match_tail(const Token* tokens, std::size_t end, unsigned mask, Detector& detector) noexcept {
    for (std::size_t k = std::min<std::size_t>(4, end); k >= 1; --k) {
        char joined[64];
        std::size_t length = 0;
        bool fits = true;
        for (std::size_t t = end - k; t < end && fits; ++t) {
            if (length + tokens[t].text.size() > sizeof joined) {
                fits = false;
                break;
            }
            for (char c : tokens[t].text) joined[length++] = lower(c);
        }
        if (!fits) continue;
        const std::string_view word(joined, length);
        for (const Term& term : kTerms) {
            if (term.joined != word || (mask & bit(term.detector)) == 0) continue;
            if (!context_ok(term.context, tokens, end - k)) continue;
            detector = term.detector;
            return true;
        }
    }
    const Token& last = tokens[end - 1];
    // "<person>_name", and "customername" in one token.
    if ((mask & bit(Detector::person_name)) != 0) {
        if (end >= 2 && last.equals("name") && one_of(tokens[end - 2], kPersonWords)) {
            detector = Detector::person_name;
            return true;
        }
        if (last.ends_with("name")) {
            const Token head{last.text.substr(0, last.text.size() - 4)};
            if (one_of(head, kPersonWords)) {
                detector = Detector::person_name;
                return true;
            }
        }
    }
    for (const Compound& compound : kCompounds) {
        if ((mask & bit(compound.detector)) == 0 || !last.is_or_ends_with(compound.suffix)) continue;
        if (compound.suffix == "email" && last.is_or_ends_with("voicemail")) continue;
        detector = compound.detector;
        return true;
    }
    if ((mask & bit(Detector::phone)) != 0 && last.ends_with("phone")) {
        const Token owner{last.text.substr(0, last.text.size() - 5)};
        if (one_of(owner, kPhoneOwners)) {
            detector = Detector::phone;
            return true;
        }
    }
    return false;
}

}  // namespace

bool classify_key(std::string_view key, Detector& detector) noexcept {
    std::size_t count = 0;
    tokenise(key, [&](const Token&) { ++count; });
    if (count == 0) return false;
    Token tokens[kMaxTokens];
    std::size_t n = 0;
    std::size_t index = 0;
    // A key of more tokens keeps its last ones behind an empty token that matches no word, so
    // that nothing counts as the whole key.
    const std::size_t skip = count > kMaxTokens ? count - kMaxTokens + 1 : 0;
    if (skip > 0) tokens[n++] = Token{std::string_view()};
    tokenise(key, [&](const Token& token) {
        if (index++ >= skip) tokens[n++] = token;
    });
    if (skip == 0 && n >= 2 && one_of(tokens[0], kFlagOrCountWords)) return false;
    unsigned mask = kAll;
    std::size_t end = n;
    while (end > 0) {
        if (match_tail(tokens, end, mask, detector)) return true;
        if (end < 2) return false;
        const Token& last = tokens[end - 1];
        unsigned allowed = 0;
        if (last.digits()) {
            allowed = kAll;
        } else {
            for (const Qualifier& q : kQualifiers)
                if (last.equals(q.word)) allowed = q.detectors;
        }
        if (allowed == 0) return false;
        mask &= allowed;
        --end;
    }
    return false;
}

}  // namespace telemetry::pii

#include "core/base/no_postgres.hpp"
