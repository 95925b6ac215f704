#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/base/sha256.hpp"

namespace telemetry {
namespace {

std::string hex(const std::uint8_t* bytes, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(digits[bytes[i] >> 4]);
        out.push_back(digits[bytes[i] & 15]);
    }
    return out;
}

std::string hex(const Sha256Digest& d) { return hex(d.data(), d.size()); }

std::string b64(const std::string& bytes) {
    return base64url(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

// Feeds data to a streaming hasher in pieces of random sizes (including empty ones).
template <typename Hasher>
void feed_in_random_chunks(Hasher& h, const std::string& data, std::mt19937& rng, std::size_t max_chunk) {
    std::uniform_int_distribution<std::size_t> size(0, max_chunk);
    std::size_t pos = 0;
    while (pos < data.size()) {
        std::size_t n = size(rng);
        if (n > data.size() - pos) n = data.size() - pos;
        h.update(data.data() + pos, n);
        pos += n;
    }
}

// FIPS 180-4 examples (NIST "Example Algorithm" documents / FIPS 180-2 appendix B).
TEST(Sha256, FipsVectors) {
    EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, OneMillionAInUnevenChunks) {
    const std::string chunk(997, 'a');  // prime, so chunks straddle block boundaries everywhere
    Sha256 h;
    std::size_t left = 1000000;
    std::size_t step = 1;
    while (left > 0) {
        std::size_t n = step % chunk.size();
        if (n > left) n = left;
        h.update(chunk.data(), n);
        left -= n;
        step = step * 7 + 3;
    }
    EXPECT_EQ(hex(h.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Lengths around the padding boundaries (55/56 bytes: one or two final blocks), checked
// against Python's hashlib.
TEST(Sha256, PaddingBoundaries) {
    const std::pair<std::size_t, const char*> cases[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
        {128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"},
    };
    for (const auto& [n, digest] : cases) EXPECT_EQ(hex(sha256(std::string(n, 'a'))), digest) << n;
}

TEST(Sha256, EmptyUpdatesAndNullWithZeroLengthChangeNothing) {
    Sha256 h;
    h.update(nullptr, 0);
    h.update("ab", 2);
    h.update("", 0);
    h.update("c", 1);
    EXPECT_EQ(h.finish(), sha256("abc"));
}

TEST(Sha256, FinishResetsToTheEmptyMessage) {
    Sha256 h;
    h.update("abc", 3);
    EXPECT_EQ(h.finish(), sha256("abc"));
    EXPECT_EQ(h.finish(), sha256(""));
    h.update("abc", 3);
    EXPECT_EQ(h.finish(), sha256("abc"));
}

TEST(Sha256, StreamingEqualsOneShotForRandomChunkings) {
    std::mt19937 rng(20261121);
    std::uniform_int_distribution<int> byte(0, 255);
    for (std::size_t length : {0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 1000, 4099}) {
        std::string data(length, '\0');
        for (char& c : data) c = static_cast<char>(byte(rng));
        const Sha256Digest expected = sha256(data);
        for (std::size_t max_chunk : {1, 3, 17, 64, 65, 200}) {
            Sha256 h;
            feed_in_random_chunks(h, data, rng, max_chunk);
            EXPECT_EQ(h.finish(), expected) << "length " << length << ", chunks up to " << max_chunk;
        }
    }
}

// RFC 4231 §4: the seven HMAC-SHA-256 test cases.
TEST(HmacSha256, Rfc4231TestCases) {
    std::string key4;
    for (int i = 1; i <= 25; ++i) key4.push_back(static_cast<char>(i));
    const std::string key131(131, '\xaa');

    EXPECT_EQ(hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(hex(hmac_sha256(std::string(20, '\xaa'), std::string(50, '\xdd'))),
              "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    EXPECT_EQ(hex(hmac_sha256(key4, std::string(50, '\xcd'))),
              "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    // Test case 5: the RFC gives only the first 128 bits.
    const Sha256Digest case5 = hmac_sha256(std::string(20, '\x0c'), "Test With Truncation");
    EXPECT_EQ(hex(case5.data(), 16), "a3b6167473100ee06e0c796c2955552b");
    // Test cases 6 and 7: a 131-byte key, longer than the block, is hashed first.
    EXPECT_EQ(hex(hmac_sha256(key131, "Test Using Larger Than Block-Size Key - Hash Key First")),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    EXPECT_EQ(hex(hmac_sha256(key131,
                              "This is a test using a larger than block-size key and a larger than "
                              "block-size data. The key needs to be hashed before being used by the "
                              "HMAC algorithm.")),
              "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

// A 64-byte key is used as is, a 65-byte key is hashed; values from Python's hmac module.
TEST(HmacSha256, KeyLengthsAroundTheBlockSize) {
    std::string key64, key65;
    for (int i = 0; i < 64; ++i) key64.push_back(static_cast<char>(i));
    key65 = key64 + static_cast<char>(64);
    EXPECT_EQ(hex(hmac_sha256(key64, "message")), "eb97f15211c02e38e3213edb045e8301601867c1cd49df01c687eb04f8909e98");
    EXPECT_EQ(hex(hmac_sha256(key65, "message")), "2d55f05a56fff8d5ba47a50eb1c006240377002f70e09d8862f8a5cb1c880e4a");
    EXPECT_EQ(hex(hmac_sha256("", "")), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacSha256, StreamingEqualsOneShotForRandomChunkings) {
    std::mt19937 rng(4231);
    std::uniform_int_distribution<int> byte(0, 255);
    for (std::size_t key_length : {0, 20, 64, 65, 131}) {
        std::string key(key_length, '\0');
        for (char& c : key) c = static_cast<char>(byte(rng));
        for (std::size_t length : {0, 1, 63, 64, 65, 300}) {
            std::string data(length, '\0');
            for (char& c : data) c = static_cast<char>(byte(rng));
            const Sha256Digest expected = hmac_sha256(key, data);
            for (std::size_t max_chunk : {1, 7, 64, 100}) {
                HmacSha256 h(key);
                feed_in_random_chunks(h, data, rng, max_chunk);
                EXPECT_EQ(h.finish(), expected) << "key " << key_length << ", length " << length;
            }
        }
    }
}

TEST(HmacSha256, PrefixPlusValueWithoutConcatenating) {
    HmacSha256 h("pepper");
    h.update("user:", 5);
    h.update("42", 2);
    EXPECT_EQ(h.finish(), hmac_sha256("pepper", "user:42"));
}

TEST(HmacSha256, FinishResetsToTheKeyedState) {
    HmacSha256 h(std::string(131, '\xaa'));
    h.update("first", 5);
    EXPECT_EQ(h.finish(), hmac_sha256(std::string(131, '\xaa'), "first"));
    h.update("second", 6);
    EXPECT_EQ(h.finish(), hmac_sha256(std::string(131, '\xaa'), "second"));
    EXPECT_EQ(h.finish(), hmac_sha256(std::string(131, '\xaa'), ""));
}

// RFC 4648 §10 vectors, without padding (the url alphabet only differs in '+' and '/').
TEST(Base64Url, Rfc4648VectorsWithoutPadding) {
    EXPECT_EQ(b64(""), "");
    EXPECT_EQ(b64("f"), "Zg");
    EXPECT_EQ(b64("fo"), "Zm8");
    EXPECT_EQ(b64("foo"), "Zm9v");
    EXPECT_EQ(b64("foob"), "Zm9vYg");
    EXPECT_EQ(b64("fooba"), "Zm9vYmE");
    EXPECT_EQ(b64("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64url(nullptr, 0), "");
}

TEST(Base64Url, UsesMinusAndUnderscore) {
    EXPECT_EQ(b64("\xfb\xff\xbf"), "-_-_");
    EXPECT_EQ(b64("\xfb\xff"), "-_8");
    EXPECT_EQ(b64("\xff"), "_w");
}

TEST(Base64Url, AllByteValues) {
    std::vector<std::uint8_t> bytes(256);
    for (int i = 0; i < 256; ++i) bytes[i] = static_cast<std::uint8_t>(i);
    EXPECT_EQ(base64url(bytes.data(), bytes.size()),
              "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0BBQkNERUZHSElK"
              "S0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn-AgYKDhIWGh4iJiouMjY6PkJGSk5SV"
              "lpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq-wsbKztLW2t7i5uru8vb6_wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t_g"
              "4eLj5OXm5-jp6uvs7e7v8PHy8_T19vf4-fr7_P3-_w");
}

TEST(Base64Url, DigestIsFortyThreeCharacters) {
    const Sha256Digest d = sha256("abc");
    EXPECT_EQ(base64url(d.data(), d.size()), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
}

}  // namespace
}  // namespace telemetry
