// Where the attribution sources deliver what they read: whole lines, and the news that a line
// was too long to hold (its bytes are dropped, the line is still counted).
#pragma once

#include <string_view>

namespace sybilwatch::identity {

class LineSink {
  public:
    virtual ~LineSink() = default;
    // One line without its "\n" (or "\r\n"); never empty. The view is valid during the call.
    virtual void on_line(std::string_view line) = 0;
    // A line longer than the source's cap was dropped.
    virtual void on_line_too_long() = 0;
};

}  // namespace sybilwatch::identity
