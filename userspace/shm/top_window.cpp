#include "shm/top_window.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <utility>

namespace sybilwatch::shm {

namespace {

constexpr size_t kKeyWidth = 44;

// Counts per key and the distinct partners per key from (key, partner) pairs.
struct Tally {
    std::unordered_map<uint64_t, TopRow> rows;
};

void count_distinct(std::vector<std::pair<uint64_t, uint64_t>>& pairs, Tally& by_first,
                    uint64_t TopRow::*first_field, Tally& by_second,
                    uint64_t TopRow::*second_field) {
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    for (const auto& [a, b] : pairs) {
        if (auto it = by_first.rows.find(a); it != by_first.rows.end()) ++(it->second.*first_field);
        if (auto it = by_second.rows.find(b); it != by_second.rows.end())
            ++(it->second.*second_field);
    }
}

std::vector<TopRow> top_rows(Tally& t, size_t rows) {
    std::vector<TopRow> v;
    v.reserve(t.rows.size());
    for (auto& [id, row] : t.rows)
        v.push_back(std::move(row));
    auto busier = [](const TopRow& a, const TopRow& b) {
        return a.count != b.count ? a.count > b.count : a.key < b.key;
    };
    const size_t n = std::min(rows, v.size());
    std::partial_sort(v.begin(), v.begin() + static_cast<ptrdiff_t>(n), v.end(), busier);
    v.resize(n);
    return v;
}

std::string printable(std::string_view s, size_t width) {
    std::string out;
    for (const char c : s)
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (out.size() > width) {
        out.resize(width - 1);
        out += '~';
    }
    return out;
}

void table(std::string& out, const char* title, const char* col1, const char* col2,
           const std::vector<TopRow>& rows) {
    char line[160];
    std::snprintf(line, sizeof line, "%-*s %8s %9s %9s\n", static_cast<int>(kKeyWidth), title,
                  "OBS", col1, col2);
    out += line;
    if (rows.empty()) out += "  (none)\n";
    for (const TopRow& r : rows) {
        std::snprintf(line, sizeof line, "%-*s %8llu %9llu %9llu\n", static_cast<int>(kKeyWidth),
                      printable(r.key, kKeyWidth).c_str(), static_cast<unsigned long long>(r.count),
                      static_cast<unsigned long long>(r.distinct1),
                      static_cast<unsigned long long>(r.distinct2));
        out += line;
    }
    out += '\n';
}

}  // namespace

std::string TopWindow::network_of(const net::IpAddress& a) {
    net::IpAddress m = a;
    std::string suffix;
    if (a.family == 4) {
        m.bytes[3] = 0;
        suffix = "/24";
    } else if (a.family == 6) {
        std::fill(m.bytes.begin() + 6, m.bytes.end(), uint8_t{0});
        suffix = "/48";
    } else {
        return {};
    }
    std::array<char, net::IpAddress::kMaxText> buf;
    return std::string(m.format(buf)) + suffix;
}

uint64_t TopWindow::intern(char kind, std::string_view text) {
    if (text.empty()) return 0;
    // A 64-bit hash as the id: a collision would merge two keys' counts, at odds of ~n²/2^65.
    uint64_t id = std::hash<std::string_view>{}(text)*0x9E3779B97F4A7C15ull + uint64_t(kind);
    if (id == 0) id = 1;
    auto [it, fresh] = names_.try_emplace(id);
    if (fresh) it->second.text = text;
    ++it->second.refs;
    return id;
}

void TopWindow::release(uint64_t id) {
    if (id == 0) return;
    auto it = names_.find(id);
    if (it != names_.end() && --it->second.refs == 0) names_.erase(it);
}

void TopWindow::pop_front() {
    const Event& e = events_.front();
    release(e.ja4);
    release(e.account);
    release(e.network);
    events_.pop_front();
}

void TopWindow::add(int64_t now_ns, const ObservationRecord& r) {
    net::IpAddress src;
    if (r.src_family == 4 || r.src_family == 6) {
        src.family = r.src_family;
        std::copy(r.src_addr, r.src_addr + (r.src_family == 4 ? 4 : 16), src.bytes.begin());
    }
    Event e{now_ns, intern('j', r.ja4.view()), intern('a', r.account.view()),
            intern('n', network_of(src))};
    events_.push_back(e);
    while (events_.size() > opts_.max_events) {
        pop_front();
        truncated_ = true;
    }
}

void TopWindow::expire(int64_t now_ns) {
    bool aged = false;
    while (!events_.empty() && events_.front().t < now_ns - opts_.window_ns) {
        pop_front();
        aged = true;
    }
    if (aged) truncated_ = false;  // the window, not the cap, bounds it again
}

TopSnapshot TopWindow::snapshot(size_t rows) const {
    TopSnapshot s;
    s.window_ns = opts_.window_ns;
    s.events = events_.size();
    s.truncated = truncated_;
    Tally ja4, acct, net;
    auto bump = [this](Tally& t, uint64_t id) {
        if (id == 0) return;
        auto [it, fresh] = t.rows.try_emplace(id);
        if (fresh) it->second.key = names_.at(id).text;
        ++it->second.count;
    };
    std::vector<std::pair<uint64_t, uint64_t>> ja4_acct, ja4_net, acct_net;
    for (const Event& e : events_) {
        bump(ja4, e.ja4);
        bump(acct, e.account);
        bump(net, e.network);
        if (e.ja4 && e.account) ja4_acct.emplace_back(e.ja4, e.account);
        if (e.ja4 && e.network) ja4_net.emplace_back(e.ja4, e.network);
        if (e.account && e.network) acct_net.emplace_back(e.account, e.network);
    }
    count_distinct(ja4_acct, ja4, &TopRow::distinct1, acct, &TopRow::distinct1);
    count_distinct(ja4_net, ja4, &TopRow::distinct2, net, &TopRow::distinct2);
    count_distinct(acct_net, acct, &TopRow::distinct2, net, &TopRow::distinct1);
    s.ja4 = top_rows(ja4, rows);
    s.accounts = top_rows(acct, rows);
    s.networks = top_rows(net, rows);
    return s;
}

std::string render_top(const TopSnapshot& s, std::string_view title) {
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "sybilwatch top: %s\nwindow %llds, %llu observations%s\n\n",
                  printable(title, 120).c_str(),
                  static_cast<long long>(s.window_ns / 1'000'000'000),
                  static_cast<unsigned long long>(s.events),
                  s.truncated ? " (cut to the newest: raise --max-events)" : "");
    out += line;
    table(out, "JA4", "ACCOUNTS", "NETWORKS", s.ja4);
    table(out, "ACCOUNT", "JA4S", "NETWORKS", s.accounts);
    table(out, "NETWORK", "ACCOUNTS", "JA4S", s.networks);
    return out;
}

}  // namespace sybilwatch::shm
