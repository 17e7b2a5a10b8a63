// Cuts a byte stream (a socket connection, a file) into lines with a bounded buffer. Lines that
// arrive whole in one read are passed on in place; only the unfinished tail of a read is
// copied. A line longer than the cap is dropped and reported once, and the stream continues
// with the next line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "identity/line_sink.hpp"

namespace sybilwatch::identity {

class LineSplitter {
  public:
    explicit LineSplitter(size_t max_line) : max_line_(max_line) {}

    // Feeds the next bytes of the stream. Returns the number of lines delivered.
    size_t feed(std::string_view bytes, LineSink& sink);
    // The stream ended: an unterminated last line is delivered as a line.
    size_t finish(LineSink& sink);
    // Drops what is buffered (the stream restarts, e.g. a truncated file).
    void reset();
    // Drops bytes up to the next newline: the stream was joined mid-line.
    void skip_to_newline();

    size_t buffered() const { return partial_.size(); }
    bool skipping() const { return skipping_; }
    size_t max_line() const { return max_line_; }

  private:
    size_t deliver(std::string_view line, LineSink& sink);

    size_t max_line_;
    std::string partial_;    // the line so far; never longer than max_line_
    bool skipping_ = false;  // dropping the rest of a line (too long, or joined mid-line)
};

}  // namespace sybilwatch::identity
