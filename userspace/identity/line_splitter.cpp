#include "identity/line_splitter.hpp"

#include <cstring>

namespace sybilwatch::identity {

size_t LineSplitter::deliver(std::string_view line, LineSink& sink) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return 0;  // blank lines carry nothing
    if (line.size() > max_line_) {
        sink.on_line_too_long();
        return 0;
    }
    sink.on_line(line);
    return 1;
}

size_t LineSplitter::feed(std::string_view bytes, LineSink& sink) {
    size_t lines = 0;
    while (!bytes.empty()) {
        const void* nl = std::memchr(bytes.data(), '\n', bytes.size());
        const size_t len =
            nl ? static_cast<size_t>(static_cast<const char*>(nl) - bytes.data()) : bytes.size();
        const std::string_view piece = bytes.substr(0, len);
        if (skipping_) {
            if (nl) skipping_ = false;
        } else if (!nl) {
            // An unfinished line: keep it, unless it has grown past the cap (+1 for a '\r').
            if (partial_.size() + piece.size() > max_line_ + 1) {
                partial_.clear();
                skipping_ = true;
                sink.on_line_too_long();
            } else {
                partial_.append(piece);
            }
        } else if (partial_.empty()) {
            lines += deliver(piece, sink);
        } else {
            if (partial_.size() + piece.size() > max_line_ + 1) {
                sink.on_line_too_long();
            } else {
                partial_.append(piece);
                lines += deliver(partial_, sink);
            }
            partial_.clear();
        }
        bytes.remove_prefix(nl ? len + 1 : len);
    }
    return lines;
}

size_t LineSplitter::finish(LineSink& sink) {
    size_t n = 0;
    if (!skipping_ && !partial_.empty()) n = deliver(partial_, sink);
    reset();
    return n;
}

void LineSplitter::reset() {
    partial_.clear();
    skipping_ = false;
}

void LineSplitter::skip_to_newline() {
    partial_.clear();
    skipping_ = true;
}

}  // namespace sybilwatch::identity
