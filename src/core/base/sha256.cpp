#include "core/base/sha256.hpp"

#include <cstring>

namespace telemetry {

namespace {

// FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube roots of the first 64 primes.
constexpr std::uint32_t round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// FIPS 180-4 §5.3.3: first 32 bits of the fractional parts of the square roots of the first 8 primes.
constexpr std::uint32_t initial_state[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

constexpr std::size_t block_bytes = 64;

// Rotation right; n is always in 1..31 here.
constexpr std::uint32_t rotr(std::uint32_t x, unsigned n) noexcept { return (x >> n) | (x << (32 - n)); }

// SHA-256 is big-endian whatever the host is, so words are assembled byte by byte.
std::uint32_t load_be32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

void store_be32(std::uint8_t* p, std::uint32_t x) noexcept {
    p[0] = static_cast<std::uint8_t>(x >> 24);
    p[1] = static_cast<std::uint8_t>(x >> 16);
    p[2] = static_cast<std::uint8_t>(x >> 8);
    p[3] = static_cast<std::uint8_t>(x);
}

}  // namespace

// Starts the hash of the empty message.
Sha256::Sha256() noexcept : state_{}, buffer_{}, buffered_(0), length_(0) {
    for (std::size_t i = 0; i < 8; ++i) state_[i] = initial_state[i];
}

// FIPS 180-4 §6.2.2: folds one 64-byte block into the state.
void Sha256::compress(const std::uint8_t* block) noexcept {
    std::uint32_t w[64];
    for (std::size_t t = 0; t < 16; ++t) w[t] = load_be32(block + 4 * t);
    for (std::size_t t = 16; t < 64; ++t) {
        const std::uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        const std::uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
    std::uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
    for (std::size_t t = 0; t < 64; ++t) {
        const std::uint32_t big_s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        const std::uint32_t ch = (e & f) ^ (~e & g);
        const std::uint32_t t1 = h + big_s1 + ch + round_constants[t] + w[t];
        const std::uint32_t big_s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        const std::uint32_t t2 = big_s0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state_[0] += a;
    state_[1] += b;
    state_[2] += c;
    state_[3] += d;
    state_[4] += e;
    state_[5] += f;
    state_[6] += g;
    state_[7] += h;
}

// Absorbs n more bytes; whole blocks are compressed straight from the caller's memory.
void Sha256::update(const void* data, std::size_t n) noexcept {
    if (n == 0) return;  // data may be null then
    const auto* p = static_cast<const std::uint8_t*>(data);
    length_ += n;
    if (buffered_ > 0) {
        const std::size_t take = n < block_bytes - buffered_ ? n : block_bytes - buffered_;
        std::memcpy(buffer_.data() + buffered_, p, take);
        buffered_ += take;
        p += take;
        n -= take;
        if (buffered_ < block_bytes) return;
        compress(buffer_.data());
        buffered_ = 0;
    }
    for (; n >= block_bytes; p += block_bytes, n -= block_bytes) compress(p);
    if (n > 0) {
        std::memcpy(buffer_.data(), p, n);
        buffered_ = n;
    }
}

// FIPS 180-4 §5.1.1 padding: 0x80, zeros, then the length in bits as a big-endian 64-bit
// number. Returns the digest and resets to the empty message.
Sha256Digest Sha256::finish() noexcept {
    const std::uint64_t bits = length_ * 8;
    buffer_[buffered_++] = 0x80;
    if (buffered_ > block_bytes - 8) {
        std::memset(buffer_.data() + buffered_, 0, block_bytes - buffered_);
        compress(buffer_.data());
        buffered_ = 0;
    }
    std::memset(buffer_.data() + buffered_, 0, block_bytes - 8 - buffered_);
    for (std::size_t i = 0; i < 8; ++i) buffer_[block_bytes - 8 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
    compress(buffer_.data());

    Sha256Digest digest{};
    for (std::size_t i = 0; i < 8; ++i) store_be32(digest.data() + 4 * i, state_[i]);
    *this = Sha256();
    return digest;
}

// One-shot SHA-256 of a byte string.
Sha256Digest sha256(std::string_view data) noexcept {
    Sha256 h;
    h.update(data.data(), data.size());
    return h.finish();
}

// RFC 2104 §2: K0 is the key (hashed when longer than a block) padded with zeros to 64 bytes;
// the inner hash starts with K0 ^ ipad, the outer with K0 ^ opad. Both keyed states are kept so
// that finish() can reset without the key.
HmacSha256::HmacSha256(std::string_view key) noexcept {
    std::uint8_t k0[block_bytes] = {};
    if (key.size() > block_bytes) {
        const Sha256Digest hashed = sha256(key);
        std::memcpy(k0, hashed.data(), hashed.size());
    } else if (!key.empty()) {
        std::memcpy(k0, key.data(), key.size());
    }
    std::uint8_t pad[block_bytes];
    for (std::size_t i = 0; i < block_bytes; ++i) pad[i] = static_cast<std::uint8_t>(k0[i] ^ 0x36);
    keyed_inner_.update(pad, block_bytes);
    for (std::size_t i = 0; i < block_bytes; ++i) pad[i] = static_cast<std::uint8_t>(k0[i] ^ 0x5c);
    keyed_outer_.update(pad, block_bytes);
    inner_ = keyed_inner_;
    outer_ = keyed_outer_;
}

// Absorbs n more bytes of the message.
void HmacSha256::update(const void* data, std::size_t n) noexcept { inner_.update(data, n); }

// H(K0 ^ opad || H(K0 ^ ipad || message)); then back to the freshly keyed state.
Sha256Digest HmacSha256::finish() noexcept {
    const Sha256Digest inner_digest = inner_.finish();
    outer_.update(inner_digest.data(), inner_digest.size());
    const Sha256Digest mac = outer_.finish();
    inner_ = keyed_inner_;
    outer_ = keyed_outer_;
    return mac;
}

// One-shot HMAC-SHA-256.
Sha256Digest hmac_sha256(std::string_view key, std::string_view message) noexcept {
    HmacSha256 h(key);
    h.update(message.data(), message.size());
    return h.finish();
}

// Each 3 bytes become 4 characters; a final 1 or 2 bytes become 2 or 3 characters (no '=').
std::string base64url(const std::uint8_t* bytes, std::size_t n) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve(n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1));
    std::size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
        out.push_back(alphabet[v & 63]);
    }
    if (n - i == 1) {
        const std::uint32_t v = std::uint32_t{bytes[i]} << 16;
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
    } else if (n - i == 2) {
        const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
    }
    return out;
}

long base64url_decode(std::string_view text, std::uint8_t* out, std::size_t out_size) noexcept {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '-') return 62;
        if (c == '_') return 63;
        return -1;
    };
    if (text.size() % 4 == 1) return -1;  // no byte count leaves one character over
    const std::size_t n = text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1);
    if (n > out_size) return -1;
    std::uint32_t bits = 0;
    int held = 0;
    std::size_t written = 0;
    for (char c : text) {
        const int v = value(c);
        if (v < 0) return -1;
        bits = (bits << 6) | static_cast<std::uint32_t>(v);
        held += 6;
        if (held >= 8) {
            held -= 8;
            out[written++] = static_cast<std::uint8_t>((bits >> held) & 0xFF);
        }
    }
    if ((bits & ((1u << held) - 1)) != 0) return -1;  // non-zero padding bits: another spelling
    return static_cast<long>(written);
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
