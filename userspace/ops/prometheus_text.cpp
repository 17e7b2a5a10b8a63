#include "ops/prometheus_text.hpp"

#include <cmath>
#include <cstdio>

namespace sybilwatch::ops {

namespace {

// HELP text escapes backslash and newline; label values also escape the double quote.
void escape(std::string& out, std::string_view s, bool quote) {
    for (const char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (quote && c == '"') {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

void number(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
    } else if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
    } else if (v == std::trunc(v) && std::fabs(v) < 9.007199254740992e15) {
        // Counters are integers: print them exactly, not in exponent form.
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.0f", v);
        out += buf;
    } else {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        out += buf;
    }
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    escape(out_, help, false);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
}

void PrometheusText::sample(std::string_view name, double value, std::span<const Label> labels) {
    out_ += name;
    if (!labels.empty()) {
        out_ += '{';
        bool first = true;
        for (const auto& [k, v] : labels) {
            if (!first) out_ += ',';
            first = false;
            out_ += k;
            out_ += "=\"";
            escape(out_, v, true);
            out_ += '"';
        }
        out_ += '}';
    }
    out_ += ' ';
    number(out_, value);
    out_ += '\n';
}

}  // namespace sybilwatch::ops
