#include <gtest/gtest.h>

#include <string>

#include "core/catalog/event_name.hpp"

namespace telemetry {
namespace {

TEST(EventName, AcceptsTheNamesOfTheDesignDocuments) {
    for (const char* name :
         {"conversation_started", "message_sent", "quota_exceeded", "lossy.stt.fallback",
          "lossy.voice_mode.speech_detected", "a", "page_view2", "v2.checkout_completed", "lossy.2fa_done"}) {
        EXPECT_EQ(check_event_name(name), EventNameVerdict::ok) << name;
    }
}

TEST(EventName, AtMostOneHundredBytes) {
    EXPECT_EQ(check_event_name(std::string(100, 'a')), EventNameVerdict::ok);
    EXPECT_EQ(check_event_name(std::string(101, 'a')), EventNameVerdict::too_long);
}

TEST(EventName, RefusesEachBrokenRule) {
    EXPECT_EQ(check_event_name(""), EventNameVerdict::empty);
    EXPECT_EQ(check_event_name("Page_viewed"), EventNameVerdict::bad_first_character);
    EXPECT_EQ(check_event_name("1st_visit"), EventNameVerdict::bad_first_character);
    EXPECT_EQ(check_event_name("_private"), EventNameVerdict::bad_first_character);
    EXPECT_EQ(check_event_name(".leading"), EventNameVerdict::bad_first_character);
    EXPECT_EQ(check_event_name("page viewed"), EventNameVerdict::bad_character);
    EXPECT_EQ(check_event_name("page-viewed"), EventNameVerdict::bad_character);
    EXPECT_EQ(check_event_name("pageViewed"), EventNameVerdict::bad_character);
    EXPECT_EQ(check_event_name("caf\xc3\xa9"), EventNameVerdict::bad_character);
    EXPECT_EQ(check_event_name("john@example.com"), EventNameVerdict::bad_character);
    EXPECT_EQ(check_event_name("trailing."), EventNameVerdict::empty_segment);
    EXPECT_EQ(check_event_name("two..dots"), EventNameVerdict::empty_segment);
}

// The untyped forms of track() read a first argument that is a UUID as the tenant.
TEST(EventName, NotAUuid) {
    EXPECT_EQ(check_event_name("deadbeefdeadbeefdeadbeefdeadbeef"), EventNameVerdict::reads_as_uuid);
    EXPECT_EQ(check_event_name("deadbeefdeadbeefdeadbeefdeadbeeg"), EventNameVerdict::ok);
    EXPECT_EQ(check_event_name("deadbeefdeadbeefdeadbeefdeadbee"), EventNameVerdict::ok);
}

TEST(EventName, EmbeddedNulIsABadCharacter) {
    EXPECT_EQ(check_event_name(std::string("ab\0cd", 5)), EventNameVerdict::bad_character);
}

TEST(EventName, DescriptionsNameTheRuleNotTheName) {
    for (auto verdict :
         {EventNameVerdict::empty, EventNameVerdict::too_long, EventNameVerdict::bad_first_character,
          EventNameVerdict::bad_character, EventNameVerdict::empty_segment, EventNameVerdict::reads_as_uuid}) {
        const std::string text = describe(verdict);
        EXPECT_NE(text.find("event name"), std::string::npos) << text;
    }
}

}  // namespace
}  // namespace telemetry
