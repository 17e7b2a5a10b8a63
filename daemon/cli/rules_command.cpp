// sybilwatch rules check [--json] PATH...: loads rule files and directories as the daemon
// would and reports every problem, so a rule pack is checked before it is deployed.
#include <getopt.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "rules/rule_loader.hpp"

namespace sybilwatch::cli {

namespace {

void usage(FILE* out) {
    std::fputs(
        "usage: sybilwatch rules check [--json] PATH...\n"
        "\n"
        "Validates rule files and directories (their *.yaml and *.yml files, by name), loaded\n"
        "together in the order given: lists and macros are shared across them. Every problem\n"
        "is printed as FILE:LINE:COLUMN: rule ID: message.\n"
        "\n"
        "options:\n"
        "  --json   one JSON object: {\"valid\", \"files\", \"rules\", \"enabled\", \"lists\",\n"
        "           \"macros\", \"errors\": [{\"file\", \"line\", \"column\", \"item\", \"name\",\n"
        "           \"message\"}]}\n"
        "\n"
        "exit status: 0 valid; 1 errors found; 2 usage error\n",
        out);
}

}  // namespace

int rules_command(int argc, char** argv) {
    if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (std::string_view(argv[1]) != "check") {
        std::fprintf(stderr, "sybilwatch rules: unknown subcommand '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    bool json = false;
    static const option opts[] = {
        {"json", no_argument, nullptr, 'j'},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    --argc, ++argv;  // argv[0] is now "check"
    for (int c; (c = getopt_long(argc, argv, "h", opts, nullptr)) != -1;) {
        if (c == 'j') {
            json = true;
        } else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const std::vector<std::string> paths(argv + optind, argv + argc);
    const rules::LoadResult r = rules::load_rules(paths);
    size_t enabled = 0;
    for (const rules::RuleSpec& s : r.rules.rules())
        enabled += s.enabled;
    if (json) {
        nlohmann::json out;
        out["valid"] = r.ok();
        out["files"] = r.rules.files();
        out["rules"] = r.rules.rules().size();
        out["enabled"] = enabled;
        out["lists"] = r.rules.list_count();
        out["macros"] = r.rules.macro_count();
        out["errors"] = nlohmann::json::array();
        for (const rules::Diagnostic& d : r.errors)
            out["errors"].push_back({{"file", d.file},
                                     {"line", d.line},
                                     {"column", d.column},
                                     {"item", d.item},
                                     {"name", d.name},
                                     {"message", d.message}});
        // Rule files may hold any bytes; replace invalid UTF-8 rather than throw.
        std::puts(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
        for (const rules::Diagnostic& d : r.errors)
            std::printf("%s\n", d.to_string().c_str());
        if (r.ok())
            std::printf("ok: %zu rules (%zu enabled), %zu lists, %zu macros in %zu files\n",
                        r.rules.rules().size(), enabled, r.rules.list_count(),
                        r.rules.macro_count(), r.rules.files().size());
        else
            std::printf("%zu error%s\n", r.errors.size(), r.errors.size() == 1 ? "" : "s");
    }
    return r.ok() ? 0 : 1;
}

}  // namespace sybilwatch::cli
