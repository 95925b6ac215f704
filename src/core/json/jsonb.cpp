#include "core/json/jsonb.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/base/error.hpp"

namespace telemetry {

namespace {

// From src/include/utils/jsonb.h.
constexpr std::uint32_t JB_CMASK = 0x0FFFFFFF;
constexpr std::uint32_t JB_FSCALAR = 0x10000000;
constexpr std::uint32_t JB_FOBJECT = 0x20000000;
constexpr std::uint32_t JB_FARRAY = 0x40000000;
constexpr std::uint32_t JENTRY_OFFLENMASK = 0x0FFFFFFF;
constexpr std::uint32_t JENTRY_TYPEMASK = 0x70000000;
constexpr std::uint32_t JENTRY_HAS_OFF = 0x80000000;
constexpr std::uint32_t JENTRY_ISSTRING = 0x00000000;
constexpr std::uint32_t JENTRY_ISNUMERIC = 0x10000000;
constexpr std::uint32_t JENTRY_ISBOOL_FALSE = 0x20000000;
constexpr std::uint32_t JENTRY_ISBOOL_TRUE = 0x30000000;
constexpr std::uint32_t JENTRY_ISNULL = 0x40000000;
constexpr std::uint32_t JENTRY_ISCONTAINER = 0x50000000;
constexpr std::uint32_t JB_OFFSET_STRIDE = 32;

// From src/backend/utils/adt/numeric.c.
constexpr std::uint16_t NUMERIC_SIGN_MASK = 0xC000;
constexpr std::uint16_t NUMERIC_NEG = 0x4000;
constexpr std::uint16_t NUMERIC_SHORT = 0x8000;
constexpr std::uint16_t NUMERIC_SPECIAL = 0xC000;
constexpr std::uint16_t NUMERIC_SHORT_SIGN_MASK = 0x2000;
constexpr std::uint16_t NUMERIC_SHORT_DSCALE_MASK = 0x1F80;
constexpr int NUMERIC_SHORT_DSCALE_SHIFT = 7;
constexpr int NUMERIC_SHORT_DSCALE_MAX = NUMERIC_SHORT_DSCALE_MASK >> NUMERIC_SHORT_DSCALE_SHIFT;
constexpr std::uint16_t NUMERIC_SHORT_WEIGHT_SIGN_MASK = 0x0040;
constexpr std::uint16_t NUMERIC_SHORT_WEIGHT_MASK = 0x003F;
constexpr int NUMERIC_SHORT_WEIGHT_MAX = NUMERIC_SHORT_WEIGHT_MASK;
constexpr int NUMERIC_SHORT_WEIGHT_MIN = -(NUMERIC_SHORT_WEIGHT_MASK + 1);
constexpr std::uint16_t NUMERIC_DSCALE_MASK = 0x3FFF;
constexpr int DEC_DIGITS = 4;  // decimal digits per base-10000 digit

[[noreturn]] void malformed(const char* what) {
    throw DomainError(sqlstate::internal_error, std::string("telemetry: malformed jsonb value: ") + what);
}

std::uint32_t read_u32(const unsigned char* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

std::uint16_t read_u16(const unsigned char* p) noexcept {
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}

std::size_t int_align(std::size_t n) noexcept { return (n + 3) & ~static_cast<std::size_t>(3); }

// A numeric datum (1- or 4-byte varlena header) to an exact decimal.
JsonNumber* decode_numeric(const unsigned char* p, std::size_t available, Arena& arena) {
    if (available < 1) malformed("numeric header");
    std::size_t total;
    std::size_t header;
    if (p[0] & 0x01) {  // 1-byte header (a packed short varlena)
        total = p[0] >> 1;
        header = 1;
    } else {
        if (available < 4) malformed("numeric header");
        const std::uint32_t h = read_u32(p);
        if (h & 0x02) malformed("compressed numeric");
        total = h >> 2;
        header = 4;
    }
    if (total > available || total < header + 2) malformed("numeric size");
    const std::uint16_t n_header = read_u16(p + header);
    const std::uint16_t flags = n_header & NUMERIC_SIGN_MASK;
    if (flags == NUMERIC_SPECIAL) malformed("NaN or infinity in jsonb");

    bool negative;
    int weight;
    int dscale;
    std::size_t digits_at;
    if (flags == NUMERIC_SHORT) {
        negative = (n_header & NUMERIC_SHORT_SIGN_MASK) != 0;
        dscale = (n_header & NUMERIC_SHORT_DSCALE_MASK) >> NUMERIC_SHORT_DSCALE_SHIFT;
        weight =
            static_cast<std::int16_t>(((n_header & NUMERIC_SHORT_WEIGHT_SIGN_MASK) ? ~NUMERIC_SHORT_WEIGHT_MASK : 0) |
                                      (n_header & NUMERIC_SHORT_WEIGHT_MASK));
        digits_at = header + 2;
    } else {
        if (total < header + 4) malformed("numeric size");
        negative = flags == NUMERIC_NEG;
        dscale = n_header & NUMERIC_DSCALE_MASK;
        weight = static_cast<std::int16_t>(read_u16(p + header + 2));
        digits_at = header + 4;
    }
    const std::size_t ndigits = (total - digits_at) / 2;

    // Base-10000 digits to decimal digits; the decimal point falls after (weight + 1) groups.
    std::string decimal;
    decimal.reserve(ndigits * DEC_DIGITS);
    for (std::size_t i = 0; i < ndigits; ++i) {
        const std::uint16_t group = read_u16(p + digits_at + 2 * i);
        if (group > 9999) malformed("numeric digit");
        char buf[4];
        buf[0] = static_cast<char>('0' + group / 1000);
        buf[1] = static_cast<char>('0' + group / 100 % 10);
        buf[2] = static_cast<char>('0' + group / 10 % 10);
        buf[3] = static_cast<char>('0' + group % 10);
        decimal.append(buf, 4);
    }
    long long point = (static_cast<long long>(weight) + 1) * DEC_DIGITS;
    std::size_t lead = 0;
    while (lead < decimal.size() && decimal[lead] == '0') ++lead;
    point -= static_cast<long long>(lead);
    decimal.erase(0, lead);
    while (!decimal.empty() && decimal.back() == '0') decimal.pop_back();

    auto* n = arena.allocate_array<JsonNumber>(1);
    *n = JsonNumber{};
    n->negative = negative && !decimal.empty();
    n->dscale = dscale;
    n->point = decimal.empty() ? 0 : static_cast<std::int32_t>(point);
    n->digits = arena.copy(decimal);
    n->pg_numeric = p;
    n->pg_numeric_size = static_cast<std::uint32_t>(total);
    // approx is filled by parse_json_number on the printed form, which also keeps one
    // definition of how a decimal becomes a double.
    std::string text;
    append_number_text(*n, text);
    JsonNumber reparsed;
    if (parse_json_number(text, arena, reparsed)) {
        n->approx = reparsed.approx;
    } else {
        n->out_of_range = true;
        n->approx =
            n->point <= 0 ? 0.0 : (negative ? -std::numeric_limits<double>::max() : std::numeric_limits<double>::max());
    }
    return n;
}

// Thrown inside the decoder when a batch element holds more values than it may; caught where
// the element is read, which becomes too_large.
struct ElementTooLarge {};

struct Decoder {
    Arena& arena;
    const DecodeLimits& limits;
    std::uint64_t values = 0;          // in the whole document
    std::uint64_t element_values = 0;  // in the batch element being read
    bool in_element = false;

    // Counts n values about to be read (a container's children are counted before any of them
    // is allocated).
    void tally(std::uint64_t n) {
        if (in_element) {  // an element too large is that element's problem, not the batch's
            element_values += n;
            if (element_values > limits.max_element_values) throw ElementTooLarge{};
        }
        values += n;
        if (values > limits.max_values) throw DomainError(sqlstate::program_limit_exceeded, limits.too_many_values);
    }

    // A container at p with `size` bytes available; depth counts this container.
    JsonValue container(const unsigned char* p, std::size_t size, std::uint32_t depth) {
        JsonValue out;
        if (depth > limits.max_depth) {
            out.kind = JsonKind::too_deep;
            return out;
        }
        if (size < 4) malformed("container header");
        const std::uint32_t header = read_u32(p);
        const std::uint32_t count = header & JB_CMASK;
        const bool is_object = (header & JB_FOBJECT) != 0;
        const bool is_array = (header & JB_FARRAY) != 0;
        if (is_object == is_array) malformed("container type");
        const std::size_t entries = is_object ? 2 * static_cast<std::size_t>(count) : count;
        if (entries > (size - 4) / 4) malformed("entry count");
        // The root array of a batch: its elements are read one by one, each within its own
        // budget; everywhere else the children are counted here, before they are allocated.
        const bool batch_root = limits.batch && depth == 1 && is_array && !(header & JB_FSCALAR);
        if (batch_root && count > limits.max_elements)
            throw DomainError(sqlstate::program_limit_exceeded,
                              std::string(limits.too_many_elements) + ", this one " + std::to_string(count));
        tally(batch_root ? 0 : count);
        const unsigned char* jentries = p + 4;
        const unsigned char* data = jentries + 4 * entries;
        const std::size_t data_size = size - 4 - 4 * entries;

        // Walk the entries once, keeping the running end offset (see getJsonbOffset()).
        std::size_t end = 0;
        auto entry = [&](std::size_t i, std::uint32_t& type, std::size_t& start, std::size_t& length) {
            const std::uint32_t je = read_u32(jentries + 4 * i);
            start = end;
            if (je & JENTRY_HAS_OFF) end = je & JENTRY_OFFLENMASK;
            else end = start + (je & JENTRY_OFFLENMASK);
            if (end < start || end > data_size) malformed("entry offset");
            type = je & JENTRY_TYPEMASK;
            length = end - start;
        };

        if (is_array) {
            out.kind = JsonKind::array;
            out.count = count;
            out.elements = arena.allocate_array<JsonValue>(count);
            for (std::uint32_t i = 0; i < count; ++i) {
                std::uint32_t type;
                std::size_t start, length;
                entry(i, type, start, length);
                if (batch_root) {
                    new (&out.elements[i]) JsonValue(element(type, data, start, length, depth));
                    continue;
                }
                new (&out.elements[i]) JsonValue(scalar_or_container(type, data, start, length, depth));
            }
            if (header & JB_FSCALAR) {
                if (count != 1) malformed("scalar root");
                return out.elements[0];
            }
            return out;
        }

        out.kind = JsonKind::object;
        out.count = count;
        out.members = arena.allocate_array<JsonMember>(count);
        for (std::uint32_t i = 0; i < count; ++i) {
            std::uint32_t type;
            std::size_t start, length;
            entry(i, type, start, length);
            if (type != JENTRY_ISSTRING) malformed("object key");
            new (&out.members[i])
                JsonMember{std::string_view(reinterpret_cast<const char*>(data + start), length), JsonValue{}};
        }
        for (std::uint32_t i = 0; i < count; ++i) {
            std::uint32_t type;
            std::size_t start, length;
            entry(count + i, type, start, length);
            out.members[i].value = scalar_or_container(type, data, start, length, depth);
        }
        return out;
    }

    // One element of a batch's root array, within its own budget of values.
    JsonValue element(std::uint32_t type, const unsigned char* data, std::size_t start, std::size_t length,
                      std::uint32_t depth) {
        tally(1);
        in_element = true;
        element_values = 1;
        JsonValue v;
        try {
            v = scalar_or_container(type, data, start, length, depth);
        } catch (const ElementTooLarge&) {
            v = JsonValue{};
            v.kind = JsonKind::too_large;
            // Its values read so far stay in the arena, so they keep counting against the
            // document's bound: a batch of elements each just over theirs stays bounded.
        }
        in_element = false;
        return v;
    }

    JsonValue scalar_or_container(std::uint32_t type, const unsigned char* data, std::size_t start, std::size_t length,
                                  std::uint32_t depth) {
        JsonValue v;
        switch (type) {
            case JENTRY_ISSTRING:
                v.kind = JsonKind::string;
                v.string = std::string_view(reinterpret_cast<const char*>(data + start), length);
                return v;
            case JENTRY_ISNUMERIC: {
                const std::size_t aligned = int_align(start);
                if (aligned > start + length) malformed("numeric padding");
                v.kind = JsonKind::number;
                v.number = decode_numeric(data + aligned, start + length - aligned, arena);
                return v;
            }
            case JENTRY_ISBOOL_FALSE:
            case JENTRY_ISBOOL_TRUE:
                v.kind = JsonKind::boolean;
                v.boolean = type == JENTRY_ISBOOL_TRUE;
                return v;
            case JENTRY_ISNULL:
                v.kind = JsonKind::null;
                return v;
            case JENTRY_ISCONTAINER: {
                const std::size_t aligned = int_align(start);
                if (aligned > start + length) malformed("container padding");
                return container(data + aligned, start + length - aligned, depth + 1);
            }
            default:
                malformed("entry type");
        }
    }
};

// Builds the jsonb bytes in a std::string, positions counted from the start of the varlena
// (alignment padding in jsonb is relative to it; see padBufferToInt() in jsonb_util.c).
struct Encoder {
    Arena& arena;
    std::string out;

    void pad() {
        while (out.size() % 4) out.push_back('\0');
    }
    void put_u32_at(std::size_t at, std::uint32_t v) { std::memcpy(&out[at], &v, 4); }

    // Appends a scalar or container; returns its JEntry (type | length including padding).
    std::uint32_t value(const JsonValue& v, std::uint32_t level) {
        const std::size_t begin = out.size();
        switch (v.kind) {
            case JsonKind::null:
                return JENTRY_ISNULL;
            case JsonKind::boolean:
                return v.boolean ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE;
            case JsonKind::string:
                out.append(v.string.data(), v.string.size());
                return JENTRY_ISSTRING | static_cast<std::uint32_t>(v.string.size());
            case JsonKind::number: {
                pad();
                const std::string_view numeric =
                    v.number->pg_numeric != nullptr
                        ? std::string_view(reinterpret_cast<const char*>(v.number->pg_numeric),
                                           v.number->pg_numeric_size)
                        : encode_numeric(*v.number, arena);
                out.append(numeric.data(), numeric.size());
                return JENTRY_ISNUMERIC | static_cast<std::uint32_t>(out.size() - begin);
            }
            case JsonKind::array:
            case JsonKind::object:
                pad();
                container(v, level + 1, false);
                return JENTRY_ISCONTAINER | static_cast<std::uint32_t>(out.size() - begin);
            case JsonKind::too_deep:
            case JsonKind::too_large:
                throw DomainError(sqlstate::internal_error, "telemetry: a value that was not read reached storage");
        }
        throw DomainError(sqlstate::internal_error, "telemetry: unknown JSON kind");
    }

    // convertJsonbArray() / convertJsonbObject(), same layout and offset strides.
    void container(const JsonValue& v, std::uint32_t level, bool scalar_root) {
        const std::size_t header_at = out.size();
        const bool is_object = v.kind == JsonKind::object;
        const std::uint32_t count = scalar_root ? 1 : v.count;
        const std::size_t entries = is_object ? 2 * static_cast<std::size_t>(count) : count;
        std::uint32_t header = count | (is_object ? JB_FOBJECT : JB_FARRAY);
        if (scalar_root) header |= JB_FSCALAR;
        out.append(4 + 4 * entries, '\0');
        put_u32_at(header_at, header);
        const std::size_t jentries_at = header_at + 4;
        std::uint32_t total = 0;
        auto record = [&](std::size_t i, std::uint32_t meta) {
            total += meta & JENTRY_OFFLENMASK;
            if (total > JENTRY_OFFLENMASK)
                throw DomainError(sqlstate::program_limit_exceeded, "telemetry: jsonb value too large");
            if (i % JB_OFFSET_STRIDE == 0) meta = (meta & JENTRY_TYPEMASK) | total | JENTRY_HAS_OFF;
            put_u32_at(jentries_at + 4 * i, meta);
        };
        if (scalar_root) {
            record(0, value(v, level));
            return;
        }
        if (!is_object) {
            for (std::uint32_t i = 0; i < count; ++i) record(i, value(v.elements[i], level));
            return;
        }
        // Keys sorted by length, then bytes (lengthCompareJsonbStringValue), all keys first.
        std::vector<const JsonMember*> sorted(count);
        for (std::uint32_t i = 0; i < count; ++i) sorted[i] = &v.members[i];
        std::sort(sorted.begin(), sorted.end(), [](const JsonMember* a, const JsonMember* b) {
            if (a->key.size() != b->key.size()) return a->key.size() < b->key.size();
            return std::memcmp(a->key.data(), b->key.data(), a->key.size()) < 0;
        });
        for (std::uint32_t i = 1; i < count; ++i)
            if (sorted[i]->key == sorted[i - 1]->key)
                throw DomainError(sqlstate::internal_error, "telemetry: duplicate key reached the jsonb encoder");
        for (std::uint32_t i = 0; i < count; ++i) {
            out.append(sorted[i]->key.data(), sorted[i]->key.size());
            record(i, JENTRY_ISSTRING | static_cast<std::uint32_t>(sorted[i]->key.size()));
        }
        for (std::uint32_t i = 0; i < count; ++i) record(count + i, value(sorted[i]->value, level));
    }
};

}  // namespace

JsonValue decode_jsonb(const unsigned char* container, std::size_t size, const DecodeLimits& limits, Arena& arena) {
    Decoder decoder{arena, limits};
    decoder.tally(1);  // the root
    return decoder.container(container, size, 1);
}

std::string_view encode_jsonb(const JsonValue& v, Arena& arena) {
    Encoder encoder{arena, {}};
    encoder.out.reserve(256);
    encoder.out.append(4, '\0');  // the varlena header, filled in last
    const bool scalar = v.kind != JsonKind::array && v.kind != JsonKind::object;
    encoder.container(v, 0, scalar);
    const std::size_t total = encoder.out.size();
    if (total > 0x3FFFFFFF) throw DomainError(sqlstate::program_limit_exceeded, "telemetry: jsonb value too large");
    const std::uint32_t varlena_header = static_cast<std::uint32_t>(total) << 2;  // SET_VARSIZE_4B, little-endian
    std::memcpy(&encoder.out[0], &varlena_header, 4);
    char* bytes = static_cast<char*>(arena.allocate(total, 8));
    std::memcpy(bytes, encoder.out.data(), total);
    return {bytes, total};
}

std::string_view encode_numeric(const JsonNumber& n, Arena& arena) {
    // As set_var_from_str() and make_result() build it: base-10000 digits with the decimal point
    // between groups, no leading or trailing zero groups, zero as no digits with weight 0.
    std::vector<std::uint16_t> groups;
    int weight = 0;
    if (!n.is_zero()) {
        // weight = floor((point - 1) / 4): the group holding the first digit.
        const long long p = n.point;
        const long long w = (p - 1 >= 0) ? (p - 1) / DEC_DIGITS : -((-(p - 1) + DEC_DIGITS - 1) / DEC_DIGITS);
        const long long lead_zeros = (w + 1) * DEC_DIGITS - p;
        std::string padded(static_cast<std::size_t>(lead_zeros), '0');
        padded.append(n.digits);
        while (padded.size() % DEC_DIGITS) padded.push_back('0');
        for (std::size_t i = 0; i < padded.size(); i += DEC_DIGITS)
            groups.push_back(static_cast<std::uint16_t>((padded[i] - '0') * 1000 + (padded[i + 1] - '0') * 100 +
                                                        (padded[i + 2] - '0') * 10 + (padded[i + 3] - '0')));
        while (!groups.empty() && groups.back() == 0) groups.pop_back();
        weight = static_cast<int>(w);
    }
    if (weight > 32767 || weight < -32768 || n.dscale > NUMERIC_DSCALE_MASK || n.dscale < 0)
        throw DomainError(sqlstate::program_limit_exceeded, "telemetry: number outside numeric's range");
    const bool is_short = n.dscale <= NUMERIC_SHORT_DSCALE_MAX && weight <= NUMERIC_SHORT_WEIGHT_MAX &&
                          weight >= NUMERIC_SHORT_WEIGHT_MIN;
    const std::size_t header_bytes = 4 + 2 + (is_short ? 0 : 2);
    const std::size_t total = header_bytes + 2 * groups.size();
    auto* bytes = static_cast<unsigned char*>(arena.allocate(total, 4));
    const std::uint32_t varlena_header = static_cast<std::uint32_t>(total) << 2;
    std::memcpy(bytes, &varlena_header, 4);
    if (is_short) {
        const std::uint16_t h = static_cast<std::uint16_t>(
            NUMERIC_SHORT | (n.negative ? NUMERIC_SHORT_SIGN_MASK : 0) | (n.dscale << NUMERIC_SHORT_DSCALE_SHIFT) |
            (weight < 0 ? NUMERIC_SHORT_WEIGHT_SIGN_MASK : 0) | (weight & NUMERIC_SHORT_WEIGHT_MASK));
        std::memcpy(bytes + 4, &h, 2);
    } else {
        const std::uint16_t sign_dscale =
            static_cast<std::uint16_t>((n.negative ? NUMERIC_NEG : 0) | (n.dscale & NUMERIC_DSCALE_MASK));
        const std::int16_t w16 = static_cast<std::int16_t>(weight);
        std::memcpy(bytes + 4, &sign_dscale, 2);
        std::memcpy(bytes + 6, &w16, 2);
    }
    for (std::size_t i = 0; i < groups.size(); ++i) std::memcpy(bytes + header_bytes + 2 * i, &groups[i], 2);
    return {reinterpret_cast<const char*>(bytes), total};
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
