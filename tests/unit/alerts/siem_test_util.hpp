// Helpers for the network transport tests: scratch directories, child processes that are killed
// on every exit path, free loopback ports, test certificates made with the openssl tool, an
// RFC 5424 parser to check frames independently of the code that builds them, and the
// skip-or-fail rule for missing tools (a skip is a failure when CI=true).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "rules/finding.hpp"

namespace sybilwatch::alerts::test {

inline bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::string_view(ci) == "true";
}

// A missing peer (rsyslogd, python3, openssl) skips the test, except in CI where it fails.
#define SW_SKIP_OR_FAIL(msg)                                                   \
    do {                                                                       \
        if (::sybilwatch::alerts::test::in_ci()) FAIL() << "CI=true: " << msg; \
        GTEST_SKIP() << msg;                                                   \
    } while (0)

inline bool executable(const std::string& path) {
    return ::access(path.c_str(), X_OK) == 0;
}

// The first `name` on PATH, or empty.
inline std::string find_on_path(std::string_view name) {
    const char* path = std::getenv("PATH");
    std::stringstream ss(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        const std::string p = dir + "/" + std::string(name);
        if (!dir.empty() && executable(p)) return p;
    }
    return {};
}

class TempDir {
  public:
    TempDir() {
        std::string tmpl = "/tmp/sw-alerts-XXXXXX";
        if (!::mkdtemp(tmpl.data())) std::abort();
        path_ = tmpl;
        ::chmod(path_.c_str(), 0755);  // rsyslog may drop privileges; keep it readable
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

inline void write_file(const std::string& path, std::string_view text, mode_t mode = 0644) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    ::chmod(path.c_str(), mode);
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::vector<std::string> read_lines(const std::string& path) {
    std::vector<std::string> out;
    std::ifstream in(path, std::ios::binary);
    std::string line;
    while (std::getline(in, line))
        out.push_back(line);
    return out;
}

inline bool wait_until(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
}

// A child process in its own process group; SIGTERM, then SIGKILL, on destruction.
class ChildProcess {
  public:
    ChildProcess(const std::vector<std::string>& argv, const std::string& log_path) {
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            ::execv(args[0], args.data());
            ::_exit(127);
        }
    }
    ~ChildProcess() { stop(); }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    bool running() {
        if (pid_ <= 0) return false;
        int st = 0;
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        return true;
    }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 100; ++i) {
            int st = 0;
            if (::waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
        pid_ = -1;
    }

  private:
    pid_t pid_ = -1;
};

// A loopback port nothing listens on right now (the kernel's pick for an ephemeral bind).
inline uint16_t free_port(int type = SOCK_STREAM) {
    const int fd = ::socket(AF_INET, type, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    socklen_t len = sizeof(sa);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    ::close(fd);
    return ntohs(sa.sin_port);
}

inline bool tcp_port_open(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
    ::close(fd);
    return ok;
}

inline bool run(const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
}

// Test PKI in `dir`: ca.pem/ca.key, server.pem/server.key (CN=localhost, SAN DNS:localhost,
// IP:127.0.0.1, IP:::1), client.pem/client.key, and an unrelated other-ca.pem.
inline bool make_test_pki(const std::string& openssl, const std::string& dir) {
    const std::string o = openssl;
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    auto leaf = [&](const std::string& name, const std::string& cn, const std::string& ext) {
        write_file(dir + "/" + name + ".ext", ext);
        return run(o + " req -new" + ec + " -keyout " + dir + "/" + name + ".key -out " + dir +
                   "/" + name + ".csr -subj /CN=" + cn) &&
               run(o + " x509 -req -days 2 -in " + dir + "/" + name + ".csr -CA " + dir +
                   "/ca.pem -CAkey " + dir + "/ca.key -CAcreateserial -out " + dir + "/" + name +
                   ".pem -extfile " + dir + "/" + name + ".ext");
    };
    return run(o + " req -x509 -days 2" + ec + " -keyout " + dir + "/ca.key -out " + dir +
               "/ca.pem -subj /CN=sybilwatch-test-ca -addext basicConstraints=critical,CA:TRUE "
               "-addext keyUsage=critical,keyCertSign,cRLSign") &&
           run(o + " req -x509 -days 2" + ec + " -keyout " + dir + "/other-ca.key -out " + dir +
               "/other-ca.pem -subj /CN=unrelated-ca -addext basicConstraints=critical,CA:TRUE") &&
           leaf("server", "localhost",
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage="
                "serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n") &&
           leaf("client", "sybilwatch-edge",
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage="
                "clientAuth\n");
}

// An RFC 5424 SYSLOG-MSG split into its parts; nullopt when it does not follow the ABNF of
// section 6 (PRI range, VERSION 1, header fields PRINTUSASCII within their lengths, SD "-" or
// bracketed, a full-date/time TIMESTAMP).
struct Rfc5424 {
    unsigned pri = 0;
    std::string timestamp, hostname, app_name, procid, msgid, sd, msg;
};

inline std::optional<Rfc5424> parse_rfc5424(std::string_view s) {
    Rfc5424 r;
    if (s.size() < 3 || s[0] != '<') return std::nullopt;
    size_t i = 1;
    size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 4) {
        r.pri = r.pri * 10 + static_cast<unsigned>(s[i] - '0');
        ++i;
        ++digits;
    }
    if (digits == 0 || digits > 3 || r.pri > 191 || i >= s.size() || s[i] != '>')
        return std::nullopt;
    if (digits > 1 && s[1] == '0') return std::nullopt;  // no leading zeros
    s.remove_prefix(i + 1);
    if (!s.starts_with("1 ")) return std::nullopt;
    s.remove_prefix(2);
    auto field = [&s](size_t max, std::string& out) {
        const size_t sp = s.find(' ');
        if (sp == std::string_view::npos || sp == 0 || sp > max) return false;
        out = std::string(s.substr(0, sp));
        for (const char c : out) {
            if (static_cast<unsigned char>(c) < 33 || static_cast<unsigned char>(c) > 126)
                return false;
        }
        s.remove_prefix(sp + 1);
        return true;
    };
    if (!field(64, r.timestamp) || !field(255, r.hostname) || !field(48, r.app_name) ||
        !field(128, r.procid) || !field(32, r.msgid))
        return std::nullopt;
    // TIMESTAMP: "-" or YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)
    if (r.timestamp != "-") {
        const std::string& t = r.timestamp;
        if (t.size() < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
            t[16] != ':')
            return std::nullopt;
        size_t k = 19;
        if (t[k] == '.') {
            size_t f = 0;
            ++k;
            while (k < t.size() && t[k] >= '0' && t[k] <= '9') {
                ++k;
                ++f;
            }
            if (f == 0 || f > 6) return std::nullopt;
        }
        const std::string_view zone = std::string_view(t).substr(k);
        if (zone != "Z" &&
            !(zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':'))
            return std::nullopt;
    }
    if (s.starts_with("-")) {
        r.sd = "-";
        s.remove_prefix(1);
    } else if (s.starts_with("[")) {
        // Enough for these tests: SD elements end at an unescaped ']' not followed by '['.
        size_t k = 0;
        bool esc = false;
        for (; k < s.size(); ++k) {
            if (esc) {
                esc = false;
            } else if (s[k] == '\\') {
                esc = true;
            } else if (s[k] == ']' && (k + 1 == s.size() || s[k + 1] != '[')) {
                break;
            }
        }
        if (k == s.size()) return std::nullopt;
        r.sd = std::string(s.substr(0, k + 1));
        s.remove_prefix(k + 1);
    } else {
        return std::nullopt;
    }
    if (s.empty()) return r;
    if (s[0] != ' ') return std::nullopt;
    r.msg = std::string(s.substr(1));
    return r;
}

// A farm finding as the rules engine raises it: 3 accounts sharing one JA4 from one /24.
inline rules::Finding sample_finding(rules::Severity sev = rules::Severity::High) {
    rules::Finding f;
    f.finding_id = "shared-client-stack:t13d1516h2_8daaf6152771_b0da82dd1658";
    f.revision = 2;
    f.activity = rules::FindingActivity::Update;
    f.rule = "shared-client-stack";
    f.kind = "link";
    f.title = "Accounts share one automated TLS client stack";
    f.output = "3 accounts share ja4 t13d1516h2_8daaf6152771_b0da82dd1658";
    f.severity = sev;
    f.tags = {"farm", "ja4"};
    f.group = {{"ja4", "t13d1516h2_8daaf6152771_b0da82dd1658"}};
    f.account_count = 3;
    f.accounts = {"acct-1001", "acct-1002", "acct-1003"};
    f.keys = {{"ja4", "t13d1516h2_8daaf6152771_b0da82dd1658", 3}};
    f.networks = {{"net24", "203.0.113.0/24", 3}};
    f.client_stacks = {{"ja4", "t13d1516h2_8daaf6152771_b0da82dd1658", 3}};
    f.observations = 42;
    f.requests = 420;
    f.first_seen_ns = 1'712'345'600'000'000'000;
    f.last_seen_ns = 1'712'349'200'000'000'000;
    f.emitted_ns = f.last_seen_ns;
    return f;
}

}  // namespace sybilwatch::alerts::test
