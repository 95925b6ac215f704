#include "core/json_text.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/json_path.hpp"
#include <new>

namespace telemetry {

namespace json = boost::json;

namespace {

class Builder {
public:
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);

    Builder(Arena& arena, std::uint32_t element_depth_limit) : arena_(arena), element_limit_(element_depth_limit) {}

    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_object_begin(json::error_code&) { return open(JsonKind::object); }
    bool on_array_begin(json::error_code&) { return open(JsonKind::array); }
    bool on_object_end(std::size_t, json::error_code&) { return close(); }
    bool on_array_end(std::size_t, json::error_code&) { return close(); }

    bool on_key_part(json::string_view s, std::size_t, json::error_code&) { return collect(s); }
    bool on_key(json::string_view s, std::size_t, json::error_code&) {
        if (skip_depth_ > 0) return true;
        text_.append(s.data(), s.size());
        frames_.back().key = arena_.copy(text_);
        const bool has_nul = text_.find('\0') != std::string::npos;
        text_.clear();
        if (has_nul) problem("22P05", "a key contains the NUL character \\u0000");
        return true;
    }

    bool on_string_part(json::string_view s, std::size_t, json::error_code&) { return collect(s); }
    bool on_string(json::string_view s, std::size_t, json::error_code&) {
        if (skip_depth_ > 0) return true;
        text_.append(s.data(), s.size());
        JsonValue v;
        v.kind = JsonKind::string;
        v.string = arena_.copy(text_);
        const bool has_nul = text_.find('\0') != std::string::npos;
        text_.clear();
        scalar(v, has_nul ? "22P05" : nullptr, "a string contains the NUL character \\u0000");
        return true;
    }

    bool on_number_part(json::string_view s, json::error_code&) { return collect(s); }
    bool on_int64(std::int64_t, json::string_view s, json::error_code&) { return number(s); }
    bool on_uint64(std::uint64_t, json::string_view s, json::error_code&) { return number(s); }
    bool on_double(double, json::string_view s, json::error_code&) { return number(s); }

    bool on_bool(bool b, json::error_code&) {
        if (skip_depth_ > 0) return true;
        JsonValue v;
        v.kind = JsonKind::boolean;
        v.boolean = b;
        scalar(v, nullptr, nullptr);
        return true;
    }
    bool on_null(json::error_code&) {
        if (skip_depth_ > 0) return true;
        scalar(JsonValue{}, nullptr, nullptr);
        return true;
    }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }

    JsonValue root;
    std::vector<ElementProblem> problems;  // one per top-level array element, or one for the root

private:
    struct Frame {
        JsonKind kind;
        std::size_t first;              // where this container's children start in values_/keys_
        std::string_view key;           // in an object: the key of the value being read
        std::uint32_t depth;            // the element is depth 1
        std::uint32_t children = 0;     // finished children so far
    };

    bool collect(json::string_view s) {
        if (skip_depth_ == 0) text_.append(s.data(), s.size());
        return true;
    }

    bool at_root_array() const noexcept { return frames_.size() == 1 && frames_[0].kind == JsonKind::array && !root_is_element_; }

    // A value begins where a new top-level element starts: give it a problem slot.
    void begin_value() {
        if (frames_.empty()) {
            if (problems.empty()) problems.emplace_back();
        } else if (at_root_array()) {
            problems.emplace_back();
        }
    }

    bool open(JsonKind kind) {
        if (skip_depth_ > 0) {
            ++skip_depth_;
            return true;
        }
        std::uint32_t depth;
        if (frames_.empty()) {
            // A root array holds the elements; any other root is itself the element.
            root_is_element_ = kind != JsonKind::array;
            depth = root_is_element_ ? 1 : 0;
            if (root_is_element_) begin_value();
        } else {
            begin_value();
            depth = frames_.back().depth + 1;
        }
        if (depth > element_limit_) {
            JsonValue marker;  // too deep for us: keep a marker, skip the content
            marker.kind = JsonKind::too_deep;
            append(marker);
            skip_depth_ = 1;
            return true;
        }
        frames_.push_back(Frame{kind, values_.size(), {}, depth});
        return true;
    }

    bool close() {
        if (skip_depth_ > 0) {
            --skip_depth_;
            return true;
        }
        const Frame frame = frames_.back();
        frames_.pop_back();
        const std::size_t n = values_.size() - frame.first;
        JsonValue v;
        v.kind = frame.kind;
        v.count = static_cast<std::uint32_t>(n);
        if (frame.kind == JsonKind::array) {
            v.elements = arena_.allocate_array<JsonValue>(n);
            std::copy(values_.begin() + static_cast<std::ptrdiff_t>(frame.first), values_.end(), v.elements);
        } else {
            v.members = arena_.allocate_array<JsonMember>(n);
            for (std::size_t i = 0; i < n; ++i) new (&v.members[i]) JsonMember{keys_[frame.first + i], values_[frame.first + i]};
            report_duplicate_key(v);
        }
        values_.resize(frame.first);
        keys_.resize(frame.first);
        append(v);
        return true;
    }

    // Appends a finished value to the open container, or makes it the root.
    void append(const JsonValue& v) {
        if (frames_.empty()) {
            root = v;
            return;
        }
        Frame& top = frames_.back();
        values_.push_back(v);
        keys_.push_back(top.kind == JsonKind::object ? top.key : std::string_view());
        ++top.children;
    }

    void scalar(const JsonValue& v, const char* problem_state, const char* rule) {
        begin_value();
        if (problem_state) problem(problem_state, rule);
        append(v);
    }

    bool number(json::string_view last) {
        if (skip_depth_ > 0) {
            text_.clear();
            return true;
        }
        text_.append(last.data(), last.size());
        auto* n = arena_.allocate_array<JsonNumber>(1);
        new (n) JsonNumber{};
        const bool ok = parse_json_number(text_, arena_, *n);
        text_.clear();
        JsonValue v;
        v.kind = JsonKind::number;
        v.number = n;
        scalar(v, ok ? nullptr : "22003", "number is out of range (beyond a double, or more than 1000 digits)");
        return true;
    }

    // After an object closed: a duplicate key refuses its element, at the object's path.
    void report_duplicate_key(const JsonValue& object) {
        if (object.count < 2) return;
        std::vector<std::string_view> keys(object.count);
        for (std::uint32_t i = 0; i < object.count; ++i) keys[i] = object.members[i].key;
        std::sort(keys.begin(), keys.end());
        for (std::size_t i = 1; i < keys.size(); ++i)
            if (keys[i] == keys[i - 1]) {
                problem("22030", "duplicate key", keys[i]);
                return;
            }
    }

    // The path, relative to the element, of the value being read now: the chain of open
    // containers, each adding its current key or the index of its next child.
    JsonPath current_path() const {
        JsonPath path;
        const std::size_t first = root_is_element_ ? 0 : 1;
        for (std::size_t f = first; f < frames_.size(); ++f) {
            const Frame& parent = frames_[f];
            path = parent.kind == JsonKind::object ? path.key(parent.key) : path.index(parent.children);
        }
        return path;
    }

    // Records the first problem of the current element.
    void problem(const char* state, const char* rule, std::string_view extra_key = {}) {
        if (problems.empty()) problems.emplace_back();
        ElementProblem& slot = problems.back();
        if (*slot.sqlstate) return;
        slot.sqlstate = state;
        slot.rule = rule;
        JsonPath path = current_path();
        if (!extra_key.empty()) path = path.key(extra_key);
        slot.path = arena_.copy(path.str());
    }

    Arena& arena_;
    std::uint32_t element_limit_;
    std::vector<Frame> frames_;
    std::vector<JsonValue> values_;
    std::vector<std::string_view> keys_;
    std::string text_;
    std::uint32_t skip_depth_ = 0;
    bool root_is_element_ = true;
};

}  // namespace

ParsedText parse_json_text(std::string_view text, std::uint32_t element_depth_limit, Arena& arena) noexcept {
    ParsedText out;
    out.error = capture_errors([&] {
        json::parse_options options;
        options.max_depth = max_text_depth;  // the parser recurses: never raise this
        json::basic_parser<Builder> parser(options, arena, element_depth_limit);
        json::error_code ec;
        const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
        if (ec == json::error::too_deep)
            throw DomainError(sqlstate::program_limit_exceeded,
                              "JSON text is nested deeper than " + std::to_string(max_text_depth) + " levels");
        if (ec || used != text.size() || !parser.done())
            throw DomainError(sqlstate::invalid_text_representation, "text is not valid JSON");
        Builder& builder = parser.handler();
        out.root = builder.root;
        const std::size_t n = builder.problems.size();
        out.problems = arena.allocate_array<ElementProblem>(n);
        for (std::size_t i = 0; i < n; ++i) new (&out.problems[i]) ElementProblem(builder.problems[i]);
        out.problem_count = static_cast<std::uint32_t>(n);
        if (out.root.kind == JsonKind::array && n != out.root.count)
            throw DomainError(sqlstate::internal_error, "telemetry: element problems out of step with elements");
    });
    return out;
}

}  // namespace telemetry

#include "core/no_postgres.hpp"
