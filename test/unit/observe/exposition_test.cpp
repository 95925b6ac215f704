#include "core/observe/exposition.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

using namespace telemetry::observe;

TEST(Exposition, FamilyThenSamples) {
    Exposition e;
    e.family("telemetry_events_total", MetricType::counter, "Events by status.");
    e.sample("telemetry_events_total", Label{"status", "accepted"}, Label{"event_type", "signup"}, 42);
    e.family("telemetry_rollup_lag_seconds", MetricType::gauge, "Lag.");
    e.sample("telemetry_rollup_lag_seconds", 1.5);
    EXPECT_EQ(e.text(),
              "# HELP telemetry_events_total Events by status.\n"
              "# TYPE telemetry_events_total counter\n"
              "telemetry_events_total{status=\"accepted\",event_type=\"signup\"} 42\n"
              "# HELP telemetry_rollup_lag_seconds Lag.\n"
              "# TYPE telemetry_rollup_lag_seconds gauge\n"
              "telemetry_rollup_lag_seconds 1.5\n");
}

TEST(Exposition, EscapesLabelValuesAndHelp) {
    Exposition e;
    e.family("x", MetricType::gauge, "a \\ b\nc \"q\"");
    e.sample("x", Label{"l", "q\"b\\n\nz"}, 1);
    EXPECT_EQ(e.text(), "# HELP x a \\\\ b\\nc \"q\"\n# TYPE x gauge\nx{l=\"q\\\"b\\\\n\\nz\"} 1\n");
}

TEST(Exposition, HistogramSuffixes) {
    Exposition e;
    e.family("telemetry_event_payload_bytes", MetricType::histogram, "Sizes.");
    e.sample("telemetry_event_payload_bytes_bucket", Label{"le", "+Inf"}, 3);
    e.sample("telemetry_event_payload_bytes_sum", 300);
    e.sample("telemetry_event_payload_bytes_count", 3);
    EXPECT_THROW(e.sample("telemetry_event_payload_bytes", 3), std::invalid_argument);
    EXPECT_THROW(e.sample("telemetry_event_payload_bytes_other", 3), std::invalid_argument);
}

TEST(Exposition, RefusesCallerBugs) {
    Exposition e;
    EXPECT_THROW(e.sample("x", 1), std::invalid_argument);  // no family yet
    EXPECT_THROW(e.family("9x", MetricType::gauge, ""), std::invalid_argument);
    e.family("c_total", MetricType::counter, "");
    EXPECT_THROW(e.sample("other", 1), std::invalid_argument);
    EXPECT_THROW(e.sample("c_total", Label{"__reserved", "v"}, 1), std::invalid_argument);
    EXPECT_THROW(e.sample("c_total", Label{"bad-name", "v"}, 1), std::invalid_argument);
    e.family("c", MetricType::counter, "");
    EXPECT_THROW(e.sample("c", 1), std::invalid_argument);  // counters end in _total
}

TEST(Exposition, Names) {
    EXPECT_TRUE(valid_metric_name("a:b_c9"));
    EXPECT_FALSE(valid_metric_name(""));
    EXPECT_FALSE(valid_metric_name("a-b"));
    EXPECT_TRUE(valid_label_name("le"));
    EXPECT_FALSE(valid_label_name("a:b"));
    EXPECT_FALSE(valid_label_name("__name__"));
}

TEST(Exposition, Values) {
    EXPECT_EQ(format_value(0), "0");
    EXPECT_EQ(format_value(-3), "-3");
    EXPECT_EQ(std::stod(format_value(18446744073709551615.0)), 18446744073709551615.0);
    EXPECT_EQ(format_value(9007199254740991.0), "9007199254740991");
    EXPECT_EQ(format_value(0.1), "0.1");
    EXPECT_EQ(format_value(1764547200.123456), "1764547200.123456");
    EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(format_value(std::nan("")), "NaN");
    EXPECT_EQ(std::stod(format_value(1.0 / 3)), 1.0 / 3);
}
