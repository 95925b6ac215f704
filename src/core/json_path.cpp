#include "core/json_path.hpp"

namespace telemetry {

namespace {
bool is_identifier(std::string_view key) {
    if (key.empty() || key.size() > 64) return false;
    for (std::size_t i = 0; i < key.size(); ++i) {
        const char c = key[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
        const bool digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && i > 0)) return false;
    }
    return true;
}
}  // namespace

JsonPath JsonPath::key(std::string_view key) const {
    JsonPath out(text_);
    if (is_identifier(key)) {
        out.text_ += '.';
        out.text_.append(key);
        return out;
    }
    // Quoted form. Keys are names chosen by developers, not values, but a hostile key could
    // still be long or hold control characters: cut it and escape what is not printable.
    out.text_ += "[\"";
    std::size_t shown = 0;
    for (char c : key) {
        if (shown++ == 64) {
            out.text_ += "...";
            break;
        }
        const unsigned char u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.text_ += '\\';
            out.text_ += c;
        } else if (u < 0x20 || u == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            out.text_ += "\\u00";
            out.text_ += hex[u >> 4];
            out.text_ += hex[u & 15];
        } else {
            out.text_ += c;
        }
    }
    out.text_ += "\"]";
    return out;
}

JsonPath JsonPath::index(std::size_t i) const {
    JsonPath out(text_);
    out.text_ += '[';
    out.text_ += std::to_string(i);
    out.text_ += ']';
    return out;
}

JsonPath PathStep::path() const {
    switch (kind_) {
        case Kind::key: return parent_->path().key(key_);
        case Kind::index: return parent_->path().index(index_);
        case Kind::root: break;
    }
    return JsonPath();
}

}  // namespace telemetry

#include "core/no_postgres.hpp"
