// JSON paths for error messages: `$.events[3].schema.properties.source`.
//
// A path names where a rule was broken without showing the value found there (it may be
// personal data). Keys that are not plain identifiers are quoted: `$.properties["user email"]`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace telemetry {

// The length of the longest prefix of UTF-8 `text` of at most max_bytes that ends on a character
// boundary: where to cut text that is shortened for display, so it stays valid UTF-8.
std::size_t utf8_prefix(std::string_view text, std::size_t max_bytes) noexcept;

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

// The same path while a document is being walked: a chain of steps on the stack that becomes
// text only when a rule is broken, so validating an event costs no allocation per property.
// A step refers to its parent and to the key's bytes: use it only while both live.
class PathStep {
public:
    PathStep() noexcept = default;  // the root, "$"
    PathStep key(std::string_view key) const noexcept { return PathStep(this, key, 0, Kind::key); }
    PathStep index(std::size_t i) const noexcept { return PathStep(this, {}, i, Kind::index); }
    JsonPath path() const;
    std::string str() const { return path().str(); }
    // The exact location as a JSON Pointer (RFC 6901: "/items/2/email", "~0" for "~" and "~1"
    // for "/" in keys), where str() is for display and may shorten keys.
    std::string pointer() const;

private:
    enum class Kind : unsigned char { root, key, index };
    PathStep(const PathStep* parent, std::string_view key, std::size_t index, Kind kind) noexcept
        : parent_(parent), key_(key), index_(index), kind_(kind) {}

    const PathStep* parent_ = nullptr;
    std::string_view key_;
    std::size_t index_ = 0;
    Kind kind_ = Kind::root;
};

// A list of paths held elsewhere, such as JSON Pointers read from a row.
struct PathList {
    const std::string_view* items = nullptr;
    std::size_t count = 0;
};

}  // namespace telemetry
