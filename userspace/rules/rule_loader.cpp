#include "rules/rule_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

#include "rules/condition_compiler.hpp"
#include "rules/condition_parser.hpp"
#include "rules/did_you_mean.hpp"
#include "rules/source_map.hpp"

namespace sybilwatch::rules {

const char* to_string(RuleKind k) {
    switch (k) {
        case RuleKind::Match:
            return "match";
        case RuleKind::Aggregate:
            return "aggregate";
        case RuleKind::Link:
            return "link";
        case RuleKind::Synchrony:
            return "synchrony";
    }
    return "match";
}

std::string Diagnostic::to_string() const {
    std::string s = file;
    if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
    s += ": ";
    if (!item.empty()) s += item + " " + (name.empty() ? "?" : name) + ": ";
    return s + message;
}

const RuleSpec* RuleSet::find(std::string_view id) const {
    for (const RuleSpec& r : rules_)
        if (r.id == id) return &r;
    return nullptr;
}

namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kMaxWindowNs = 366 * 86400 * kSecond;
constexpr int64_t kMaxSynchronyBuckets = 100'000;

// An integer and a unit (ns, us, ms, s, m, h, d), as in the daemon's config.
std::optional<int64_t> parse_duration(std::string_view text) {
    static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
        {"ns", 1},           {"us", 1000},          {"ms", 1'000'000},     {"s", kSecond},
        {"m", 60 * kSecond}, {"h", 3600 * kSecond}, {"d", 86400 * kSecond}};
    int64_t n = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), n);
    if (r.ec != std::errc() || r.ptr == text.data() || n < 0) return std::nullopt;
    const std::string_view unit = text.substr(static_cast<size_t>(r.ptr - text.data()));
    for (const auto& [name, ns] : kUnits)
        if (unit == name) {
            if (n > kMaxWindowNs / ns + 1) return std::nullopt;
            return n * ns;
        }
    return std::nullopt;
}

bool valid_rule_id(std::string_view s) {
    if (s.empty() || s.size() > 128) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

bool valid_name(std::string_view s) {
    if (s.empty() || s.size() > 128 || (s[0] >= '0' && s[0] <= '9')) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

const std::vector<std::string_view> kListKeys{"list", "items", "append"};
const std::vector<std::string_view> kMacroKeys{"macro", "condition", "append"};
const std::vector<std::string_view> kRuleKeys{"rule",           "desc",
                                              "kind",           "condition",
                                              "severity",       "tags",
                                              "enabled",        "output",
                                              "exceptions",     "group_by",
                                              "window",         "threshold",
                                              "link_on",        "max_accounts_per_key",
                                              "min_accounts",   "min_requests",
                                              "min_bytes",      "bucket",
                                              "min_similarity", "min_active_buckets"};
const std::vector<std::string_view> kExceptionKeys{"name", "fields", "comps", "values"};

// The kinds each kind-specific key belongs to.
struct KindKey {
    std::string_view key;
    std::vector<RuleKind> kinds;
};
const std::vector<KindKey>& kind_keys() {
    static const std::vector<KindKey> k = {
        {"group_by", {RuleKind::Aggregate}},
        {"threshold", {RuleKind::Aggregate}},
        {"window", {RuleKind::Aggregate, RuleKind::Link, RuleKind::Synchrony}},
        {"link_on", {RuleKind::Link}},
        {"max_accounts_per_key", {RuleKind::Link}},
        {"min_accounts", {RuleKind::Link, RuleKind::Synchrony}},
        {"min_requests", {RuleKind::Link}},
        {"min_bytes", {RuleKind::Link}},
        {"bucket", {RuleKind::Synchrony}},
        {"min_similarity", {RuleKind::Synchrony}},
        {"min_active_buckets", {RuleKind::Synchrony}},
    };
    return k;
}

struct Entry {
    YAML::Node key;
    YAML::Node value;
};
using Entries = std::map<std::string, Entry, std::less<>>;

}  // namespace

class RuleLoader {
  public:
    LoadResult load(std::span<const RuleSource> sources, std::vector<Diagnostic> early) {
        errors_ = std::move(early);
        for (const RuleSource& s : sources) {
            files_.push_back(
                std::make_unique<SourceFile>(static_cast<uint32_t>(files_.size()), s.name, s.text));
            out_.files_.push_back(s.name);
        }
        for (const auto& f : files_)
            read_file(*f);
        check_macros();
        for (const Pending& p : pending_)
            build_rule(p);
        LoadResult r;
        out_.lists_ = lists_.size();
        out_.macros_ = macros_.size();
        std::stable_sort(errors_.begin(), errors_.end(),
                         [&](const Diagnostic& a, const Diagnostic& b) {
                             const size_t fa = file_order(a.file), fb = file_order(b.file);
                             if (fa != fb) return fa < fb;
                             if (a.line != b.line) return a.line < b.line;
                             return a.column < b.column;
                         });
        r.errors = std::move(errors_);
        if (r.errors.empty()) r.rules = std::move(out_);
        return r;
    }

  private:
    // What an error is about: "rule ID", "macro NAME", ...
    struct Label {
        std::string item, name;
    };
    struct Pending {
        const SourceFile* file;
        YAML::Node node;
    };

    size_t file_order(const std::string& name) const {
        for (size_t i = 0; i < files_.size(); ++i)
            if (files_[i]->name() == name) return i;
        return 0;  // unreadable paths: reported first
    }

    void error(const Label& l, SourcePos p, std::string message) {
        errors_.push_back(
            {files_[p.file]->name(), p.line, p.column, l.item, l.name, std::move(message)});
    }
    void error(const SourceFile& f, const Label& l, const YAML::Mark& m, std::string message) {
        error(l, f.at(m), std::move(message));
    }
    static YAML::Mark mark_of(const Entry& e) {
        return e.value.IsNull() || e.value.Mark().is_null() ? e.key.Mark() : e.value.Mark();
    }

    // The keys of an item; duplicates and unknown keys are reported (with a hint).
    Entries entries(const SourceFile& f, const Label& l, const YAML::Node& map,
                    const std::vector<std::string_view>& allowed) {
        Entries out;
        for (auto it = map.begin(); it != map.end(); ++it) {
            const YAML::Node k = it->first;
            if (!k.IsScalar()) {
                error(f, l, k.Mark(), "keys must be plain names");
                continue;
            }
            const std::string& name = k.Scalar();
            if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
                std::string hint = did_you_mean(name, allowed);
                if (name == "priority") hint = " (did you mean 'severity'?)";  // Falco's name
                error(f, l, k.Mark(), "unknown key '" + name + "'" + hint);
                continue;
            }
            if (!out.emplace(name, Entry{k, it->second}).second)
                error(f, l, k.Mark(), "duplicate key '" + name + "'");
        }
        return out;
    }

    std::optional<std::string> scalar(const SourceFile& f, const Label& l, const Entries& e,
                                      std::string_view key, const char* what) {
        const auto it = e.find(key);
        if (it == e.end()) return std::nullopt;
        const Entry& en = it->second;
        if (en.value.IsNull() || !en.value.IsScalar()) {
            error(f, l, mark_of(en), std::string(key) + ": expected " + what);
            return std::nullopt;
        }
        return en.value.Scalar();
    }

    std::optional<bool> boolean(const SourceFile& f, const Label& l, const Entries& e,
                                std::string_view key) {
        const auto s = scalar(f, l, e, key, "true or false");
        if (!s) return std::nullopt;
        if (*s == "true") return true;
        if (*s == "false") return false;
        error(f, l, mark_of(e.find(key)->second),
              std::string(key) + ": expected true or false, got '" + *s + "'");
        return std::nullopt;
    }

    std::optional<uint64_t> integer(const SourceFile& f, const Label& l, const Entries& e,
                                    std::string_view key, uint64_t min, uint64_t max) {
        const auto s = scalar(f, l, e, key, "an integer");
        if (!s) return std::nullopt;
        uint64_t n = 0;
        const auto r = std::from_chars(s->data(), s->data() + s->size(), n);
        const YAML::Mark m = mark_of(e.find(key)->second);
        if (r.ec != std::errc() || r.ptr != s->data() + s->size()) {
            error(f, l, m, std::string(key) + ": expected an integer, got '" + *s + "'");
            return std::nullopt;
        }
        if (n < min || n > max) {
            error(f, l, m,
                  std::string(key) + ": " + *s + " is out of range " + std::to_string(min) + ".." +
                      std::to_string(max));
            return std::nullopt;
        }
        return n;
    }

    std::optional<int64_t> duration(const SourceFile& f, const Label& l, const Entries& e,
                                    std::string_view key) {
        const auto s = scalar(f, l, e, key, "a duration such as \"1h\"");
        if (!s) return std::nullopt;
        const auto d = parse_duration(*s);
        const YAML::Mark m = mark_of(e.find(key)->second);
        if (!d) {
            error(f, l, m,
                  std::string(key) +
                      ": expected a duration: an integer and a unit (ns, us, ms, s, m, h, d), "
                      "e.g. \"1h\"; got '" +
                      *s + "'");
            return std::nullopt;
        }
        if (*d <= 0 || *d > kMaxWindowNs) {
            error(f, l, m, std::string(key) + ": must be positive and at most 366d");
            return std::nullopt;
        }
        return d;
    }

    // ---- files and items ----

    void read_file(const SourceFile& f) {
        // YAML::Load, not LoadAll: yaml-cpp 0.7's LoadAll loops forever on some inputs (see
        // config/load_config.cpp). Only the first document is read.
        YAML::Node doc;
        const Label file_label;
        try {
            doc = YAML::Load(f.text());
        } catch (const YAML::Exception& e) {
            error(f, file_label, e.mark, "YAML syntax error: " + e.msg);
            return;
        }
        if (!doc.IsDefined() || doc.IsNull()) {
            if (!blank_yaml(f.text()))
                error(file_label, {f.index(), 1, 1},
                      "a rule file is a list of items (- list:, - macro:, - rule:)");
            return;
        }
        if (!doc.IsSequence()) {
            error(f, file_label, doc.Mark(),
                  "a rule file is a list of items (- list:, - macro:, - rule:)");
            return;
        }
        for (const YAML::Node& item : doc) {
            if (!item.IsMap()) {
                error(f, file_label, item.Mark(),
                      "expected an item: a mapping with 'list', 'macro' or 'rule'");
                continue;
            }
            const bool is_list = item["list"].IsDefined();
            const bool is_macro = item["macro"].IsDefined();
            const bool is_rule = item["rule"].IsDefined();
            if (is_list + is_macro + is_rule != 1) {
                std::string hint;
                if (!(is_list || is_macro || is_rule)) {
                    for (auto it = item.begin(); it != item.end() && hint.empty(); ++it)
                        if (it->first.IsScalar())
                            hint = did_you_mean(it->first.Scalar(), {"list", "macro", "rule"});
                }
                error(f, file_label, item.Mark(),
                      is_list + is_macro + is_rule == 0
                          ? "an item needs one of 'list', 'macro' or 'rule'" + hint
                          : "an item is one of list, macro or rule, not several");
                continue;
            }
            if (is_list)
                read_list(f, item);
            else if (is_macro)
                read_macro(f, item);
            else
                pending_.push_back({&f, item});
        }
    }

    static bool blank_yaml(std::string_view text) {
        size_t pos = 0;
        while (pos < text.size()) {
            const size_t end = std::min(text.find('\n', pos), text.size());
            const std::string_view l = text.substr(pos, end - pos);
            const size_t first = l.find_first_not_of(" \t\r");
            if (first != std::string_view::npos && l[first] != '#' && !l.starts_with("---") &&
                !l.starts_with("..."))
                return false;
            pos = end + 1;
        }
        return true;
    }

    // An item's name for error labels, before its keys are checked.
    static std::string peek(const YAML::Node& item, const char* key) {
        const YAML::Node n = item[key];
        return n.IsScalar() ? n.Scalar() : std::string();
    }

    // The name of a list or macro, checked; nullopt (reported) when bad.
    std::optional<std::string> item_name(const SourceFile& f, Label& l, const Entries& e,
                                         std::string_view key) {
        const auto s = scalar(f, l, e, key, "a name");
        if (!s) return std::nullopt;
        l.name = *s;
        const YAML::Mark m = mark_of(e.find(key)->second);
        if (!valid_name(*s)) {
            error(f, l, m, "a name is letters, digits and '_', not starting with a digit");
            return std::nullopt;
        }
        if (key == "macro" && (find_field(*s) || is_condition_keyword(*s))) {
            error(f, l, m, "'" + *s + "' is a field or keyword and cannot name a macro");
            return std::nullopt;
        }
        return s;
    }

    void read_list(const SourceFile& f, const YAML::Node& node) {
        Label l{"list", peek(node, "list")};
        const Entries e = entries(f, l, node, kListKeys);
        const auto name = item_name(f, l, e, "list");
        const bool append = e.contains("append") && boolean(f, l, e, "append").value_or(false);
        ListDef def;
        def.pos = f.at(node.Mark());
        const auto it = e.find("items");
        if (it == e.end()) {
            error(f, l, node.Mark(), "missing 'items'");
            return;
        }
        const YAML::Node& items = it->second.value;
        if (!items.IsSequence()) {
            if (!items.IsNull()) {
                error(f, l, mark_of(it->second), "items: expected a list, e.g. [a, b]");
                return;
            }
        } else {
            for (const YAML::Node& v : items) {
                if (!v.IsScalar()) {
                    error(f, l, v.Mark(), "items: each item is a single value");
                    continue;
                }
                def.items.push_back({v.Scalar(), v.Tag() == "!", f.at(v.Mark())});
            }
        }
        if (!name) return;
        auto& slot = list_files_[*name];
        const auto existing = lists_.find(*name);
        if (append) {
            if (existing == lists_.end()) {
                error(f, l, node.Mark(), "append: no earlier list '" + *name + "' to extend");
                return;
            }
            existing->second.items.insert(existing->second.items.end(), def.items.begin(),
                                          def.items.end());
            return;
        }
        if (existing != lists_.end() && slot == f.index() + 1) {
            error(f, l, node.Mark(),
                  "list '" + *name + "' is already defined in this file, line " +
                      std::to_string(existing->second.pos.line));
            return;
        }
        slot = f.index() + 1;  // a later file replaces it
        lists_[*name] = std::move(def);
    }

    void read_macro(const SourceFile& f, const YAML::Node& node) {
        Label l{"macro", peek(node, "macro")};
        const Entries e = entries(f, l, node, kMacroKeys);
        const auto name = item_name(f, l, e, "macro");
        const bool append = e.contains("append") && boolean(f, l, e, "append").value_or(false);
        MacroDef def;
        def.pos = f.at(node.Mark());
        const auto it = e.find("condition");
        if (it == e.end()) {
            error(f, l, node.Mark(), "missing 'condition'");
        } else {
            def.parsed = parse(f, l, it->second, def.ast);
        }
        if (!name) return;
        auto& slot = macro_files_[*name];
        const auto existing = macros_.find(*name);
        if (append) {
            if (existing == macros_.end()) {
                error(f, l, node.Mark(), "append: no earlier macro '" + *name + "' to extend");
                return;
            }
            // Falco's append: the old condition or the new one.
            MacroDef& m = existing->second;
            AstNode either;
            either.kind = AstNode::Kind::Or;
            either.pos = m.ast.pos;
            either.children.push_back(std::move(m.ast));
            either.children.push_back(std::move(def.ast));
            m.ast = std::move(either);
            m.parsed = m.parsed && def.parsed;
            return;
        }
        if (existing != macros_.end() && slot == f.index() + 1) {
            error(f, l, node.Mark(),
                  "macro '" + *name + "' is already defined in this file, line " +
                      std::to_string(existing->second.pos.line));
            return;
        }
        slot = f.index() + 1;
        macro_labels_[*name] = l;
        macros_[*name] = std::move(def);
    }

    bool parse(const SourceFile& f, const Label& l, const Entry& e, AstNode& out) {
        if (e.value.IsNull() || !e.value.IsScalar()) {
            error(f, l, mark_of(e), "condition: expected a string");
            return false;
        }
        const std::string& text = e.value.Scalar();
        const YAML::Mark m = e.value.Mark();
        const PositionMap pm = [&](size_t off) { return f.at(m, text, off); };
        ParseError pe;
        if (!parse_condition(text, pm, out, pe)) {
            error(l, pe.pos, pe.message);
            return false;
        }
        return true;
    }

    void check_macros() {
        const ConditionSymbols syms{&lists_, &macros_};
        for (const auto& [name, def] : macros_) {
            if (!def.parsed) continue;
            std::vector<CompileError> errs;
            Condition c;
            compile_condition(def.ast, syms, name, c, errs);
            for (CompileError& ce : errs)
                error(macro_labels_[name], ce.pos, std::move(ce.message));
        }
    }

    // ---- rules ----

    bool compile(const Label& l, const AstNode& ast, Condition& out) {
        std::vector<CompileError> errs;
        const bool ok = compile_condition(ast, {&lists_, &macros_}, "", out, errs);
        for (CompileError& ce : errs)
            error(l, ce.pos, std::move(ce.message));
        return ok;
    }

    void build_rule(const Pending& p) {
        const SourceFile& f = *p.file;
        Label l{"rule", peek(p.node, "rule")};
        const Entries e = entries(f, l, p.node, kRuleKeys);
        const auto id = scalar(f, l, e, "rule", "a rule id");
        if (id) l.name = *id;
        const YAML::Mark item_mark = p.node.Mark();
        if (id && !valid_rule_id(*id))
            error(f, l, mark_of(e.at("rule")),
                  "a rule id is lower-case letters, digits and '_' (at most 128)");

        // `- rule: X` + `enabled:` alone: switch an earlier rule on or off.
        if (id && e.size() == 2 && e.contains("enabled")) {
            if (RuleSpec* r = built(*id)) {
                if (const auto en = boolean(f, l, e, "enabled")) r->enabled = *en;
                return;
            }
        }

        RuleSpec r;
        r.id = id.value_or("");
        r.file = f.name();
        r.line = f.at(item_mark).line;
        // The item as written (normalised by the emitter): on reload, a rule whose item is
        // unchanged keeps its state, even when lists or macros it uses were edited.
        r.definition = YAML::Dump(p.node);
        if (id && (built(*id) || std::find(ids_.begin(), ids_.end(), *id) != ids_.end())) {
            error(f, l, mark_of(e.at("rule")), "rule '" + *id + "' is defined twice");
        }
        if (id) ids_.push_back(*id);

        if (const auto d = scalar(f, l, e, "desc", "a description")) r.desc = *d;
        if (!e.contains("desc")) error(f, l, item_mark, "missing 'desc'");

        if (const auto k = scalar(f, l, e, "kind", "match, aggregate, link or synchrony")) {
            static const std::vector<std::pair<std::string_view, RuleKind>> kKinds{
                {"match", RuleKind::Match},
                {"aggregate", RuleKind::Aggregate},
                {"link", RuleKind::Link},
                {"synchrony", RuleKind::Synchrony}};
            bool found = false;
            std::vector<std::string_view> names;
            for (const auto& [n, kind] : kKinds) {
                names.push_back(n);
                if (*k == n) r.kind = kind, found = true;
            }
            if (!found)
                error(f, l, mark_of(e.at("kind")),
                      "kind: '" + *k + "' is not one of match, aggregate, link, synchrony" +
                          did_you_mean(*k, names));
        }
        if (const auto s = scalar(f, l, e, "severity", "a severity")) {
            static const std::vector<std::pair<std::string_view, Severity>> kSev{
                {"info", Severity::Info},
                {"low", Severity::Low},
                {"medium", Severity::Medium},
                {"high", Severity::High},
                {"critical", Severity::Critical}};
            bool found = false;
            std::vector<std::string_view> names;
            for (const auto& [n, sev] : kSev) {
                names.push_back(n);
                if (*s == n) r.severity = sev, found = true;
            }
            if (!found)
                error(f, l, mark_of(e.at("severity")),
                      "severity: '" + *s + "' is not one of info, low, medium, high, critical" +
                          did_you_mean(*s, names));
        }
        if (const auto en = e.contains("enabled") ? boolean(f, l, e, "enabled") : std::nullopt)
            r.enabled = *en;
        if (const auto it = e.find("tags"); it != e.end()) tags(f, l, it->second, r.tags);

        // Keys of other kinds.
        for (const KindKey& kk : kind_keys()) {
            const auto it = e.find(kk.key);
            if (it == e.end() ||
                std::find(kk.kinds.begin(), kk.kinds.end(), r.kind) != kk.kinds.end())
                continue;
            std::string kinds;
            for (size_t i = 0; i < kk.kinds.size(); ++i)
                kinds += (i ? (i + 1 == kk.kinds.size() ? " and " : ", ") : "") +
                         std::string(to_string(kk.kinds[i]));
            error(f, l, it->second.key.Mark(),
                  "'" + std::string(kk.key) + "' applies to " + kinds + " rules, and this is a " +
                      to_string(r.kind) + " rule" +
                      (r.kind == RuleKind::Match ? " (set kind:)" : ""));
        }

        if (const auto it = e.find("condition"); it != e.end()) {
            AstNode ast;
            if (parse(f, l, it->second, ast)) compile(l, ast, r.condition);
        } else {
            error(f, l, item_mark, "missing 'condition'");
        }
        if (const auto it = e.find("exceptions"); it != e.end()) exceptions(f, l, it->second, r);

        MeasureTable table;
        kind_params(f, l, e, item_mark, r, table);
        if (const auto it = e.find("output"); it != e.end()) {
            if (it->second.value.IsScalar()) {
                const std::string& text = it->second.value.Scalar();
                const auto allowed = r.kind == RuleKind::Match ? OutputTemplate::Measures::None
                                     : r.kind == RuleKind::Aggregate
                                         ? OutputTemplate::Measures::All
                                         : OutputTemplate::Measures::CountOnly;
                size_t off = 0;
                std::string why;
                if (!r.output.compile(text, allowed, table, off, why))
                    error(l, f.at(it->second.value.Mark(), text, off), "output: " + why);
            } else {
                error(f, l, mark_of(it->second), "output: expected a string");
            }
        }
        r.measures = table.refs();
        if (id && !built(*id)) rules_index_.emplace_back(*id, out_.rules_.size());
        out_.rules_.push_back(std::move(r));
    }

    RuleSpec* built(const std::string& id) {
        for (const auto& [rid, i] : rules_index_)
            if (rid == id) return &out_.rules_[i];
        return nullptr;
    }

    void tags(const SourceFile& f, const Label& l, const Entry& e, std::vector<std::string>& out) {
        if (!e.value.IsSequence()) {
            error(f, l, mark_of(e), "tags: expected a list, e.g. [farm, proxy]");
            return;
        }
        for (const YAML::Node& t : e.value) {
            const bool ok = t.IsScalar() && !t.Scalar().empty() &&
                            std::all_of(t.Scalar().begin(), t.Scalar().end(), [](char c) {
                                return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
                                       c == ':' || c == '/';
                            });
            if (!ok) {
                error(f, l, t.Mark(), "tags: a tag is a word (letters, digits, _ - . : /)");
                continue;
            }
            out.push_back(t.Scalar());
        }
    }

    std::optional<KeyItem> key_item(const SourceFile& f, const Label& l, const YAML::Node& n,
                                    const char* key, YAML::Mark at = YAML::Mark::null_mark()) {
        if (at.is_null()) at = n.Mark();
        if (!n.IsScalar()) {
            error(f, l, at, std::string(key) + ": expected a field or bucket(FIELD, WIDTH)");
            return std::nullopt;
        }
        std::string why;
        const auto k = parse_key_item(n.Scalar(), why);
        if (!k) error(f, l, at, std::string(key) + ": " + why);
        return k;
    }

    // A list of key items; duplicates are errors.
    bool key_tuple(const SourceFile& f, const Label& l, const YAML::Node& seq, const char* key,
                   std::vector<KeyItem>& out) {
        bool ok = true;
        for (size_t i = 0; i < seq.size(); ++i) {
            YAML::Node n = seq[i];
            // In a flow list, [ja4, bucket(rtt_ms, 5)] reaches us split at the comma inside
            // the parentheses: join the pieces back.
            if (n.IsScalar() && n.Scalar().starts_with("bucket(") &&
                n.Scalar().find(')') == std::string::npos && i + 1 < seq.size() &&
                seq[i + 1].IsScalar()) {
                YAML::Node joined(n.Scalar() + ", " + seq[i + 1].Scalar());
                ++i;
                const auto k = key_item(f, l, joined, key, n.Mark());
                if (!k) {
                    ok = false;
                    continue;
                }
                if (!add_key(f, l, n, key, *k, out)) ok = false;
                continue;
            }
            const auto k = key_item(f, l, n, key);
            if (!k) {
                ok = false;
                continue;
            }
            if (!add_key(f, l, n, key, *k, out)) ok = false;
        }
        return ok;
    }

    bool add_key(const SourceFile& f, const Label& l, const YAML::Node& n, const char* key,
                 const KeyItem& k, std::vector<KeyItem>& out) {
        for (const KeyItem& o : out)
            if (o.field == k.field && o.bucket_width == k.bucket_width) {
                error(f, l, n.Mark(), std::string(key) + ": '" + key_name(k) + "' listed twice");
                return false;
            }
        out.push_back(k);
        return true;
    }

    void require(const SourceFile& f, const Label& l, const Entries& e, const YAML::Mark& m,
                 std::string_view key, const RuleSpec& r) {
        if (!e.contains(key))
            error(f, l, m,
                  "missing '" + std::string(key) + "' (required for " + to_string(r.kind) +
                      " rules)");
    }

    void kind_params(const SourceFile& f, const Label& l, const Entries& e, const YAML::Mark& m,
                     RuleSpec& r, MeasureTable& table) {
        if (r.kind == RuleKind::Match) return;
        require(f, l, e, m, "window", r);
        if (const auto w = e.contains("window") ? duration(f, l, e, "window") : std::nullopt)
            r.window_ns = *w;
        switch (r.kind) {
            case RuleKind::Aggregate: {
                if (const auto it = e.find("group_by"); it != e.end()) {
                    if (it->second.value.IsSequence())
                        key_tuple(f, l, it->second.value, "group_by", r.group_by);
                    else
                        error(f, l, mark_of(it->second),
                              "group_by: expected a list of fields, e.g. [ja4, net24]");
                }
                require(f, l, e, m, "threshold", r);
                if (const auto it = e.find("threshold"); it != e.end()) {
                    if (!it->second.value.IsScalar()) {
                        error(f, l, mark_of(it->second),
                              "threshold: expected an expression, e.g. 'distinct(account) >= 20'");
                    } else {
                        const std::string& text = it->second.value.Scalar();
                        size_t off = 0;
                        std::string why;
                        if (!r.threshold.compile(text, table, off, why))
                            error(l, f.at(it->second.value.Mark(), text, off), "threshold: " + why);
                    }
                }
                break;
            }
            case RuleKind::Link: {
                require(f, l, e, m, "link_on", r);
                if (const auto it = e.find("link_on"); it != e.end()) {
                    const YAML::Node& v = it->second.value;
                    if (!v.IsSequence() || v.size() == 0) {
                        error(f, l, mark_of(it->second),
                              "link_on: expected a list of keys, each a field or a list of "
                              "fields, e.g. [[ja4, ja4t], [ip]]");
                    } else {
                        for (const YAML::Node& key : v) {
                            std::vector<KeyItem> tuple;
                            bool ok;
                            if (key.IsSequence()) {
                                ok = key.size() > 0 && key_tuple(f, l, key, "link_on", tuple);
                                if (key.size() == 0)
                                    error(f, l, key.Mark(), "link_on: an empty key");
                            } else {
                                const auto k = key_item(f, l, key, "link_on");
                                ok = k.has_value();
                                if (k) tuple.push_back(*k);
                            }
                            if (ok) r.link_on.push_back(std::move(tuple));
                        }
                    }
                }
                if (const auto n = e.contains("max_accounts_per_key")
                                       ? integer(f, l, e, "max_accounts_per_key", 2, 1'000'000)
                                       : std::nullopt)
                    r.max_accounts_per_key = static_cast<uint32_t>(*n);
                if (const auto n = e.contains("min_requests")
                                       ? integer(f, l, e, "min_requests", 0, UINT64_MAX / 2)
                                       : std::nullopt)
                    r.min_requests = *n;
                if (const auto n = e.contains("min_bytes")
                                       ? integer(f, l, e, "min_bytes", 0, UINT64_MAX / 2)
                                       : std::nullopt)
                    r.min_bytes = *n;
                break;
            }
            case RuleKind::Synchrony: {
                require(f, l, e, m, "bucket", r);
                if (const auto b =
                        e.contains("bucket") ? duration(f, l, e, "bucket") : std::nullopt) {
                    r.bucket_ns = *b;
                    if (r.window_ns > 0 && (r.bucket_ns >= r.window_ns ||
                                            r.window_ns / r.bucket_ns > kMaxSynchronyBuckets))
                        error(f, l, mark_of(e.at("bucket")),
                              "bucket: the window must hold 2 to " +
                                  std::to_string(kMaxSynchronyBuckets) + " buckets");
                }
                if (const auto it = e.find("min_similarity"); it != e.end()) {
                    const auto s = scalar(f, l, e, "min_similarity", "a number in (0, 1]");
                    double d = 0;
                    const auto res = s ? std::from_chars(s->data(), s->data() + s->size(), d)
                                       : std::from_chars_result{};
                    if (s && (res.ec != std::errc() || res.ptr != s->data() + s->size() ||
                              !(d > 0 && d <= 1)))
                        error(f, l, mark_of(it->second),
                              "min_similarity: expected a number in (0, 1], got '" + *s + "'");
                    else if (s)
                        r.min_similarity = d;
                }
                if (const auto n =
                        e.contains("min_active_buckets")
                            ? integer(f, l, e, "min_active_buckets", 1, kMaxSynchronyBuckets)
                            : std::nullopt)
                    r.min_active_buckets = static_cast<uint32_t>(*n);
                break;
            }
            case RuleKind::Match:
                break;
        }
        if (r.kind == RuleKind::Link || r.kind == RuleKind::Synchrony) {
            require(f, l, e, m, "min_accounts", r);
            if (const auto n = e.contains("min_accounts")
                                   ? integer(f, l, e, "min_accounts", 2, 10'000'000)
                                   : std::nullopt)
                r.min_accounts = static_cast<uint32_t>(*n);
        }
    }

    // ---- exceptions: compiled into one condition (any exception matches) ----

    struct Comp {
        PredOp op;
        CmpOp cmp;
        bool list;  // takes a list of values
    };

    std::optional<Comp> comp(const SourceFile& f, const Label& l, const YAML::Node& n) {
        static const std::vector<std::pair<std::string_view, Comp>> kComps{
            {"=", {PredOp::Cmp, CmpOp::Eq, false}},
            {"==", {PredOp::Cmp, CmpOp::Eq, false}},
            {"!=", {PredOp::Cmp, CmpOp::Ne, false}},
            {"<", {PredOp::Cmp, CmpOp::Lt, false}},
            {"<=", {PredOp::Cmp, CmpOp::Le, false}},
            {">", {PredOp::Cmp, CmpOp::Gt, false}},
            {">=", {PredOp::Cmp, CmpOp::Ge, false}},
            {"in", {PredOp::In, CmpOp::Eq, true}},
            {"not in", {PredOp::NotIn, CmpOp::Eq, true}},
            {"cidr", {PredOp::In, CmpOp::Eq, true}},
            {"pmatch", {PredOp::PMatch, CmpOp::Eq, true}},
            {"startswith", {PredOp::StartsWith, CmpOp::Eq, false}},
            {"endswith", {PredOp::EndsWith, CmpOp::Eq, false}},
            {"contains", {PredOp::Contains, CmpOp::Eq, false}},
            {"icontains", {PredOp::IContains, CmpOp::Eq, false}},
            {"regex", {PredOp::Regex, CmpOp::Eq, false}},
        };
        if (n.IsScalar()) {
            std::vector<std::string_view> names;
            for (const auto& [name, c] : kComps) {
                if (n.Scalar() == name) return c;
                names.push_back(name);
            }
            error(f, l, n.Mark(),
                  "exceptions: unknown comparison '" + n.Scalar() + "'" +
                      did_you_mean(n.Scalar(), names));
        } else {
            error(f, l, n.Mark(), "exceptions: a comparison is a word such as =, in or startswith");
        }
        return std::nullopt;
    }

    // One predicate of an exception: FIELD COMP VALUE(S).
    std::optional<AstNode> exception_pred(const SourceFile& f, const Label& l,
                                          const std::string& field, SourcePos field_pos,
                                          const Comp& c, bool is_cidr, const YAML::Node& v) {
        AstNode n;
        n.kind = AstNode::Kind::Predicate;
        n.pos = field_pos;
        n.name = field;
        n.op = c.op;
        n.cmp = c.cmp;
        if (is_cidr) {
            const FieldInfo* fi = find_field(field);
            if (fi && fi->type != FieldType::Ip && fi->type != FieldType::Net) {
                error(f, l, v.Mark(),
                      "exceptions: 'cidr' needs an address or network field, but " + field +
                          " is a " + to_string(fi->type));
                return std::nullopt;
            }
        }
        auto value = [&](const YAML::Node& x) -> bool {
            if (!x.IsScalar()) {
                error(f, l, x.Mark(), "exceptions: expected a single value");
                return false;
            }
            n.values.push_back({x.Scalar(), x.Tag() == "!", f.at(x.Mark())});
            return true;
        };
        if (c.list) {
            if (v.IsSequence()) {
                for (const YAML::Node& x : v)
                    if (!value(x)) return std::nullopt;
            } else if (!value(v)) {
                return std::nullopt;  // a scalar: one value, or a list's name
            }
        } else if (!value(v)) {
            return std::nullopt;
        }
        return n;
    }

    void exceptions(const SourceFile& f, const Label& l, const Entry& e, RuleSpec& r) {
        if (!e.value.IsSequence()) {
            error(f, l, mark_of(e), "exceptions: expected a list of exceptions");
            return;
        }
        AstNode any;
        any.kind = AstNode::Kind::Or;
        any.pos = f.at(mark_of(e));
        bool ok = true;
        for (const YAML::Node& x : e.value) {
            if (!x.IsMap()) {
                error(f, l, x.Mark(),
                      "exceptions: each exception is a mapping (name, fields, comps, values)");
                ok = false;
                continue;
            }
            const Entries ee = entries(f, l, x, kExceptionKeys);
            const auto name = scalar(f, l, ee, "name", "a name");
            if (!ee.contains("name")) error(f, l, x.Mark(), "exceptions: missing 'name'");
            if (name) {
                if (std::find(r.exception_names.begin(), r.exception_names.end(), *name) !=
                    r.exception_names.end())
                    error(f, l, mark_of(ee.at("name")),
                          "exceptions: '" + *name + "' is named twice");
                r.exception_names.push_back(*name);
            }
            const auto fit = ee.find("fields");
            if (fit == ee.end()) {
                error(f, l, x.Mark(), "exceptions: missing 'fields'");
                ok = false;
                continue;
            }
            // The fields, each checked.
            const YAML::Node& fnode = fit->second.value;
            const bool single = fnode.IsScalar();
            std::vector<std::pair<std::string, SourcePos>> flds;
            bool fields_ok = true;
            auto add_field = [&](const YAML::Node& n) {
                if (!n.IsScalar()) {
                    error(f, l, n.Mark(), "exceptions: a field name is a word");
                    fields_ok = false;
                    return;
                }
                if (!find_field(n.Scalar())) {
                    std::vector<std::string_view> names;
                    for (const FieldInfo& fi : fields())
                        names.push_back(fi.name);
                    error(f, l, n.Mark(),
                          "exceptions: unknown field '" + n.Scalar() + "'" +
                              did_you_mean(n.Scalar(), names));
                    fields_ok = false;
                }
                flds.emplace_back(n.Scalar(), f.at(n.Mark()));
            };
            if (single)
                add_field(fnode);
            else if (fnode.IsSequence() && fnode.size() > 0)
                for (const YAML::Node& n : fnode)
                    add_field(n);
            else {
                error(f, l, mark_of(fit->second),
                      "exceptions: fields is a field or a list of fields");
                fields_ok = false;
            }
            // The comparisons: one per field ("=" by default), or one "in" for a single field.
            std::vector<Comp> comps;
            std::vector<bool> cidr;
            if (const auto cit = ee.find("comps"); cit != ee.end()) {
                const YAML::Node& cn = cit->second.value;
                if (single && cn.IsScalar()) {
                    if (const auto c = comp(f, l, cn))
                        comps.push_back(*c), cidr.push_back(cn.Scalar() == "cidr");
                } else if (!single && cn.IsSequence() && cn.size() == flds.size()) {
                    for (const YAML::Node& c1 : cn)
                        if (const auto c = comp(f, l, c1))
                            comps.push_back(*c), cidr.push_back(c1.Scalar() == "cidr");
                } else {
                    error(f, l, mark_of(cit->second),
                          single ? "exceptions: with a single field, comps is one comparison"
                                 : "exceptions: comps needs one comparison per field (" +
                                       std::to_string(flds.size()) + ")");
                }
                if (comps.size() != flds.size()) fields_ok = false;
            } else {
                for (size_t i = 0; i < flds.size(); ++i) {
                    comps.push_back(single ? Comp{PredOp::In, CmpOp::Eq, true}
                                           : Comp{PredOp::Cmp, CmpOp::Eq, false});
                    cidr.push_back(false);
                }
            }
            const auto vit = ee.find("values");
            if (!fields_ok) {
                ok = false;
                continue;
            }
            if (vit == ee.end() || vit->second.value.IsNull()) continue;  // matches nothing
            const YAML::Node& vals = vit->second.value;
            if (!vals.IsSequence()) {
                error(f, l, mark_of(vit->second), "exceptions: values is a list");
                ok = false;
                continue;
            }
            if (single) {
                // One predicate over all the values (or one value for a non-list comparison).
                const YAML::Node arg = comps[0].list ? vals : (vals.size() == 1 ? vals[0] : vals);
                if (!comps[0].list && vals.size() != 1) {
                    error(f, l, vals.Mark(),
                          "exceptions: '" + std::string(to_string(comps[0].op)) +
                              "' takes one value");
                    ok = false;
                    continue;
                }
                if (auto p =
                        exception_pred(f, l, flds[0].first, flds[0].second, comps[0], cidr[0], arg))
                    any.children.push_back(std::move(*p));
                else
                    ok = false;
                continue;
            }
            for (const YAML::Node& tuple : vals) {
                if (!tuple.IsSequence() || tuple.size() != flds.size()) {
                    error(f, l, tuple.Mark(),
                          "exceptions: each value is a list of " + std::to_string(flds.size()) +
                              " values, one per field");
                    ok = false;
                    continue;
                }
                AstNode all;
                all.kind = AstNode::Kind::And;
                all.pos = f.at(tuple.Mark());
                for (size_t i = 0; i < flds.size(); ++i) {
                    if (auto p = exception_pred(f, l, flds[i].first, flds[i].second, comps[i],
                                                cidr[i], tuple[i]))
                        all.children.push_back(std::move(*p));
                    else
                        ok = false;
                }
                if (all.children.size() == flds.size()) any.children.push_back(std::move(all));
            }
        }
        if (!ok || any.children.empty()) return;
        Condition c;
        if (compile(l, any, c)) r.exceptions = std::move(c);
    }

    std::vector<std::unique_ptr<SourceFile>> files_;
    std::map<std::string, ListDef, std::less<>> lists_;
    std::map<std::string, MacroDef, std::less<>> macros_;
    std::map<std::string, uint32_t> list_files_, macro_files_;  // file index + 1 of the definition
    std::map<std::string, Label> macro_labels_;
    std::vector<Pending> pending_;
    std::vector<std::string> ids_;
    std::vector<std::pair<std::string, size_t>> rules_index_;
    std::vector<Diagnostic> errors_;
    RuleSet out_;
};

LoadResult load_rules_text(std::span<const RuleSource> sources) {
    return RuleLoader().load(sources, {});
}

LoadResult load_rules(std::span<const std::string> paths) {
    std::vector<RuleSource> sources;
    std::vector<Diagnostic> early;
    auto read = [&](const std::filesystem::path& p) {
        std::ifstream in(p, std::ios::binary);
        std::ostringstream text;
        if (in) text << in.rdbuf();
        if (!in || in.bad()) {
            early.push_back({p.string(), 0, 0, "", "", "cannot read the file"});
            return;
        }
        sources.push_back({p.string(), text.str()});
    };
    for (const std::string& path : paths) {
        std::error_code ec;
        const auto st = std::filesystem::status(path, ec);
        if (ec || !std::filesystem::exists(st)) {
            early.push_back({path, 0, 0, "", "", "no such file or directory"});
            continue;
        }
        if (!std::filesystem::is_directory(st)) {
            read(path);
            continue;
        }
        std::vector<std::filesystem::path> files;
        for (const auto& de : std::filesystem::directory_iterator(path, ec)) {
            const auto ext = de.path().extension();
            if ((ext == ".yaml" || ext == ".yml") && !de.is_directory()) files.push_back(de.path());
        }
        if (ec) early.push_back({path, 0, 0, "", "", "cannot list the directory: " + ec.message()});
        std::sort(files.begin(), files.end());
        for (const auto& p : files)
            read(p);
    }
    return RuleLoader().load(sources, std::move(early));
}

}  // namespace sybilwatch::rules
