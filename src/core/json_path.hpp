// JSON paths for error messages: `$.events[3].schema.properties.source`.
//
// A path names where a rule was broken without showing the value found there (it may be
// personal data). Keys that are not plain identifiers are quoted: `$.properties["user email"]`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace telemetry {

class JsonPath {
public:
    JsonPath() : text_("$") {}
    explicit JsonPath(std::string root) : text_(std::move(root)) {}

    JsonPath key(std::string_view key) const;
    JsonPath index(std::size_t i) const;
    const std::string& str() const noexcept { return text_; }

private:
    std::string text_;
};

}  // namespace telemetry
