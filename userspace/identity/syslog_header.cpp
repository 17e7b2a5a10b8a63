#include "identity/syslog_header.hpp"

namespace sybilwatch::identity {

std::string_view strip_syslog_header(std::string_view msg) {
    if (msg.size() < 3 || msg[0] != '<') return msg;
    size_t i = 1;
    while (i < msg.size() && i <= 4 && msg[i] >= '0' && msg[i] <= '9')
        ++i;
    if (i == 1 || i > 4 || i >= msg.size() || msg[i] != '>') return msg;
    const std::string_view rest = msg.substr(i + 1);
    const size_t brace = rest.find('{');
    return brace == std::string_view::npos ? rest : rest.substr(brace);
}

}  // namespace sybilwatch::identity
