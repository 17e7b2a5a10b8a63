#include "rules/output_template.hpp"

#include <array>
#include <charconv>
#include <cmath>

#include "rules/did_you_mean.hpp"

namespace sybilwatch::rules {

namespace {

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

bool OutputTemplate::compile(std::string_view text, Measures allowed, MeasureTable& table,
                             size_t& err_offset, std::string& err) {
    pieces_.clear();
    fields_ = 0;
    literal_.clear();
    text_ = std::string(text);
    auto literal = [&](std::string_view s) {
        if (s.empty()) return;
        if (!pieces_.empty() && pieces_.back().kind == Piece::Kind::Text &&
            pieces_.back().end == literal_.size()) {
            literal_ += s;
            pieces_.back().end = static_cast<uint32_t>(literal_.size());
            return;
        }
        Piece p;
        p.begin = static_cast<uint32_t>(literal_.size());
        literal_ += s;
        p.end = static_cast<uint32_t>(literal_.size());
        pieces_.push_back(p);
    };
    auto fail = [&](size_t off, std::string m) {
        err_offset = off;
        err = std::move(m);
        pieces_.clear();
        fields_ = 0;
        return false;
    };
    size_t i = 0;
    while (i < text.size()) {
        const size_t pct = text.find('%', i);
        if (pct == std::string_view::npos) {
            literal(text.substr(i));
            break;
        }
        literal(text.substr(i, pct - i));
        if (pct + 1 < text.size() && text[pct + 1] == '%') {
            literal("%");
            i = pct + 2;
            continue;
        }
        size_t b = pct + 1, e;
        if (b < text.size() && text[b] == '{') {
            ++b;
            e = text.find('}', b);
            if (e == std::string_view::npos) return fail(pct, "'%{' without a closing '}'");
            i = e + 1;
        } else {
            e = b;
            while (e < text.size() && name_char(text[e]))
                ++e;
            i = e;
        }
        const std::string_view name = text.substr(b, e - b);
        if (name.empty())
            return fail(pct, "'%' must be followed by a field or measure name (write %% for %)");
        Piece p;
        if (const FieldInfo* f = find_field(name)) {
            p.kind = Piece::Kind::Field;
            p.field = f->id;
            pieces_.push_back(p);
            ++fields_;
            continue;
        }
        MeasureRef m;
        bool is_measure = true;
        std::string bad_field;
        if (name == "count") {
            m.kind = MeasureRef::Kind::Count;
        } else if (name == "rate") {
            m.kind = MeasureRef::Kind::Rate;
        } else if (name == "account_count") {
            m = {MeasureRef::Kind::Distinct, FieldId::Account};
        } else if (name.starts_with("distinct_") || name.starts_with("sum_")) {
            const bool sum = name.starts_with("sum_");
            const std::string_view fname = name.substr(sum ? 4 : 9);
            const FieldInfo* f = find_field(fname);
            if (!f)
                return fail(b,
                            "unknown field '" + std::string(fname) + "' in %" + std::string(name));
            if (sum && f->type != FieldType::Int && f->type != FieldType::Float)
                return fail(b, "%" + std::string(name) + ": sum needs a numeric field, but " +
                                   std::string(f->name) + " is a " + to_string(f->type));
            m = {sum ? MeasureRef::Kind::Sum : MeasureRef::Kind::Distinct, f->id};
        } else {
            is_measure = false;
        }
        if (!is_measure) {
            std::vector<std::string_view> names;
            for (const FieldInfo& f : fields())
                names.push_back(f.name);
            for (std::string_view s : {"count", "rate", "account_count"})
                names.push_back(s);
            return fail(b, "unknown field or measure '%" + std::string(name) + "'" +
                               did_you_mean(name, names));
        }
        const bool count_like =
            m.kind == MeasureRef::Kind::Count ||
            (m.kind == MeasureRef::Kind::Distinct && m.field == FieldId::Account);
        if (allowed == Measures::None || (allowed == Measures::CountOnly && !count_like))
            return fail(b, "%" + std::string(name) +
                               (allowed == Measures::None
                                    ? " is a measure: match rules have none (only aggregate, "
                                      "link and synchrony rules count)"
                                    : " is not available here: link and synchrony rules offer "
                                      "%count and %account_count"));
        p.kind = Piece::Kind::Measure;
        p.begin = table.intern(m);
        pieces_.push_back(p);
    }
    return true;
}

void OutputTemplate::field_texts(const EvalContext& ctx, std::vector<std::string>& out) const {
    out.clear();
    std::array<char, kKeyTextMax> buf;
    for (const Piece& p : pieces_) {
        if (p.kind != Piece::Kind::Field) continue;
        const auto t = key_text(ctx, KeyItem{p.field, 0}, buf);
        out.emplace_back(t ? *t : std::string_view("<NA>"));
    }
}

void OutputTemplate::render_with(std::span<const std::string> fields,
                                 std::span<const double> measures, std::string& out) const {
    render_impl(nullptr, fields, measures, out);
}

void OutputTemplate::render(const EvalContext* ctx, std::span<const double> measures,
                            std::string& out) const {
    render_impl(ctx, {}, measures, out);
}

void OutputTemplate::render_impl(const EvalContext* ctx, std::span<const std::string> fields,
                                 std::span<const double> measures, std::string& out) const {
    std::array<char, kKeyTextMax> buf;
    size_t field = 0;
    for (const Piece& p : pieces_) {
        switch (p.kind) {
            case Piece::Kind::Text:
                out.append(literal_, p.begin, p.end - p.begin);
                break;
            case Piece::Kind::Field: {
                const auto t = ctx ? key_text(*ctx, KeyItem{p.field, 0}, buf)
                               : field < fields.size()
                                   ? std::optional<std::string_view>(fields[field])
                                   : std::nullopt;
                ++field;
                out += t ? *t : std::string_view("<NA>");
                break;
            }
            case Piece::Kind::Measure: {
                if (p.begin >= measures.size() || !std::isfinite(measures[p.begin])) {
                    out += "<NA>";
                    break;
                }
                const double v = measures[p.begin];
                std::to_chars_result r;
                if (std::floor(v) == v && std::fabs(v) < 9.0e15)
                    r = std::to_chars(buf.data(), buf.data() + buf.size(), static_cast<int64_t>(v));
                else if (std::fabs(v) < 1.0e15)  // rates, ratios: three decimals will do
                    r = std::to_chars(buf.data(), buf.data() + buf.size(), v,
                                      std::chars_format::fixed, 3);
                else
                    r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
                out.append(buf.data(), static_cast<size_t>(r.ptr - buf.data()));
                break;
            }
        }
    }
}

}  // namespace sybilwatch::rules
