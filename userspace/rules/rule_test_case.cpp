#include "rules/rule_test_case.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <variant>

#include "rules/engine.hpp"

namespace sybilwatch::rules {

namespace {

using json = nlohmann::json;

// Bounds that keep a typo ("0..10000000") from eating the machine.
constexpr size_t kMaxObservationsPerCase = 2'000'000;
constexpr int64_t kDefaultStart = 1'700'000'000;  // t0: 2023-11-14T22:13:20Z
constexpr int64_t kNsPerSec = 1'000'000'000;

// ---- Template values and expressions -------------------------------------------------------

using Value = std::variant<int64_t, std::string>;
using Vars = std::vector<std::pair<std::string, Value>>;

std::string text_of(const Value& v) {
    if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
    return std::get<std::string>(v);
}

// Integer arithmetic over the variables: + - * / % and parentheses. A string variable may be
// used alone ({stack}) but not in arithmetic.
class Expr {
  public:
    Expr(std::string_view s, const Vars& vars) : s_(s), vars_(vars) {}

    std::optional<Value> eval(std::string& error) {
        auto v = sum();
        skip();
        if (error_.empty() && pos_ != s_.size())
            error_ = "unexpected '" + std::string(s_.substr(pos_)) + "'";
        if (!error_.empty()) {
            error = "in {" + std::string(s_) + "}: " + error_;
            return std::nullopt;
        }
        return v;
    }

  private:
    void skip() {
        while (pos_ < s_.size() && s_[pos_] == ' ')
            ++pos_;
    }
    bool eat(char c) {
        skip();
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    std::optional<int64_t> integer(const Value& v) {
        if (const auto* i = std::get_if<int64_t>(&v)) return *i;
        if (error_.empty()) error_ = "arithmetic on the text '" + std::get<std::string>(v) + "'";
        return std::nullopt;
    }
    Value arith(char op, const Value& a, const Value& b) {
        const auto x = integer(a), y = integer(b);
        if (!x || !y) return int64_t{0};
        int64_t r = 0;
        bool overflow = false;
        switch (op) {
            case '+':
                overflow = __builtin_add_overflow(*x, *y, &r);
                break;
            case '-':
                overflow = __builtin_sub_overflow(*x, *y, &r);
                break;
            case '*':
                overflow = __builtin_mul_overflow(*x, *y, &r);
                break;
            default:
                if (*y == 0 || (*x == INT64_MIN && *y == -1)) {
                    if (error_.empty()) error_ = "division by zero";
                    return int64_t{0};
                }
                r = op == '/' ? *x / *y : *x % *y;
        }
        if (overflow && error_.empty()) error_ = "integer overflow";
        return r;
    }
    Value sum() {
        Value v = product();
        while (error_.empty()) {
            if (eat('+'))
                v = arith('+', v, product());
            else if (eat('-'))
                v = arith('-', v, product());
            else
                break;
        }
        return v;
    }
    Value product() {
        Value v = unary();
        while (error_.empty()) {
            if (eat('*'))
                v = arith('*', v, unary());
            else if (eat('/'))
                v = arith('/', v, unary());
            else if (eat('%'))
                v = arith('%', v, unary());
            else
                break;
        }
        return v;
    }
    Value unary() {
        if (++depth_ > 64) {
            if (error_.empty()) error_ = "nested too deep";
            return int64_t{0};
        }
        Value v = eat('-') ? arith('-', int64_t{0}, unary()) : atom();
        --depth_;
        return v;
    }
    Value atom() {
        skip();
        if (eat('(')) {
            Value v = sum();
            if (!eat(')') && error_.empty()) error_ = "missing ')'";
            return v;
        }
        const size_t start = pos_;
        if (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
            int64_t n = 0;
            const auto r = std::from_chars(s_.data() + pos_, s_.data() + s_.size(), n);
            if (r.ec != std::errc()) {
                if (error_.empty()) error_ = "number out of range";
                return int64_t{0};
            }
            pos_ = static_cast<size_t>(r.ptr - s_.data());
            return n;
        }
        while (pos_ < s_.size() &&
               (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
            ++pos_;
        const std::string_view name = s_.substr(start, pos_ - start);
        if (name.empty()) {
            if (error_.empty()) error_ = "expected a number or a variable";
            return int64_t{0};
        }
        for (const auto& [k, v] : vars_)
            if (k == name) return v;
        if (error_.empty()) error_ = "unknown variable '" + std::string(name) + "'";
        return int64_t{0};
    }

    std::string_view s_;
    const Vars& vars_;
    size_t pos_ = 0;
    int depth_ = 0;
    std::string error_;
};

// "farm-{i}.{n*2}" -> "farm-3.8"; "{{" and "}}" are literal braces.
std::optional<std::string> expand(std::string_view s, const Vars& vars, std::string& error) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if ((c == '{' || c == '}') && i + 1 < s.size() && s[i + 1] == c) {
            out += c;
            ++i;
        } else if (c == '{') {
            const size_t end = s.find('}', i);
            if (end == std::string_view::npos) {
                error = "'{' without '}' in '" + std::string(s) + "'";
                return std::nullopt;
            }
            const auto v = Expr(s.substr(i + 1, end - i - 1), vars).eval(error);
            if (!v) return std::nullopt;
            out += text_of(*v);
            i = end;
        } else {
            out += c;
        }
    }
    return out;
}

// ---- YAML helpers ---------------------------------------------------------------------------

struct Ctx {
    std::string file, base_dir;
    std::vector<std::string>* errors;
    void error(const YAML::Node& n, const std::string& msg) const {
        const int line = n.IsDefined() ? n.Mark().line + 1 : 0;
        errors->push_back(file + ":" + std::to_string(line) + ": " + msg);
    }
    std::string path(const std::string& p) const {
        if (p.empty() || p[0] == '/') return p;
        return (std::filesystem::path(base_dir) / p).lexically_normal().string();
    }
};

bool plain(const YAML::Node& n) {
    return n.Tag() == "?";
}

// A plain scalar that reads as a number becomes a JSON number; everything else a string.
json scalar_json(const std::string& text, bool is_plain) {
    if (is_plain && !text.empty()) {
        int64_t i = 0;
        const char* end = text.data() + text.size();
        auto r = std::from_chars(text.data(), end, i);
        if (r.ec == std::errc() && r.ptr == end) return i;
        double d = 0;
        auto rd = std::from_chars(text.data(), end, d);
        if (rd.ec == std::errc() && rd.ptr == end && std::isfinite(d)) return d;
        if (text == "null" || text == "~") return nullptr;
    }
    return text;
}

// The YAML value with its templates expanded, as JSON.
std::optional<json> to_json(const YAML::Node& n, const Vars& vars, const Ctx& ctx) {
    switch (n.Type()) {
        case YAML::NodeType::Map: {
            json o = json::object();
            for (const auto& kv : n) {
                auto v = to_json(kv.second, vars, ctx);
                if (!v) return std::nullopt;
                o[kv.first.Scalar()] = std::move(*v);
            }
            return o;
        }
        case YAML::NodeType::Sequence: {
            json a = json::array();
            for (const auto& e : n) {
                auto v = to_json(e, vars, ctx);
                if (!v) return std::nullopt;
                a.push_back(std::move(*v));
            }
            return a;
        }
        case YAML::NodeType::Scalar: {
            std::string error;
            const std::string& raw = n.Scalar();
            const auto s = expand(raw, vars, error);
            if (!s) {
                ctx.error(n, error);
                return std::nullopt;
            }
            // "{expr}" alone is the expression's value: a number when it is one, quoted or
            // not (flow maps need the quotes). Otherwise plain scalars that read as numbers are
            // numbers, and everything else is text.
            const bool whole = raw.size() >= 2 && raw.front() == '{' && raw.back() == '}' &&
                               raw.find('}') == raw.size() - 1 && raw[1] != '{';
            return scalar_json(*s, plain(n) || whole);
        }
        default:
            return json(nullptr);
    }
}

// `over` wins; objects merge key by key (so a case may change one cadence counter).
void merge_into(json& base, const json& over) {
    if (!base.is_object() || !over.is_object()) {
        base = over;
        return;
    }
    for (const auto& [k, v] : over.items()) {
        if (base.contains(k) && base[k].is_object() && v.is_object())
            merge_into(base[k], v);
        else
            base[k] = v;
    }
}

// "6h", "90s", "15m", "2d", "500ms" -> nanoseconds.
std::optional<int64_t> duration_ns(std::string_view s) {
    int64_t n = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), n);
    if (r.ec != std::errc() || n < 0) return std::nullopt;
    const std::string_view unit(r.ptr, static_cast<size_t>(s.data() + s.size() - r.ptr));
    int64_t mult = 0;
    if (unit == "ms")
        mult = 1'000'000;
    else if (unit == "s")
        mult = kNsPerSec;
    else if (unit == "m")
        mult = 60 * kNsPerSec;
    else if (unit == "h")
        mult = 3600 * kNsPerSec;
    else if (unit == "d")
        mult = 86400 * kNsPerSec;
    else
        return std::nullopt;
    int64_t out = 0;
    if (__builtin_mul_overflow(n, mult, &out)) return std::nullopt;
    return out;
}

bool check_keys(const YAML::Node& map, std::initializer_list<std::string_view> known,
                const std::string& what, const Ctx& ctx) {
    bool ok = true;
    for (const auto& kv : map) {
        const std::string k = kv.first.Scalar();
        if (std::find(known.begin(), known.end(), k) == known.end()) {
            ctx.error(kv.first, "unknown key '" + k + "' in " + what);
            ok = false;
        }
    }
    return ok;
}

std::optional<std::vector<Value>> var_values(const YAML::Node& n, const Ctx& ctx) {
    std::vector<Value> out;
    if (n.IsSequence()) {
        for (const auto& e : n) {
            if (!e.IsScalar()) {
                ctx.error(e, "a variable's values must be scalars");
                return std::nullopt;
            }
            const json j = scalar_json(e.Scalar(), plain(e));
            if (j.is_number_integer())
                out.emplace_back(j.get<int64_t>());
            else
                out.emplace_back(e.Scalar());
        }
        return out;
    }
    if (!n.IsScalar()) {
        ctx.error(n, "a variable is a range A..B or a list of values");
        return std::nullopt;
    }
    const std::string s = n.Scalar();
    const size_t dots = s.find("..");
    if (dots == std::string::npos) {
        const json j = scalar_json(s, plain(n));
        if (j.is_number_integer())
            out.emplace_back(j.get<int64_t>());
        else
            out.emplace_back(s);
        return out;
    }
    int64_t a = 0, b = 0;
    const auto ra = std::from_chars(s.data(), s.data() + dots, a);
    const auto rb = std::from_chars(s.data() + dots + 2, s.data() + s.size(), b);
    if (ra.ec != std::errc() || ra.ptr != s.data() + dots || rb.ec != std::errc() ||
        rb.ptr != s.data() + s.size() || b < a ||
        b - a >= static_cast<int64_t>(kMaxObservationsPerCase)) {
        ctx.error(n, "bad range '" + s + "' (A..B, integers, A <= B, at most " +
                         std::to_string(kMaxObservationsPerCase) + " values)");
        return std::nullopt;
    }
    for (int64_t i = a; i <= b; ++i)
        out.emplace_back(i);
    return out;
}

struct CaseBuilder {
    const Ctx& ctx;
    TestCase& tc;
    json defaults;
    int64_t t0 = kDefaultStart;
    bool ok = true;

    void add(const json& fields, const YAML::Node& where) {
        json j = defaults;
        merge_into(j, fields);
        ObservationLine line;
        const std::string e = observation_from_json(j, line);
        if (!e.empty()) {
            ctx.error(where, "observation: " + e);
            ok = false;
            return;
        }
        tc.observations.push_back(std::move(line));
    }

    void item(const YAML::Node& n) {
        if (n.IsScalar()) {  // a JSON line as `sybilwatch tail` prints it
            json j;
            try {
                j = json::parse(n.Scalar());
            } catch (const json::exception& ex) {
                ctx.error(n, std::string("observation: not valid JSON: ") + ex.what());
                ok = false;
                return;
            }
            add(j, n);
            return;
        }
        if (!n.IsMap()) {
            ctx.error(n, "an observation is a map of fields, a JSON line, or a 'for' generator");
            ok = false;
            return;
        }
        if (!n["for"]) {
            const Vars vars{{"t0", t0}};
            auto j = to_json(n, vars, ctx);
            if (!j) {
                ok = false;
                return;
            }
            add(*j, n);
            return;
        }
        // for: {VAR: A..B | [values], ...}  observation: {template}  (first var outermost)
        if (!check_keys(n, {"for", "observation"}, "a generator", ctx) || !n["for"].IsMap() ||
            !n["observation"].IsMap()) {
            ctx.error(n, "a generator is 'for: {VAR: A..B, ...}' and 'observation: {...}'");
            ok = false;
            return;
        }
        std::vector<std::pair<std::string, std::vector<Value>>> axes;
        size_t total = 1;
        for (const auto& kv : n["for"]) {
            auto vals = var_values(kv.second, ctx);
            if (!vals) {
                ok = false;
                return;
            }
            total *= std::max<size_t>(vals->size(), 1);
            if (total + tc.observations.size() > kMaxObservationsPerCase) {
                ctx.error(n, "generates more than " + std::to_string(kMaxObservationsPerCase) +
                                 " observations");
                ok = false;
                return;
            }
            axes.emplace_back(kv.first.Scalar(), std::move(*vals));
        }
        Vars vars{{"t0", t0}, {"index", int64_t{0}}};
        for (const auto& [name, vals] : axes)
            vars.emplace_back(name, vals.empty() ? Value{int64_t{0}} : vals[0]);
        std::vector<size_t> at(axes.size(), 0);
        for (size_t k = 0; k < total; ++k) {
            vars[1].second = static_cast<int64_t>(k);
            for (size_t a = 0; a < axes.size(); ++a)
                vars[2 + a].second = axes[a].second[at[a]];
            auto j = to_json(n["observation"], vars, ctx);
            if (!j) {
                ok = false;
                return;
            }
            add(*j, n["observation"]);
            if (!ok) return;
            // Odometer: the last variable turns fastest.
            for (size_t a = axes.size(); a-- > 0;) {
                if (++at[a] < axes[a].second.size()) break;
                at[a] = 0;
            }
        }
    }
};

std::optional<FindingActivity> parse_activity(const std::string& s, bool& any) {
    any = s == "any";
    if (s == "create") return FindingActivity::Create;
    if (s == "update") return FindingActivity::Update;
    if (s == "close") return FindingActivity::Close;
    return std::nullopt;
}

std::vector<std::string> strings(const YAML::Node& n, const std::string& what, const Ctx& ctx,
                                 bool& ok) {
    std::vector<std::string> out;
    if (n.IsScalar()) {
        out.push_back(n.Scalar());
    } else if (n.IsSequence()) {
        for (const auto& e : n) {
            if (!e.IsScalar()) {
                ctx.error(e, what + ": a list of names");
                ok = false;
            } else {
                out.push_back(e.Scalar());
            }
        }
    } else {
        ctx.error(n, what + ": a name or a list of names");
        ok = false;
    }
    return out;
}

std::optional<FindingExpectation> parse_expectation(const YAML::Node& n, const std::string& rule,
                                                    const Ctx& ctx) {
    if (!n.IsMap()) {
        ctx.error(n, "an expectation is a map (rule, activity, count, account_count, ...)");
        return std::nullopt;
    }
    if (!check_keys(n,
                    {"rule", "activity", "count", "account_count", "accounts", "not_accounts",
                     "keys", "output_contains"},
                    "an expectation", ctx))
        return std::nullopt;
    FindingExpectation e;
    e.line = n.Mark().line + 1;
    e.rule = n["rule"] ? n["rule"].Scalar() : rule;
    bool ok = true;
    if (const auto a = n["activity"]) {
        bool any = false;
        e.activity = parse_activity(a.Scalar(), any);
        if (!e.activity && !any) {
            ctx.error(a, "activity is create, update, close or any");
            ok = false;
        }
    }
    auto range = [&](const char* key, CountRange& out) {
        if (const auto r = n[key]) {
            const auto parsed = r.IsScalar() ? parse_count_range(r.Scalar()) : std::nullopt;
            if (!parsed) {
                ctx.error(r, std::string(key) + " is N, A..B, >=N or <=N");
                ok = false;
            } else {
                out = *parsed;
            }
            return true;
        }
        return false;
    };
    range("count", e.count);
    CountRange ac;
    if (range("account_count", ac)) e.account_count = ac;
    if (n["accounts"]) e.accounts = strings(n["accounts"], "accounts", ctx, ok);
    if (n["not_accounts"]) e.not_accounts = strings(n["not_accounts"], "not_accounts", ctx, ok);
    if (const auto k = n["keys"]) {
        if (!k.IsMap()) {
            ctx.error(k, "keys is a map FIELD: VALUE ('*' for any value)");
            ok = false;
        } else {
            for (const auto& kv : k) {
                const std::string v = kv.second.IsScalar() ? kv.second.Scalar() : "";
                e.keys.emplace_back(kv.first.Scalar(), v == "*" ? "" : v);
            }
        }
    }
    if (n["output_contains"]) e.output_contains = n["output_contains"].Scalar();
    if (!ok) return std::nullopt;
    return e;
}

void parse_case(const YAML::Node& n, CaseFile& out, const json& file_defaults, const Ctx& ctx,
                std::set<std::string>& names) {
    if (!n.IsMap()) {
        ctx.error(n, "a case is a map (name, observations, expect, ...)");
        return;
    }
    if (!check_keys(n,
                    {"name", "desc", "start", "defaults", "observations", "observations_file",
                     "capture", "attribution", "advance_to", "expect", "absent"},
                    "a case", ctx))
        return;
    TestCase tc;
    tc.file = out.path;
    tc.line = n.Mark().line + 1;
    tc.rule = out.rule;
    if (!n["name"] || !n["name"].IsScalar() || n["name"].Scalar().empty()) {
        ctx.error(n, "a case needs a name");
        return;
    }
    tc.name = n["name"].Scalar();
    if (!names.insert(tc.name).second) {
        ctx.error(n["name"], "case '" + tc.name + "' is defined twice");
        return;
    }
    if (n["desc"]) tc.desc = n["desc"].Scalar();
    CaseBuilder b{ctx, tc, file_defaults};
    if (const auto s = n["start"]) {
        const json j = s.IsScalar() ? scalar_json(s.Scalar(), plain(s)) : json();
        if (!j.is_number_integer() || j.get<int64_t>() < 0 || j.get<int64_t>() > 9'000'000'000) {
            ctx.error(s, "start is epoch seconds (an integer)");
            return;
        }
        b.t0 = j.get<int64_t>();
    }
    if (const auto d = n["defaults"]) {
        const auto j = d.IsMap() ? to_json(d, Vars{{"t0", b.t0}}, ctx) : std::nullopt;
        if (!j) {
            if (!d.IsMap()) ctx.error(d, "defaults is a map of observation fields");
            return;
        }
        merge_into(b.defaults, *j);
    }
    if (const auto obs = n["observations"]) {
        if (!obs.IsSequence()) {
            ctx.error(obs, "observations is a list");
            return;
        }
        for (const auto& item : obs) {
            b.item(item);
            if (!b.ok) return;
        }
    }
    if (const auto f = n["observations_file"]) {
        const std::string path = ctx.path(f.Scalar());
        std::ifstream in(path);
        if (!in) {
            ctx.error(f, "cannot read " + path);
            return;
        }
        ObservationReader rd(in);
        ObservationLine line;
        while (rd.next(line)) {
            tc.observations.push_back(line);
            if (tc.observations.size() > kMaxObservationsPerCase) {
                ctx.error(f, path + ": too many observations");
                return;
            }
        }
        if (!rd.error().empty()) {
            ctx.error(f, path + ": " + rd.error());
            return;
        }
    }
    if (n["capture"] || n["attribution"]) {
        if (!n["capture"] || !n["attribution"]) {
            ctx.error(n, "capture and attribution go together");
            return;
        }
        tc.capture = ctx.path(n["capture"].Scalar());
        tc.attribution = ctx.path(n["attribution"].Scalar());
    }
    if (const auto a = n["advance_to"]) {
        const std::string s = a.Scalar();
        if (!s.empty() && s[0] == '+') {
            const auto d = duration_ns(std::string_view(s).substr(1));
            if (!d) {
                ctx.error(a, "advance_to is epoch seconds or +DURATION (+90s, +15m, +6h, +2d)");
                return;
            }
            tc.advance_by_ns = *d;
        } else {
            const json j = scalar_json(s, true);
            if (!j.is_number() || j.get<double>() < 0 || j.get<double>() > 9e9) {
                ctx.error(a, "advance_to is epoch seconds or +DURATION (+90s, +15m, +6h, +2d)");
                return;
            }
            tc.advance_to_ns = std::llround(j.get<double>() * 1e6) * 1000;
        }
    }
    if (const auto e = n["expect"]) {
        if (!e.IsSequence()) {
            ctx.error(e, "expect is a list of expectations");
            return;
        }
        for (const auto& item : e) {
            auto x = parse_expectation(item, out.rule, ctx);
            if (!x) return;
            tc.expect.push_back(std::move(*x));
        }
    }
    if (const auto a = n["absent"]) {
        // absent: true (this file's rule) or a list of rule ids: no finding of any activity.
        std::vector<std::string> rules;
        if (a.IsScalar() && a.Scalar() == "true") {
            rules.push_back(out.rule);
        } else {
            bool ok = true;
            rules = strings(a, "absent", ctx, ok);
            if (!ok) return;
        }
        for (const auto& r : rules) {
            FindingExpectation x;
            x.rule = r;
            x.activity = std::nullopt;
            x.count = {0, 0};
            x.line = a.Mark().line + 1;
            tc.expect.push_back(std::move(x));
        }
    }
    if (tc.expect.empty()) {
        ctx.error(n, "case '" + tc.name + "' expects nothing (give expect or absent)");
        return;
    }
    if (tc.observations.empty() && tc.capture.empty()) {
        ctx.error(n, "case '" + tc.name + "' has no observations");
        return;
    }
    std::stable_sort(tc.observations.begin(), tc.observations.end(),
                     [](const ObservationLine& x, const ObservationLine& y) {
                         return x.obs.ts_ns < y.obs.ts_ns;
                     });
    out.cases.push_back(std::move(tc));
}

std::string describe_activity(const std::optional<FindingActivity>& a) {
    return a ? to_string(*a) : "any";
}

}  // namespace

std::string CountRange::to_string() const {
    if (min == max) return std::to_string(min);
    if (max == UINT64_MAX) return ">=" + std::to_string(min);
    if (min == 0) return "<=" + std::to_string(max);
    return std::to_string(min) + ".." + std::to_string(max);
}

std::optional<CountRange> parse_count_range(std::string_view t) {
    auto num = [](std::string_view s) -> std::optional<uint64_t> {
        uint64_t v = 0;
        const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
        return v;
    };
    while (!t.empty() && t.front() == ' ')
        t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ')
        t.remove_suffix(1);
    if (t.starts_with(">=")) {
        std::string_view r = t.substr(2);
        while (!r.empty() && r.front() == ' ')
            r.remove_prefix(1);
        if (const auto v = num(r)) return CountRange{*v, UINT64_MAX};
        return std::nullopt;
    }
    if (t.starts_with("<=")) {
        std::string_view r = t.substr(2);
        while (!r.empty() && r.front() == ' ')
            r.remove_prefix(1);
        if (const auto v = num(r)) return CountRange{0, *v};
        return std::nullopt;
    }
    if (const size_t d = t.find(".."); d != std::string_view::npos) {
        const auto a = num(t.substr(0, d)), b = num(t.substr(d + 2));
        if (a && b && *a <= *b) return CountRange{*a, *b};
        return std::nullopt;
    }
    if (const auto v = num(t)) return CountRange{*v, *v};
    return std::nullopt;
}

std::string FindingExpectation::describe() const {
    std::string s;
    if (count.min == 0 && count.max == 0) {
        s = "no " + (activity ? std::string(to_string(*activity)) + " " : std::string()) +
            "finding of " + rule;
    } else {
        s = count.to_string() + " " + describe_activity(activity) + " finding(s) of " + rule;
    }
    std::vector<std::string> with;
    if (account_count) with.push_back("account_count " + account_count->to_string());
    if (!accounts.empty()) {
        std::string a = "accounts including";
        for (const auto& x : accounts)
            a += " " + x;
        with.push_back(a);
    }
    if (!not_accounts.empty()) {
        std::string a = "accounts excluding";
        for (const auto& x : not_accounts)
            a += " " + x;
        with.push_back(a);
    }
    for (const auto& [k, v] : keys)
        with.push_back("key " + k + "=" + (v.empty() ? "*" : v));
    if (!output_contains.empty()) with.push_back("output containing '" + output_contains + "'");
    for (size_t i = 0; i < with.size(); ++i)
        s += (i == 0 ? " with " : ", ") + with[i];
    return s;
}

bool FindingExpectation::matches(const Finding& f) const {
    if (f.rule != rule) return false;
    if (activity && f.activity != *activity) return false;
    if (account_count && !account_count->contains(f.account_count)) return false;
    for (const auto& a : accounts)
        if (!std::binary_search(f.accounts.begin(), f.accounts.end(), a)) return false;
    for (const auto& a : not_accounts)
        if (std::binary_search(f.accounts.begin(), f.accounts.end(), a)) return false;
    for (const auto& kv : keys) {
        // Not a structured binding: clang 14 cannot capture those in a lambda.
        const auto& field = kv.first;
        const auto& value = kv.second;
        const bool found = std::any_of(f.keys.begin(), f.keys.end(), [&](const KeyCount& k) {
            return k.field == field && (value.empty() || k.value == value);
        });
        if (!found) return false;
    }
    if (!output_contains.empty() && f.output.find(output_contains) == std::string::npos)
        return false;
    return true;
}

std::string summarize(const Finding& f) {
    std::string s = std::string(to_string(f.activity)) + " " + f.rule +
                    " account_count=" + std::to_string(f.account_count);
    if (!f.accounts.empty()) {
        s += " accounts=[";
        for (size_t i = 0; i < f.accounts.size() && i < 6; ++i)
            s += (i ? "," : "") + f.accounts[i];
        if (f.accounts.size() > 6) s += ",... " + std::to_string(f.accounts.size() - 6) + " more";
        s += "]";
    }
    for (size_t i = 0; i < f.keys.size() && i < 3; ++i)
        s += " " + f.keys[i].field + "=" + f.keys[i].value + "(" +
             std::to_string(f.keys[i].accounts) + ")";
    if (!f.output.empty()) s += " \"" + f.output + "\"";
    return s;
}

std::vector<std::string> compare_findings(std::span<const FindingExpectation> expect,
                                          std::span<const Finding> findings) {
    std::vector<std::string> out;
    for (const FindingExpectation& e : expect) {
        uint64_t n = 0;
        for (const Finding& f : findings)
            n += e.matches(f);
        if (e.count.contains(n)) continue;
        std::string m = "expected " + e.describe() + "; got " + std::to_string(n);
        // What the rule did raise, so the author sees how far off the case is.
        std::vector<const Finding*> of_rule;
        for (const Finding& f : findings)
            if (f.rule == e.rule) of_rule.push_back(&f);
        if (of_rule.empty()) {
            m += "; " + e.rule + " raised nothing";
        } else {
            m += "; " + e.rule + " raised:";
            for (size_t i = 0; i < of_rule.size() && i < 8; ++i)
                m += "\n    " + std::string(e.matches(*of_rule[i]) ? "+ " : "- ") +
                     summarize(*of_rule[i]);
            if (of_rule.size() > 8)
                m += "\n    ... " + std::to_string(of_rule.size() - 8) + " more";
        }
        out.push_back(std::move(m));
    }
    return out;
}

namespace {

struct Collect : FindingSink {
    std::vector<Finding> all;
    void on_finding(const Finding& f) override { all.push_back(f); }
};

}  // namespace

CaseResult run_case(const TestCase& c, const std::shared_ptr<const RuleSet>& rules,
                    const CaptureLoader& capture_loader) {
    CaseResult res;
    res.id = c.id();
    res.file = c.file;
    res.line = c.line;
    for (const auto& e : c.expect) {
        const RuleSpec* s = rules->find(e.rule);
        if (!s)
            res.failures.push_back("line " + std::to_string(e.line) + ": no rule '" + e.rule +
                                   "' in the pack");
        else if (!s->enabled)
            res.failures.push_back("line " + std::to_string(e.line) + ": rule '" + e.rule +
                                   "' is disabled");
    }
    if (!res.failures.empty()) return res;

    std::vector<ObservationLine> captured;
    if (!c.capture.empty()) {
        if (!capture_loader) {
            res.failures.push_back("captures are not supported here");
            return res;
        }
        const std::string e = capture_loader(c.capture, c.attribution, captured);
        if (!e.empty()) {
            res.failures.push_back(e);
            return res;
        }
    }
    // Both sources in one time order.
    std::vector<const ObservationLine*> order;
    order.reserve(c.observations.size() + captured.size());
    for (const auto& o : c.observations)
        order.push_back(&o);
    for (const auto& o : captured)
        order.push_back(&o);
    std::stable_sort(order.begin(), order.end(),
                     [](const auto* a, const auto* b) { return a->obs.ts_ns < b->obs.ts_ns; });

    Collect out;
    Engine engine(rules, EngineOptions{}, out);
    int64_t last = 0;
    for (const ObservationLine* o : order) {
        // Event time moves with the observations, as it does live (the daemon ticks the
        // engine): scans and rebuilds run when they are due.
        if (o->obs.ts_ns > last) {
            last = o->obs.ts_ns;
            engine.advance(last);
        }
        engine.observe(o->attributed());
    }
    if (c.advance_to_ns) engine.advance(*c.advance_to_ns);
    if (c.advance_by_ns > 0) engine.advance(last + c.advance_by_ns);
    res.observations = order.size();
    res.failures = compare_findings(c.expect, out.all);
    res.findings = std::move(out.all);
    res.passed = res.failures.empty();
    return res;
}

CaseFile load_case_text(std::string_view text, const std::string& name,
                        const std::string& base_dir) {
    CaseFile out;
    out.path = name;
    Ctx ctx{name, base_dir, &out.errors};
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        out.errors.push_back(name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
        return out;
    }
    if (!root.IsMap()) {
        out.errors.push_back(name + ":1: a case file is a map: rule, defaults, cases");
        return out;
    }
    try {
        if (!check_keys(root, {"rule", "defaults", "cases"}, "a case file", ctx)) return out;
        if (!root["rule"] || !root["rule"].IsScalar()) {
            ctx.error(root, "the case file names its rule: 'rule: RULE_ID'");
            return out;
        }
        out.rule = root["rule"].Scalar();
        json defaults = json::object();
        if (const auto d = root["defaults"]) {
            const auto j = d.IsMap() ? to_json(d, Vars{{"t0", kDefaultStart}}, ctx) : std::nullopt;
            if (!j) {
                if (!d.IsMap()) ctx.error(d, "defaults is a map of observation fields");
                return out;
            }
            defaults = *j;
        }
        const auto cases = root["cases"];
        if (!cases || !cases.IsSequence() || cases.size() == 0) {
            ctx.error(root, "'cases' is a non-empty list");
            return out;
        }
        std::set<std::string> names;
        for (const auto& c : cases)
            parse_case(c, out, defaults, ctx, names);
    } catch (const YAML::Exception& e) {
        out.errors.push_back(name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    return out;
}

CaseFile load_case_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        CaseFile out;
        out.path = path;
        out.errors.push_back(path + ":0: cannot read the file");
        return out;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return load_case_text(ss.str(), path, std::filesystem::path(path).parent_path().string());
}

std::vector<std::string> find_case_files(const std::string& pack_dir) {
    namespace fs = std::filesystem;
    std::vector<std::string> out;
    std::error_code ec;
    const fs::path dir = fs::path(pack_dir) / "tests";
    if (!fs::is_directory(dir, ec)) return out;
    auto yaml = [](const fs::path& p) {
        return p.extension() == ".yaml" || p.extension() == ".yml";
    };
    for (const auto& de : fs::directory_iterator(dir, ec)) {
        if (de.is_directory()) {
            std::error_code ec2;
            for (const auto& sub : fs::directory_iterator(de.path(), ec2))
                if (sub.is_regular_file() && yaml(sub.path())) out.push_back(sub.path().string());
        } else if (de.is_regular_file() && yaml(de.path())) {
            out.push_back(de.path().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace sybilwatch::rules
