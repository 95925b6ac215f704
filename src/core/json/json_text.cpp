#include "core/json/json_text.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "core/json/json_path.hpp"
#include "core/base/uuid.hpp"

namespace telemetry {

// Which whole-text limit was reached, if any.
enum class TextLimit : std::uint8_t { none, elements, values };

namespace json = boost::json;

namespace {

// ---------------------------------------------------------------------------------------------
// The repair pass.
//
// Three things in otherwise valid JSON make Boost.JSON 1.81 refuse the whole text, where we
// want to refuse (or repair) only the element they are in: a lone UTF-16 surrogate escape, an
// exponent beyond 2^31, and nesting beyond its recursion limit. A scan over the text, outside
// and inside strings (no recursion, no allocation), finds them; when there are any, a copy of the
// text is made in which
//   - a lone surrogate escape becomes \ufffd (same length), and the string is noted as repaired;
//   - an exponent above 100000 becomes 100001, which Boost reads and parse_json_number refuses
//     as out of range, as it refuses the original;
//   - a container deeper than Boost may go becomes the placeholder "", noted as too deep.
// Notes are by string token number (keys and string values, in text order, not counting those
// inside a replaced container), which the builder counts the same way. Everything else is left
// to Boost: on text that is not JSON the scan may see nonsense, but the parse refuses the text
// anyway. A repair never makes invalid text valid: it swaps a digit run for a digit run and an
// escape for an escape, and a container goes only after valid_json_container() read all of it
// as Boost would (Boost never sees it); the one place a string may stand but a container may
// not, an object's key, the builder refuses a placeholder.

constexpr std::int64_t largest_kept_exponent = 100000;      // as parse_json_number
constexpr std::uint32_t repair_depth = max_text_depth - 1;  // deeper containers become ""

struct Repairs {
    bool invalid = false;                     // the text is not JSON (seen where Boost does not look)
    std::string_view text;                    // what to parse: the input, or its repaired copy
    const std::uint32_t* repaired = nullptr;  // string tokens with a repaired surrogate, ascending
    std::size_t repaired_count = 0;
    const std::uint32_t* placeholders = nullptr;  // string tokens that stand for too-deep containers
    std::size_t placeholder_count = 0;
};

// The code unit of \uXXXX at text[at] (the backslash), or -1.
long escaped_unit(std::string_view text, std::size_t at) noexcept {
    if (at + 6 > text.size() || text[at] != '\\' || text[at + 1] != 'u') return -1;
    long unit = 0;
    for (std::size_t k = at + 2; k < at + 6; ++k) {
        const int d = hex_value(text[k]);
        if (d < 0) return -1;
        unit = unit * 16 + d;
    }
    return unit;
}

// Whether text[i] opens a valid JSON container (RFC 8259 as Boost.JSON reads it by default: no
// comments, no trailing commas, UTF-8 checked); `end` is then the index after it. Iterative, any
// depth: the open containers are kept one bit each (object or array).
bool valid_json_container(std::string_view text, std::size_t i, std::size_t& end) {
    const std::size_t n = text.size();
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const auto skip_space = [&](std::size_t k) {
        while (k < n && (text[k] == ' ' || text[k] == '\t' || text[k] == '\n' || text[k] == '\r')) ++k;
        return k;
    };
    // A string from its opening quote at k; the index after it, or npos.
    const auto string_end = [&](std::size_t k) -> std::size_t {
        ++k;
        while (k < n) {
            const unsigned char c = byte(k);
            if (c == '"') return k + 1;
            if (c < 0x20) return std::string_view::npos;
            if (c == '\\') {
                if (k + 1 >= n) return std::string_view::npos;
                const char e = text[k + 1];
                if (e == 'u') {
                    if (escaped_unit(text, k) < 0) return std::string_view::npos;
                    k += 6;  // lone surrogates are what the repair pass repairs: not refused here
                } else if (std::strchr("\"\\/bfnrt", e) != nullptr && e != '\0') {
                    k += 2;
                } else {
                    return std::string_view::npos;
                }
                continue;
            }
            if (c < 0x80) {
                ++k;
                continue;
            }
            // UTF-8: the lead byte gives the length and the range of the second byte.
            std::size_t length;
            unsigned char low = 0x80, high = 0xBF;
            if (c >= 0xC2 && c <= 0xDF) length = 2;
            else if (c >= 0xE0 && c <= 0xEF) {
                length = 3;
                if (c == 0xE0) low = 0xA0;
                if (c == 0xED) high = 0x9F;
            } else if (c >= 0xF0 && c <= 0xF4) {
                length = 4;
                if (c == 0xF0) low = 0x90;
                if (c == 0xF4) high = 0x8F;
            } else {
                return std::string_view::npos;
            }
            if (k + length > n || byte(k + 1) < low || byte(k + 1) > high) return std::string_view::npos;
            for (std::size_t m = 2; m < length; ++m)
                if (byte(k + m) < 0x80 || byte(k + m) > 0xBF) return std::string_view::npos;
            k += length;
        }
        return std::string_view::npos;
    };
    const auto digits_end = [&](std::size_t k) {
        while (k < n && text[k] >= '0' && text[k] <= '9') ++k;
        return k;
    };
    // A number from k; the index after it, or npos.
    const auto number_end = [&](std::size_t k) -> std::size_t {
        if (k < n && text[k] == '-') ++k;
        if (k >= n || text[k] < '0' || text[k] > '9') return std::string_view::npos;
        k = text[k] == '0' ? k + 1 : digits_end(k);
        if (k < n && text[k] == '.') {
            const std::size_t after = digits_end(k + 1);
            if (after == k + 1) return std::string_view::npos;
            k = after;
        }
        if (k < n && (text[k] == 'e' || text[k] == 'E')) {
            ++k;
            if (k < n && (text[k] == '+' || text[k] == '-')) ++k;
            const std::size_t after = digits_end(k);
            if (after == k) return std::string_view::npos;
            k = after;
        }
        return k;
    };

    std::vector<bool> in_object;  // the open containers, innermost last
    enum class Expect { value_or_close, value, key_or_close, key, colon, comma_or_close };
    Expect expect = Expect::value;
    std::size_t k = i;
    for (;;) {
        k = skip_space(k);
        if (k >= n) return false;
        const char c = text[k];
        switch (expect) {
            case Expect::key_or_close:
            case Expect::key:
                if (c == '}' && expect == Expect::key_or_close) break;
                if (c != '"') return false;
                k = string_end(k);
                if (k == std::string_view::npos) return false;
                expect = Expect::colon;
                continue;
            case Expect::colon:
                if (c != ':') return false;
                ++k;
                expect = Expect::value;
                continue;
            case Expect::comma_or_close:
                if (c == ',') {
                    ++k;
                    expect = in_object.back() ? Expect::key : Expect::value;
                    continue;
                }
                break;
            case Expect::value_or_close:
                if (c == ']') break;
                [[fallthrough]];
            case Expect::value:
                if (c == '[' || c == '{') {
                    in_object.push_back(c == '{');
                    ++k;
                    expect = c == '{' ? Expect::key_or_close : Expect::value_or_close;
                    continue;
                }
                if (c == '"') k = string_end(k);
                else if (c == 't') k = text.compare(k, 4, "true") == 0 ? k + 4 : std::string_view::npos;
                else if (c == 'f') k = text.compare(k, 5, "false") == 0 ? k + 5 : std::string_view::npos;
                else if (c == 'n') k = text.compare(k, 4, "null") == 0 ? k + 4 : std::string_view::npos;
                else k = number_end(k);
                if (k == std::string_view::npos) return false;
                expect = Expect::comma_or_close;
                continue;
        }
        // A closing bracket, which must match the innermost open container.
        if (c != (in_object.back() ? '}' : ']')) return false;
        in_object.pop_back();
        ++k;
        if (in_object.empty()) {
            end = k;
            return true;
        }
        expect = Expect::comma_or_close;
    }
}

// One pass over the text. With out == nullptr it only counts; otherwise it writes the repaired
// text to out and the notes to the arrays (sized by a counting pass).
struct RepairScan {
    std::string_view text;
    char* out = nullptr;
    std::uint32_t* repaired = nullptr;
    std::uint32_t* placeholders = nullptr;
    std::size_t written = 0;       // bytes of out
    std::size_t copied_until = 0;  // input before this is in out
    std::size_t repaired_count = 0;
    std::size_t placeholder_count = 0;
    bool any = false;
    bool invalid = false;  // a container too deep for Boost is not valid JSON: so is the text

    // Replaces text[at, at + length) with `with`.
    void splice(std::size_t at, std::size_t length, std::string_view with) noexcept {
        any = true;
        if (out != nullptr) {
            std::memcpy(out + written, text.data() + copied_until, at - copied_until);
            written += at - copied_until;
            std::memcpy(out + written, with.data(), with.size());
            written += with.size();
        }
        copied_until = at + length;
    }

    // The string token starting at the quote at i; returns the index after its closing quote.
    std::size_t string_token(std::size_t i, std::uint32_t index) noexcept {
        bool repaired_here = false;
        std::size_t j = i + 1;
        while (j < text.size() && text[j] != '"') {
            if (text[j] != '\\') {
                ++j;
                continue;
            }
            const long unit = escaped_unit(text, j);
            if (unit >= 0xD800 && unit <= 0xDBFF) {
                const long next = escaped_unit(text, j + 6);
                if (next >= 0xDC00 && next <= 0xDFFF) {
                    j += 12;  // a proper pair
                    continue;
                }
            }
            if (unit >= 0xD800 && unit <= 0xDFFF) {
                splice(j, 6, "\\ufffd");
                repaired_here = true;
                j += 6;
                continue;
            }
            j += unit >= 0 ? 6 : 2;
        }
        if (repaired_here) {
            if (repaired != nullptr) repaired[repaired_count] = index;
            ++repaired_count;
        }
        return j < text.size() ? j + 1 : j;
    }

    // The number token starting at i; returns the index after it.
    std::size_t number_token(std::size_t i) noexcept {
        std::size_t j = i;
        while (j < text.size() &&
               ((text[j] >= '0' && text[j] <= '9') || text[j] == '-' || text[j] == '+' || text[j] == '.'))
            ++j;
        if (j < text.size() && (text[j] == 'e' || text[j] == 'E')) {
            ++j;
            if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
            const std::size_t digits = j;
            std::int64_t exponent = 0;
            while (j < text.size() && text[j] >= '0' && text[j] <= '9') {
                if (exponent <= largest_kept_exponent) exponent = exponent * 10 + (text[j] - '0');
                ++j;
            }
            if (exponent > largest_kept_exponent) splice(digits, j - digits, "100001");
        }
        return j;
    }

    // The container opening at i, too deep for Boost: returns the index after its end, or
    // text.size() with `invalid` set when it is not valid JSON.
    std::size_t skip_container(std::size_t i) {
        std::size_t end = 0;
        if (!valid_json_container(text, i, end)) {
            invalid = true;
            return text.size();
        }
        return end;
    }

    void run() {
        std::uint32_t depth = 0;
        std::uint32_t strings = 0;
        std::size_t i = 0;
        while (i < text.size() && !invalid) {
            const char c = text[i];
            if (c == '"') {
                i = string_token(i, strings++);
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                i = number_token(i);
            } else if (c == '[' || c == '{') {
                if (depth + 1 > repair_depth) {
                    const std::size_t end = skip_container(i);
                    splice(i, end - i, "\"\"");
                    if (placeholders != nullptr) placeholders[placeholder_count] = strings;
                    ++placeholder_count;
                    ++strings;
                    i = end;
                } else {
                    ++depth;
                    ++i;
                }
            } else if (c == ']' || c == '}') {
                if (depth > 0) --depth;
                ++i;
            } else {
                ++i;
            }
        }
        if (out != nullptr) {
            std::memcpy(out + written, text.data() + copied_until, text.size() - copied_until);
            written += text.size() - copied_until;
        }
    }
};

Repairs repair(std::string_view text, Arena& arena) {
    RepairScan count{text};
    count.run();
    Repairs result;
    result.text = text;
    result.invalid = count.invalid;
    if (!count.any || count.invalid) return result;
    // Every replacement is no longer than what it replaces.
    RepairScan write{text};
    write.out = static_cast<char*>(arena.allocate(text.size() + 1, 1));
    write.repaired = arena.allocate_array<std::uint32_t>(count.repaired_count);
    write.placeholders = arena.allocate_array<std::uint32_t>(count.placeholder_count);
    write.run();
    result.text = std::string_view(write.out, write.written);
    result.repaired = write.repaired;
    result.repaired_count = write.repaired_count;
    result.placeholders = write.placeholders;
    result.placeholder_count = write.placeholder_count;
    return result;
}

// ---------------------------------------------------------------------------------------------
// The builder: Boost's events to a document in the arena.

class Builder {
public:
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);

    Builder(Arena& arena, const TextLimits& limits, const Repairs& repairs)
        : arena_(arena), limits_(limits), repairs_(repairs) {}

    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_object_begin(json::error_code&) { return open(JsonKind::object); }
    bool on_array_begin(json::error_code&) { return open(JsonKind::array); }
    bool on_object_end(std::size_t, json::error_code&) { return close(); }
    bool on_array_end(std::size_t, json::error_code&) { return close(); }

    bool on_key_part(json::string_view s, std::size_t, json::error_code&) { return collect(s); }
    bool on_key(json::string_view s, std::size_t, json::error_code&) {
        const StringNotes notes = next_string();
        if (notes.placeholder) {  // a container where a key belongs: the text was not JSON
            not_json = true;
            return false;
        }
        if (skip_depth_ > 0) return true;
        const std::string_view key = finish_string(s);
        frames_.back().key = key;
        if (notes.repaired) note_repair();
        if (key.find('\0') != std::string_view::npos) problem("22P05", "a key contains the NUL character \\u0000");
        return true;
    }

    bool on_string_part(json::string_view s, std::size_t, json::error_code&) { return collect(s); }
    bool on_string(json::string_view s, std::size_t, json::error_code&) {
        const StringNotes notes = next_string();
        if (skip_depth_ > 0) return true;
        if (notes.placeholder) {  // a container too deep to parse: a marker, as open() makes
            text_.clear();
            JsonValue marker;
            marker.kind = JsonKind::too_deep;
            return scalar(marker, nullptr, nullptr);
        }
        JsonValue v;
        v.kind = JsonKind::string;
        v.string = finish_string(s);
        const bool has_nul = v.string.find('\0') != std::string_view::npos;
        return scalar(v, has_nul ? "22P05" : nullptr, "a string contains the NUL character \\u0000", notes.repaired);
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
        return scalar(v, nullptr, nullptr);
    }
    bool on_null(json::error_code&) {
        if (skip_depth_ > 0) return true;
        return scalar(JsonValue{}, nullptr, nullptr);
    }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }

    JsonValue root;
    std::vector<ElementProblem> problems;  // one per top-level array element, or one for the root
    TextLimit exceeded = TextLimit::none;
    bool not_json = false;  // what the repair pass replaced stood where JSON allows no value

private:
    struct Frame {
        JsonKind kind;
        std::size_t first;           // where this container's children start in values_/keys_
        std::string_view key;        // in an object: the key of the value being read
        std::uint32_t depth;         // the element is depth 1
        std::uint32_t children = 0;  // finished children so far
    };
    struct StringNotes {
        bool repaired = false;
        bool placeholder = false;
    };

    bool collect(json::string_view s) {
        if (skip_depth_ == 0) text_.append(s.data(), s.size());
        return true;
    }

    // Counts a string token (skipped or not, as the repair pass counts them) and says what the
    // repair pass noted about it.
    StringNotes next_string() noexcept {
        const std::uint32_t index = strings_++;
        StringNotes notes;
        if (next_repaired_ < repairs_.repaired_count && repairs_.repaired[next_repaired_] == index) {
            notes.repaired = true;
            ++next_repaired_;
        }
        if (next_placeholder_ < repairs_.placeholder_count && repairs_.placeholders[next_placeholder_] == index) {
            notes.placeholder = true;
            ++next_placeholder_;
        }
        return notes;
    }

    // The string's bytes for the document: a view into the parsed text when Boost handed us one
    // (no escapes, read in one piece), else a copy of what was collected.
    std::string_view finish_string(json::string_view last) {
        const char* begin = repairs_.text.data();
        const char* end = begin + repairs_.text.size();
        if (text_.empty() && last.data() >= begin && last.data() + last.size() <= end)
            return std::string_view(last.data(), last.size());
        text_.append(last.data(), last.size());
        const std::string_view copy = arena_.copy(text_);
        text_.clear();
        if (text_.capacity() > (1u << 20)) text_.shrink_to_fit();  // one long string keeps no megabytes
        return copy;
    }

    bool at_root_array() const noexcept {
        return frames_.size() == 1 && frames_[0].kind == JsonKind::array && !root_is_element_;
    }

    // A value begins. Counts it against the limits and, where a new top-level element starts,
    // gives it a problem slot. False: a whole-text limit was reached, stop.
    bool begin_value() {
        if (frames_.empty()) {
            if (root_is_element_ && problems.empty()) problems.emplace_back();
        } else if (at_root_array()) {
            if (++elements_ > limits_.max_elements) {
                exceeded = TextLimit::elements;
                return false;
            }
            problems.emplace_back();
            element_values_ = 0;
        }
        if (++values_read_ > limits_.max_values) {
            exceeded = TextLimit::values;
            return false;
        }
        // The root array itself is not part of any element.
        if (!(frames_.empty() && !root_is_element_)) ++element_values_;
        return true;
    }

    // The element being read has more values than it may: it is refused, its values so far are
    // dropped, a too_large marker takes its place, and the rest of it is skipped. `opening`: the
    // value that crossed the limit is a container, whose end must be skipped too.
    void abandon_element(bool opening) {
        ElementProblem& slot = problems.back();
        if (!*slot.sqlstate) {
            slot.sqlstate = "54000";
            slot.rule = limits_.too_large_rule;
            slot.path = "$";
        }
        const std::size_t first_frame = root_is_element_ ? 0 : 1;
        std::uint32_t open_containers = opening ? 1 : 0;
        if (frames_.size() > first_frame) {
            values_.resize(frames_[first_frame].first);
            keys_.resize(frames_[first_frame].first);
            open_containers += static_cast<std::uint32_t>(frames_.size() - first_frame);
            frames_.resize(first_frame);
        }
        JsonValue marker;
        marker.kind = JsonKind::too_large;
        append(marker);
        skip_depth_ = open_containers;
    }

    bool open(JsonKind kind) {
        if (skip_depth_ > 0) {
            ++skip_depth_;
            return true;
        }
        if (frames_.empty()) root_is_element_ = kind != JsonKind::array;  // a root array holds the elements
        if (!begin_value()) return false;
        if (element_values_ > limits_.max_element_values) {
            abandon_element(true);
            return true;
        }
        std::uint32_t depth;
        if (frames_.empty()) {
            depth = root_is_element_ ? 1 : 0;
        } else {
            depth = frames_.back().depth + 1;
        }
        if (depth > limits_.element_depth) {
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
            for (std::size_t i = 0; i < n; ++i)
                new (&v.members[i]) JsonMember{keys_[frame.first + i], values_[frame.first + i]};
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

    // A scalar value. `repaired`: a string the repair pass changed, noted on its element only
    // once begin_value() has given a top-level element its slot.
    bool scalar(const JsonValue& v, const char* problem_state, const char* rule, bool repaired = false) {
        if (!begin_value()) return false;
        if (element_values_ > limits_.max_element_values) {
            abandon_element(false);
            return true;
        }
        if (repaired) note_repair();
        if (problem_state) problem(problem_state, rule);
        append(v);
        return true;
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
        return scalar(v, ok ? nullptr : "22003", "number is out of range (beyond a double, or more than 1000 digits)");
    }

    // The element being read holds a repaired string. Its slot exists: a key is read inside an
    // open container, a string value after begin_value().
    void note_repair() {
        if (problems.empty()) problems.emplace_back();
        problems.back().utf16_repaired = true;
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
    const TextLimits& limits_;
    const Repairs& repairs_;
    std::vector<Frame> frames_;
    std::vector<JsonValue> values_;
    std::vector<std::string_view> keys_;
    std::string text_;
    std::uint32_t skip_depth_ = 0;
    bool root_is_element_ = true;
    std::uint32_t elements_ = 0;        // top-level elements begun
    std::uint64_t values_read_ = 0;     // in the whole text
    std::uint64_t element_values_ = 0;  // in the element being read
    std::uint32_t strings_ = 0;         // string tokens seen, skipped ones included
    std::size_t next_repaired_ = 0;
    std::size_t next_placeholder_ = 0;
};

}  // namespace

ParsedText parse_json_text(std::string_view text, const TextLimits& limits, Arena& arena) {
    // A refusal of the whole text, named by its subject.
    const auto refuse = [&limits](const char* state, const std::string& message) {
        if (limits.subject.empty()) throw DomainError(state, message);
        throw DomainError(state, std::string(limits.subject) + ": " + message);
    };
    ParsedText out;
    const Repairs repairs = repair(text, arena);
    if (repairs.invalid) refuse(sqlstate::invalid_text_representation, "text is not valid JSON");
    json::parse_options options;
    options.max_depth = max_text_depth;  // the parser recurses: never raise this
    json::basic_parser<Builder> parser(options, arena, limits, repairs);
    json::error_code ec;
    const std::size_t used = parser.write_some(false, repairs.text.data(), repairs.text.size(), ec);
    Builder& builder = parser.handler();
    if (builder.not_json) refuse(sqlstate::invalid_text_representation, "text is not valid JSON");
    // A limit's own message names the text already; the default one is named like the rest.
    if (builder.exceeded == TextLimit::elements) {
        if (!limits.too_many_elements_message.empty())
            throw DomainError(sqlstate::program_limit_exceeded, std::string(limits.too_many_elements_message));
        refuse(sqlstate::program_limit_exceeded,
               "the top-level array holds more than " + std::to_string(limits.max_elements) + " elements");
    }
    if (builder.exceeded == TextLimit::values) {
        if (!limits.too_many_values_message.empty())
            throw DomainError(sqlstate::program_limit_exceeded, std::string(limits.too_many_values_message));
        refuse(sqlstate::program_limit_exceeded,
               "the text holds more than " + std::to_string(limits.max_values) + " JSON values");
    }
    if (ec == json::error::too_deep)  // the repair pass replaces what is too deep: a bug if seen
        refuse(sqlstate::internal_error, "telemetry: JSON text nested too deeply after repair");
    if (ec || used != repairs.text.size() || !parser.done())
        refuse(sqlstate::invalid_text_representation, "text is not valid JSON");
    out.root = builder.root;
    const std::size_t n = builder.problems.size();
    out.problems = arena.allocate_array<ElementProblem>(n);
    for (std::size_t i = 0; i < n; ++i) new (&out.problems[i]) ElementProblem(builder.problems[i]);
    out.problem_count = static_cast<std::uint32_t>(n);
    if (out.root.kind == JsonKind::array && n != out.root.count)
        refuse(sqlstate::internal_error, "telemetry: element problems out of step with elements");
    return out;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
