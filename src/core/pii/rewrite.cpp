#include "core/pii/rewrite.hpp"

#include <algorithm>

#include "core/base/sha256.hpp"

namespace telemetry {

bool is_pii_hash(std::string_view s) noexcept {
    if (s.size() != 25 || s.substr(0, 3) != "h1:") return false;
    for (char c : s.substr(3))
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    return true;
}

std::string pii_hash(const PiiHashKey& key, const JsonValue& value) {
    const Sha256Digest tenant_key = hmac_sha256(key.master, key.tenant_id);
    HmacSha256 mac(std::string_view(reinterpret_cast<const char*>(tenant_key.data()), tenant_key.size()));
    // Strings hash their bytes; other values their canonical JSON text, prefixed so that the
    // string "1" and the number 1 differ.
    if (value.kind == JsonKind::string) {
        mac.update("s:", 2);
        mac.update(value.string.data(), value.string.size());
    } else {
        std::string text;
        append_canonical(value, text);
        mac.update("j:", 2);
        mac.update(text.data(), text.size());
    }
    const Sha256Digest digest = mac.finish();
    return "h1:" + base64url(digest.data(), 16).substr(0, 22);
}

namespace {

struct Rewriter {
    const std::vector<std::string>& omit;
    const PiiHashKey& key;
    Arena& arena;
    std::vector<std::string_view> rewritten_before;  // sorted, for binary search: a row may list thousands
    bool record_paths;
    bool trust_tagged;
    bool pii_applied = false;
    bool omitted_any = false;
    std::vector<std::string> pii_paths;

    bool omitted(const std::string& path) const { return std::find(omit.begin(), omit.end(), path) != omit.end(); }

    // Returns the rewritten value; `changed` tells whether anything differs.
    JsonValue value(const SchemaNode* s, const JsonValue& v, const PathStep& at, bool& changed) {
        if (s != nullptr && (s->pii == PiiAction::hash || s->pii == PiiAction::redact)) {
            // The pointer is made only when asked for or needed: most events need neither.
            std::string pointer = record_paths || !rewritten_before.empty() ? at.pointer() : std::string();
            const bool done_before =
                (trust_tagged || !rewritten_before.empty()) && v.kind == JsonKind::string &&
                (s->pii == PiiAction::hash ? is_pii_hash(v.string) : v.string == pii_redacted) &&
                (trust_tagged ||
                 std::binary_search(rewritten_before.begin(), rewritten_before.end(), std::string_view(pointer)));
            if (record_paths) pii_paths.push_back(std::move(pointer));
            if (done_before) return v;  // rewritten here before this event was quarantined: never twice
            JsonValue out;
            out.kind = JsonKind::string;
            out.string = s->pii == PiiAction::hash ? arena.copy(pii_hash(key, v)) : pii_redacted;
            changed = true;
            pii_applied = true;
            return out;
        }
        if (v.kind == JsonKind::object) return object(s, v, at, changed);
        if (v.kind == JsonKind::array && s != nullptr && s->items) {
            JsonValue out = v;
            out.elements = arena.allocate_array<JsonValue>(v.count);
            bool any = false;
            for (std::uint32_t i = 0; i < v.count; ++i)
                new (&out.elements[i]) JsonValue(value(s->items.get(), v.elements[i], at.index(i), any));
            if (!any) return v;
            changed = true;
            return out;
        }
        return v;
    }

    JsonValue object(const SchemaNode* s, const JsonValue& v, const PathStep& at, bool& changed) {
        JsonValue out = v;
        out.members = arena.allocate_array<JsonMember>(v.count);
        std::uint32_t kept = 0;
        bool any = false;
        for (std::uint32_t i = 0; i < v.count; ++i) {
            const JsonMember& m = v.members[i];
            const PathStep here = at.key(m.key);
            const SchemaNode* child = s != nullptr ? s->property(m.key) : nullptr;
            const bool undeclared_omitted =
                s != nullptr && child == nullptr && s->additional == AdditionalProperties::omit;
            const bool pii_drop = child != nullptr && child->pii == PiiAction::drop;
            if (undeclared_omitted || pii_drop || (!omit.empty() && omitted(here.str()))) {
                any = true;
                if (pii_drop) pii_applied = true;
                else omitted_any = true;
                continue;
            }
            new (&out.members[kept]) JsonMember{m.key, value(child, m.value, here, any)};
            ++kept;
        }
        if (!any) return v;
        out.count = kept;
        changed = true;
        return out;
    }
};

}  // namespace

Rewritten rewrite_properties(const CompiledSchema& schema, const JsonValue& properties,
                             const std::vector<std::string>& omit, const PiiHashKey& key, Arena& arena,
                             const PathList& rewritten_before, bool record_paths, bool trust_tagged) {
    if (!schema.needs_rewrite() && omit.empty()) return {&properties, false, false, {}};
    Rewriter rewriter{omit,
                      key,
                      arena,
                      {rewritten_before.items, rewritten_before.items + rewritten_before.count},
                      record_paths,
                      trust_tagged,
                      false,
                      false,
                      {}};
    std::sort(rewriter.rewritten_before.begin(), rewriter.rewritten_before.end());
    bool changed = false;
    JsonValue rewritten = rewriter.value(&schema.root(), properties, PathStep(), changed);
    if (!changed) return {&properties, false, false, std::move(rewriter.pii_paths)};
    auto* out = arena.allocate_array<JsonValue>(1);
    new (out) JsonValue(rewritten);
    return {out, rewriter.pii_applied, rewriter.omitted_any, std::move(rewriter.pii_paths)};
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
