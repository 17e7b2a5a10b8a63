#include "identity/line_splitter.hpp"

#include <gtest/gtest.h>

#include "sinks.hpp"

using namespace sybilwatch::identity;
using sybilwatch::identity::test::Lines;

TEST(LineSplitter, WholeLinesCrLfAndBlankLines) {
    LineSplitter s(100);
    Lines out;
    EXPECT_EQ(s.feed("one\ntwo\r\n\n\r\nthree\n", out), 3u);
    EXPECT_EQ(out.lines, (std::vector<std::string>{"one", "two", "three"}));
    EXPECT_EQ(s.buffered(), 0u);
}

TEST(LineSplitter, SplitAtEveryByte) {
    const std::string text = "{\"a\":1}\r\nsecond line\nthird\n";
    for (size_t cut = 0; cut <= text.size(); ++cut) {
        LineSplitter s(100);
        Lines out;
        s.feed(std::string_view(text).substr(0, cut), out);
        s.feed(std::string_view(text).substr(cut), out);
        EXPECT_EQ(out.lines, (std::vector<std::string>{"{\"a\":1}", "second line", "third"}))
            << cut;
    }
    // And one byte at a time.
    LineSplitter s(100);
    Lines out;
    for (char c : text)
        s.feed(std::string_view(&c, 1), out);
    EXPECT_EQ(out.lines.size(), 3u);
}

TEST(LineSplitter, OverlongLineDroppedOnceStreamContinues) {
    LineSplitter s(8);
    Lines out;
    s.feed("12345678\n", out);   // exactly the cap
    s.feed("123456789\n", out);  // one over, whole in one read
    s.feed("aaaaa", out);
    s.feed("bbbbb", out);  // over the cap while unfinished: reported now
    s.feed("ccccc", out);  // still the same line: not reported again
    s.feed("c\nok\n", out);
    EXPECT_EQ(out.lines, (std::vector<std::string>{"12345678", "ok"}));
    EXPECT_EQ(out.too_long, 2);
    // A partial line that completes over the cap.
    s.feed("12345", out);
    s.feed("6789\nend\n", out);
    EXPECT_EQ(out.too_long, 3);
    EXPECT_EQ(out.lines.back(), "end");
    // The cap applies after the '\r' is removed.
    s.feed("1234", out);
    s.feed("5678\r\n", out);
    EXPECT_EQ(out.lines.back(), "12345678");
    EXPECT_EQ(out.too_long, 3);
}

TEST(LineSplitter, FinishDeliversUnterminatedTail) {
    LineSplitter s(100);
    Lines out;
    s.feed("a\nlast", out);
    EXPECT_EQ(out.lines.size(), 1u);
    EXPECT_EQ(s.finish(out), 1u);
    EXPECT_EQ(out.lines.back(), "last");
    EXPECT_EQ(s.buffered(), 0u);
    EXPECT_EQ(s.finish(out), 0u);
}

TEST(LineSplitter, SkipToNewlineAndReset) {
    LineSplitter s(100);
    Lines out;
    s.skip_to_newline();
    s.feed("tail of an old line\nnew\n", out);
    EXPECT_EQ(out.lines, (std::vector<std::string>{"new"}));
    s.feed("partial", out);
    s.reset();
    s.feed("fresh\n", out);
    EXPECT_EQ(out.lines.back(), "fresh");
}
