// Fixed-size byte buffers handed out from a bounded pool. Reassembly needs a buffer only for the
// few handshakes that span several segments; pooling keeps that off the allocator in steady
// state and puts a hard cap on the memory all flows together can hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace sybilwatch::net {

class BufferPool {
  public:
    BufferPool(size_t buffer_size, size_t max_buffers) : size_(buffer_size), max_(max_buffers) {}
    BufferPool(const BufferPool&) = delete;
    BufferPool& operator=(const BufferPool&) = delete;

    // RAII: returns its buffer to the pool when destroyed. Empty when the pool was exhausted.
    class Handle {
      public:
        Handle() = default;
        Handle(Handle&& o) noexcept : pool_(o.pool_), buf_(std::move(o.buf_)) { o.pool_ = nullptr; }
        Handle& operator=(Handle&& o) noexcept {
            if (this != &o) {
                reset();
                pool_ = o.pool_;
                buf_ = std::move(o.buf_);
                o.pool_ = nullptr;
            }
            return *this;
        }
        ~Handle() { reset(); }
        explicit operator bool() const { return buf_ != nullptr; }
        std::span<uint8_t> data() { return {buf_.get(), buf_ ? pool_->size_ : 0}; }
        std::span<const uint8_t> data() const { return {buf_.get(), buf_ ? pool_->size_ : 0}; }
        void reset() {
            if (buf_ && pool_) pool_->put(std::move(buf_));
            buf_.reset();
            pool_ = nullptr;
        }

      private:
        friend class BufferPool;
        Handle(BufferPool* p, std::unique_ptr<uint8_t[]> b) : pool_(p), buf_(std::move(b)) {}
        BufferPool* pool_ = nullptr;
        std::unique_ptr<uint8_t[]> buf_;
    };

    Handle acquire() {
        if (!free_.empty()) {
            auto b = std::move(free_.back());
            free_.pop_back();
            ++in_use_;
            return Handle(this, std::move(b));
        }
        if (allocated_ >= max_) {
            ++exhausted_;
            return {};
        }
        ++allocated_;
        ++in_use_;
        return Handle(this, std::make_unique_for_overwrite<uint8_t[]>(size_));
    }

    size_t buffer_size() const { return size_; }
    size_t in_use() const { return in_use_; }
    size_t allocated() const { return allocated_; }
    uint64_t exhausted() const { return exhausted_; }

  private:
    void put(std::unique_ptr<uint8_t[]> b) {
        --in_use_;
        free_.push_back(std::move(b));
    }
    size_t size_;
    size_t max_;
    size_t allocated_ = 0;
    size_t in_use_ = 0;
    uint64_t exhausted_ = 0;
    std::vector<std::unique_ptr<uint8_t[]>> free_;
};

}  // namespace sybilwatch::net
