// The Prometheus text exposition format, version 0.0.4 (what GET /metrics answers and what
// telemetry.metrics() returns): families with their HELP and TYPE lines, then their samples,
// label values escaped, numbers written so that Prometheus reads them back exactly.
// https://prometheus.io/docs/instrumenting/exposition_formats/
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace telemetry::observe {

enum class MetricType { counter, gauge, histogram };

struct Label {
    std::string_view name;
    std::string_view value;
};

// Metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* not starting "__".
bool valid_metric_name(std::string_view name) noexcept;
bool valid_label_name(std::string_view name) noexcept;

// A sample value as the format writes it: integers without an exponent (counters up to 2^53
// are exact), others with 17 significant digits, NaN, +Inf and -Inf.
std::string format_value(double value);

// Builds one exposition. Every family is declared once, before its samples; a sample's name is
// the family's, or the family's with a histogram suffix (_bucket, _sum, _count). Names and
// label names are checked (std::invalid_argument: a bug of the caller, never input); label
// values may be anything and are escaped.
class Exposition {
public:
    void family(std::string_view name, MetricType type, std::string_view help);
    void sample(std::string_view name, const Label* labels, std::size_t label_count, double value);
    void sample(std::string_view name, double value) { sample(name, nullptr, 0, value); }
    void sample(std::string_view name, Label label, double value) { sample(name, &label, 1, value); }
    void sample(std::string_view name, Label first, Label second, double value) {
        const Label labels[2] = {first, second};
        sample(name, labels, 2, value);
    }
    const std::string& text() const noexcept { return text_; }

private:
    std::string text_;
    std::string family_;
    MetricType type_ = MetricType::gauge;
};

}  // namespace telemetry::observe
