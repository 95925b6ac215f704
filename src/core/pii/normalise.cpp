// normalise(): the copy of a value that the detectors scan (detect.hpp). Two linear passes:
// percent-decoding first (so that "%EF%BC%A0", an encoded fullwidth "@", is folded too), then
// the Unicode folds. Neither pass rescans its own output: "%2540" becomes "%40", not "@".
#include <cstddef>
#include <string>
#include <string_view>

#include "core/pii/detect.hpp"

namespace telemetry::pii {

namespace {

int hex_value(unsigned char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// "%XX" with two hex digits becomes the byte XX, once; a '%' without two hex digits stays.
// The decoded byte may make the text invalid UTF-8: detection is byte-based, that is fine.
std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const int high = hex_value(static_cast<unsigned char>(text[i + 1]));
            const int low = hex_value(static_cast<unsigned char>(text[i + 2]));
            if (high >= 0 && low >= 0) {
                out.push_back(static_cast<char>(high * 16 + low));
                i += 2;
                continue;
            }
        }
        out.push_back(text[i]);
    }
    return out;
}

// What the three-byte UTF-8 sequence b0 b1 b2 (b0 one of E1, E2, E3, EF) becomes: the ASCII
// byte it folds to, kRemove for an invisible format character, or kKeep. A lead byte is never
// a continuation byte, so a match always starts a character of its own.
constexpr int kKeep = -1;
constexpr int kRemove = -2;

int fold3(unsigned char b0, unsigned char b1, unsigned char b2) noexcept {
    if (b1 < 0x80 || b1 > 0xBF || b2 < 0x80 || b2 > 0xBF) return kKeep;
    const unsigned cp = ((b0 & 0x0Fu) << 12) | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
    if (cp >= 0xFF01 && cp <= 0xFF5E) return static_cast<int>(cp - 0xFEE0);  // fullwidth ASCII: ＠ → @
    switch (cp) {
        case 0x3000:  // ideographic space
        case 0x202F:  // narrow no-break space (French phone and number grouping)
        case 0x205F:  // medium mathematical space
            return ' ';
        case 0x3002:  // ideographic full stop, which IDNA treats as a label dot: "example。com"
        case 0xFF61:  // halfwidth ideographic full stop
        case 0xFE52:  // small full stop
            return '.';
        case 0xFE6B:  // small commercial at
            return '@';
        case 0x180E:  // Mongolian vowel separator (a format character until Unicode 6.3)
        case 0xFEFF:  // zero-width no-break space, byte order mark
            return kRemove;
        default:
            break;
    }
    if (cp >= 0x2000 && cp <= 0x200A) return ' ';      // en quad … hair space
    if (cp >= 0x200B && cp <= 0x200F) return kRemove;  // zero-width space, (non-)joiner, LRM, RLM
    if (cp >= 0x202A && cp <= 0x202E) return kRemove;  // bidirectional embeddings and overrides
    if (cp >= 0x2060 && cp <= 0x206F) return kRemove;  // word joiner, invisible operators, isolates
    return kKeep;
}

}  // namespace

bool needs_normalising(std::string_view text) noexcept {
    for (const char c : text) {
        const auto b = static_cast<unsigned char>(c);
        if (b == '%' || b == 0xC2 || b == 0xE1 || b == 0xE2 || b == 0xE3 || b == 0xEF) return true;
    }
    return false;
}

// The folds are those a human reader does not see (format characters), or sees as the ASCII
// character (fullwidth forms, Unicode spaces and the ideographic dots): a value can hide an
// address from a byte scanner with them but not from a person. Everything else, invalid UTF-8
// included, is copied unchanged; ASCII case is kept (the scanners compare case-insensitively).
std::string normalise(std::string_view text) {
    const std::string decoded = percent_decode(text);
    std::string out;
    out.reserve(decoded.size());
    const std::size_t n = decoded.size();
    for (std::size_t i = 0; i < n;) {
        const auto b0 = static_cast<unsigned char>(decoded[i]);
        if (b0 == 0xC2 && i + 1 < n) {
            const auto b1 = static_cast<unsigned char>(decoded[i + 1]);
            if (b1 == 0xAD) {  // soft hyphen
                i += 2;
                continue;
            }
            if (b1 == 0xA0) {  // no-break space
                out.push_back(' ');
                i += 2;
                continue;
            }
        } else if ((b0 == 0xE1 || b0 == 0xE2 || b0 == 0xE3 || b0 == 0xEF) && i + 2 < n) {
            const int folded =
                fold3(b0, static_cast<unsigned char>(decoded[i + 1]), static_cast<unsigned char>(decoded[i + 2]));
            if (folded != kKeep) {
                if (folded != kRemove) out.push_back(static_cast<char>(folded));
                i += 3;
                continue;
            }
        }
        out.push_back(decoded[i]);
        ++i;
    }
    return out;
}

}  // namespace telemetry::pii

#include "core/base/no_postgres.hpp"
