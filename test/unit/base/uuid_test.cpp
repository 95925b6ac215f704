// UUIDs: the ids track() makes (UUIDv7), and the client ids it reads in every spelling
// PostgreSQL's uuid type accepts, so track() and track_batch() take the same set.
#include <gtest/gtest.h>

#include <string>

#include "core/base/uuid.hpp"

namespace telemetry {
namespace {

const Uuid expected = {0x01, 0x8f, 0x3a, 0x6b, 0x7c, 0x2d, 0x7e, 0x4f, 0x8a, 0x9b, 0x0c, 0x1d, 0x2e, 0x3f, 0xab, 0xcd};

TEST(ParseUuid, EveryPostgresSpelling) {
    for (const char* text : {"018f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabcd", "018F3A6B-7C2D-7E4F-8A9B-0C1D2E3FABCD",
                             "018f3A6b-7C2d-7e4F-8a9B-0c1D2e3FaBcD", "{018f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabcd}",
                             "018f3a6b7c2d7e4f8a9b0c1d2e3fabcd", "{018f3a6b7c2d7e4f8a9b0c1d2e3fabcd}",
                             "018f-3a6b-7c2d-7e4f-8a9b-0c1d-2e3f-abcd", "018f3a6b-7c2d7e4f-8a9b0c1d-2e3fabcd"}) {
        const auto u = parse_uuid(text);
        ASSERT_TRUE(u.has_value()) << text;
        EXPECT_EQ(*u, expected) << text;
    }
}

TEST(ParseUuid, RefusesWhatPostgresRefuses) {
    for (const char* text : {"", "018f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabc", "018f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabcde",
                             "urn:uuid:018f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabcd", "018f3a6g-7c2d-7e4f-8a9b-0c1d2e3fabcd",
                             "018f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabc ", " 018f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabc",
                             "018f3a6b7-c2d-7e4f-8a9b-0c1d2e3fabcd", "018f3a6b-7c2d-7e4f-8a9b--c1d2e3fabcd",
                             "018f3a6b_7c2d_7e4f_8a9b_0c1d2e3fabcd", "018f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabc\xc3\xa9",
                             "+18f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabcd", "0x8f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabcd",
                             "{018f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabcd", "018f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabcd}",
                             "018f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabcd-", "-018f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabcd",
                             "0-18f3a6b-7c2d-7e4f-8a9b-0c1d2e3fabcd"}) {
        EXPECT_FALSE(parse_uuid(text).has_value()) << text;
    }
    EXPECT_FALSE(parse_uuid(std::string("018f3a6b-7c2d-7e4f-8a9b-0c1d2e3fab\0d", 36)).has_value());
}

TEST(ParseUuid, Placeholders) {
    EXPECT_TRUE(is_placeholder_uuid(*parse_uuid("00000000-0000-0000-0000-000000000000")));
    EXPECT_TRUE(is_placeholder_uuid(*parse_uuid("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")));
    EXPECT_FALSE(is_placeholder_uuid(expected));
    EXPECT_FALSE(is_placeholder_uuid(*parse_uuid("00000000-0000-0000-0000-000000000001")));
}

TEST(MakeUuidV7, VersionVariantAndTime) {
    const std::uint8_t random[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const Uuid u = make_uuid_v7(0x0123456789ab, random);
    EXPECT_EQ(u[0], 0x01);
    EXPECT_EQ(u[5], 0xab);
    EXPECT_EQ(u[6] >> 4, 7);
    EXPECT_EQ(u[8] >> 6, 2);
}

}  // namespace
}  // namespace telemetry
