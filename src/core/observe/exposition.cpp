#include "core/observe/exposition.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace telemetry::observe {

namespace {

bool name_char(char c, bool first, bool colon) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
    return letter || (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool colon) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (!name_char(name[i], i == 0, colon)) return false;
    return true;
}

// HELP text escapes backslash and newline; label values also the double quote.
void append_escaped(std::string& out, std::string_view text, bool quote) {
    for (char c : text) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (quote && c == '"') out += "\\\"";
        else out += c;
    }
}

const char* type_name(MetricType type) {
    switch (type) {
        case MetricType::counter:
            return "counter";
        case MetricType::histogram:
            return "histogram";
        case MetricType::gauge:
            break;
    }
    return "gauge";
}

bool has_suffix(std::string_view name, std::string_view suffix) {
    return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
}

}  // namespace

bool valid_metric_name(std::string_view name) noexcept { return valid_name(name, true); }

bool valid_label_name(std::string_view name) noexcept { return valid_name(name, false) && name.substr(0, 2) != "__"; }

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char buffer[64];
    std::to_chars_result written;
    if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0)  // 2^53: exact as an integer
        written = std::to_chars(buffer, buffer + sizeof buffer, static_cast<long long>(value));
    else written = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest form that reads back
    return std::string(buffer, written.ptr);
}

void Exposition::family(std::string_view name, MetricType type, std::string_view help) {
    if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name");
    family_.assign(name);
    type_ = type;
    text_ += "# HELP ";
    text_ += name;
    text_ += ' ';
    append_escaped(text_, help, false);
    text_ += "\n# TYPE ";
    text_ += name;
    text_ += ' ';
    text_ += type_name(type);
    text_ += '\n';
}

void Exposition::sample(std::string_view name, const Label* labels, std::size_t label_count, double value) {
    const bool own = name == family_;
    const bool histogram_part = type_ == MetricType::histogram && name.substr(0, family_.size()) == family_ &&
                                (name.substr(family_.size()) == "_bucket" || name.substr(family_.size()) == "_sum" ||
                                 name.substr(family_.size()) == "_count");
    if (family_.empty() || !(own || histogram_part) || (type_ == MetricType::histogram && own))
        throw std::invalid_argument("sample outside its family");
    if (type_ == MetricType::counter && !has_suffix(name, "_total"))
        throw std::invalid_argument("a counter's name ends in _total");
    text_ += name;
    if (label_count > 0) {
        text_ += '{';
        for (std::size_t i = 0; i < label_count; ++i) {
            if (!valid_label_name(labels[i].name)) throw std::invalid_argument("invalid label name");
            if (i > 0) text_ += ',';
            text_ += labels[i].name;
            text_ += "=\"";
            append_escaped(text_, labels[i].value, true);
            text_ += '"';
        }
        text_ += '}';
    }
    text_ += ' ';
    text_ += format_value(value);
    text_ += '\n';
}

}  // namespace telemetry::observe

#include "core/base/no_postgres.hpp"
