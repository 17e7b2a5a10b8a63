#include "alerts/secret.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace sybilwatch::alerts {

Secret::Secret(Secret&& o) noexcept : value_(std::move(o.value_)) {
    wipe(o.value_);
}

Secret& Secret::operator=(Secret&& o) noexcept {
    if (this != &o) {
        wipe(value_);
        value_ = std::move(o.value_);
        wipe(o.value_);
    }
    return *this;
}

void Secret::wipe(std::string& s) {
    // A moved-from short string keeps its bytes in the inline buffer: clear the whole capacity.
    if (s.capacity() > 0) OPENSSL_cleanse(s.data(), s.capacity());
    s.clear();
}

namespace {

void strip_trailing_newlines(std::string& s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
}

bool read_secret_file(const std::string& path, std::string& value, std::string& error,
                      std::vector<std::string>& warnings) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        error = "cannot open secret file " + path + ": " + std::strerror(errno);
        return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        error = "secret file " + path + " is not a regular file";
        return false;
    }
    if (st.st_size > static_cast<off_t>(kMaxSecretFileBytes)) {
        ::close(fd);
        error = "secret file " + path + " is larger than 64 KiB";
        return false;
    }
    if (st.st_mode & S_IROTH) {
        warnings.push_back("secret file " + path +
                           " is readable by every user; restrict it (chmod o-r)");
    }
    value.resize(kMaxSecretFileBytes + 1);
    size_t have = 0;
    while (have < value.size()) {
        const ssize_t n = ::read(fd, value.data() + have, value.size() - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int e = errno;
            ::close(fd);
            error = "cannot read secret file " + path + ": " + std::strerror(e);
            return false;
        }
        if (n == 0) break;
        have += static_cast<size_t>(n);
    }
    ::close(fd);
    if (have > kMaxSecretFileBytes) {
        error = "secret file " + path + " is larger than 64 KiB";
        return false;
    }
    value.resize(have);
    return true;
}

}  // namespace

bool load_secret(const SecretSource& source, Secret& out, std::string& error,
                 std::vector<std::string>& warnings) {
    if (!source.file.empty() && !source.env.empty()) {
        error = "secret: give either a file or an environment variable, not both";
        return false;
    }
    std::string value;
    std::string origin;
    if (!source.file.empty()) {
        if (!read_secret_file(source.file, value, error, warnings)) {
            Secret wipe_on_exit(std::move(value));
            return false;
        }
        origin = "secret file " + source.file;
    } else if (!source.env.empty()) {
        const char* v = std::getenv(source.env.c_str());
        if (v == nullptr) {
            error = "secret: environment variable " + source.env + " is not set";
            return false;
        }
        value = v;
        origin = "environment variable " + source.env;
    } else {
        error = "secret: neither a file nor an environment variable is configured";
        return false;
    }
    strip_trailing_newlines(value);
    Secret loaded(std::move(value));
    if (loaded.empty()) {
        error = origin + " holds an empty secret";
        return false;
    }
    out = std::move(loaded);
    return true;
}

std::string redact(std::string_view text, std::string_view secret) {
    std::string out(text);
    if (secret.empty()) return out;
    // Also catch a truncated copy (e.g. a URL cut at a length limit) once it is long enough
    // not to match ordinary words.
    const size_t min_prefix = 8;
    for (std::string_view needle = secret;;) {
        size_t pos = 0;
        while ((pos = out.find(needle, pos)) != std::string::npos) {
            out.replace(pos, needle.size(), "[REDACTED]");
            pos += 10;
        }
        if (needle.size() <= min_prefix) break;
        needle = needle.substr(0, std::max(min_prefix, needle.size() / 2));
    }
    return out;
}

}  // namespace sybilwatch::alerts
