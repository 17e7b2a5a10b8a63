// Allocation-free views over the lists inside hello messages: 16-bit value lists (cipher
// suites, groups, signature algorithms, versions) and the extensions block. Views never own
// bytes; they stay valid as long as the message bytes do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>

#include "tls/reader.hpp"

namespace sybilwatch::tls {

// Big-endian uint16 values packed back to back. An odd trailing byte is ignored.
class U16List {
  public:
    U16List() = default;
    explicit U16List(std::span<const uint8_t> bytes)
        : bytes_(bytes.first(bytes.size() & ~size_t{1})) {}

    size_t size() const { return bytes_.size() / 2; }
    bool empty() const { return bytes_.empty(); }
    uint16_t operator[](size_t i) const { return load_u16(bytes_.data() + 2 * i); }
    std::span<const uint8_t> bytes() const { return bytes_; }

    class iterator {
      public:
        using iterator_concept = std::forward_iterator_tag;
        using value_type = uint16_t;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        explicit iterator(const uint8_t* p) : p_(p) {}
        uint16_t operator*() const { return load_u16(p_); }
        iterator& operator++() {
            p_ += 2;
            return *this;
        }
        iterator operator++(int) {
            iterator t = *this;
            p_ += 2;
            return t;
        }
        bool operator==(const iterator& o) const { return p_ == o.p_; }

      private:
        const uint8_t* p_ = nullptr;
    };
    iterator begin() const { return iterator(bytes_.data()); }
    iterator end() const { return iterator(bytes_.data() + bytes_.size()); }

  private:
    std::span<const uint8_t> bytes_;
};

struct Extension {
    uint16_t type = 0;
    std::span<const uint8_t> body;  // extension_data, without the type and length
};

// The extensions block of a hello, in wire order. Iteration stops at the first extension that
// does not fit (the hello parsers reject such blocks, so this only matters for hand-made views).
class ExtensionList {
  public:
    ExtensionList() = default;
    explicit ExtensionList(std::span<const uint8_t> block) : block_(block) {}

    class iterator {
      public:
        using iterator_concept = std::forward_iterator_tag;
        using value_type = Extension;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        explicit iterator(std::span<const uint8_t> rest) : rest_(rest) { load(); }
        const Extension& operator*() const { return cur_; }
        const Extension* operator->() const { return &cur_; }
        iterator& operator++() {
            rest_ = rest_.subspan(4 + cur_.body.size());
            load();
            return *this;
        }
        iterator operator++(int) {
            iterator t = *this;
            ++*this;
            return t;
        }
        // All exhausted iterators compare equal, whatever bytes they stopped at.
        bool operator==(const iterator& o) const {
            return (done_ && o.done_) || (!done_ && !o.done_ && rest_.data() == o.rest_.data());
        }

      private:
        void load() {
            Reader r(rest_);
            cur_.type = r.u16();
            cur_.body = r.vec16();
            done_ = !r.ok();
        }
        std::span<const uint8_t> rest_;
        Extension cur_;
        bool done_ = true;
    };
    iterator begin() const { return iterator(block_); }
    iterator end() const { return iterator(); }
    std::span<const uint8_t> bytes() const { return block_; }

  private:
    std::span<const uint8_t> block_;
};

static_assert(std::forward_iterator<U16List::iterator>);
static_assert(std::forward_iterator<ExtensionList::iterator>);

}  // namespace sybilwatch::tls
