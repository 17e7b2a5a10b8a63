#include "rules/finding.hpp"

namespace sybilwatch::rules {

const char* to_string(Severity s) {
    switch (s) {
        case Severity::Info:
            return "info";
        case Severity::Low:
            return "low";
        case Severity::Medium:
            return "medium";
        case Severity::High:
            return "high";
        case Severity::Critical:
            return "critical";
    }
    return "medium";
}

const char* to_string(FindingActivity a) {
    switch (a) {
        case FindingActivity::Create:
            return "create";
        case FindingActivity::Update:
            return "update";
        case FindingActivity::Close:
            return "close";
    }
    return "create";
}

}  // namespace sybilwatch::rules
