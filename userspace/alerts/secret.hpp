// Secrets for network sinks (HEC token, webhook HMAC key): loaded from a file or from an
// environment variable named in the config, held in a move-only type that wipes its memory and
// has no way to be printed by accident; redact() scrubs them from error text before it is logged.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sybilwatch::alerts {

// Where a secret comes from: exactly one of `file` (a path) or `env` (a variable's name).
struct SecretSource {
    std::string file;
    std::string env;

    static SecretSource from_file(std::string path) { return {std::move(path), {}}; }
    static SecretSource from_env(std::string name) { return {{}, std::move(name)}; }
};

class Secret {
  public:
    Secret() = default;
    explicit Secret(std::string value) : value_(std::move(value)) {}
    ~Secret() { wipe(value_); }
    Secret(Secret&& o) noexcept;
    Secret& operator=(Secret&& o) noexcept;
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;

    // Named so that every use of the plain value is easy to find in review.
    std::string_view reveal() const { return value_; }
    bool empty() const { return value_.empty(); }

  private:
    static void wipe(std::string& s);
    std::string value_;
};

// Files larger than this are not secrets but a misconfiguration (e.g. a path to a log file).
inline constexpr size_t kMaxSecretFileBytes = 64 * 1024;

// Loads the secret; trailing CR/LF are stripped (files written by `echo` end in one). Returns
// false with `error` set when the source is missing, unreadable, empty or ambiguous. A file
// readable by others is loaded but reported in `warnings` (refusing it would break mounts such
// as Kubernetes secrets with mode 0644 while adding little: the operator is told to fix it).
bool load_secret(const SecretSource& source, Secret& out, std::string& error,
                 std::vector<std::string>& warnings);

// `text` with every occurrence of `secret` replaced by "[REDACTED]" (and of its first
// characters when they are long enough to matter, for errors that cut the value short).
std::string redact(std::string_view text, std::string_view secret);

}  // namespace sybilwatch::alerts
