#include "shm/ring_follower.hpp"

#include "shm/ring_error.hpp"

namespace sybilwatch::shm {

namespace {

bool transient(const RingError& e) {
    return e.code() == RingError::Code::NotFound || e.code() == RingError::Code::NotReady;
}

}  // namespace

RingFollower::RingFollower(std::string_view ring) : ring_(ring), path_(ring_path(ring)) {}

RingFollower::Change RingFollower::refresh() {
    if (!reader_) {
        try {
            reader_.emplace(ring_, Start::Newest);
            return Change::Attached;
        } catch (const RingError& e) {
            if (transient(e)) return Change::None;
            throw;
        }
    }
    if (!reader_->replaced()) return Change::None;
    try {
        // Everything in a new writer's ring was published after we last looked.
        Reader next(ring_, Start::Oldest);
        reader_.emplace(std::move(next));
        closed_reported_ = false;
        return Change::Replaced;
    } catch (const RingError& e) {
        if (!transient(e)) throw;
        if (closed_reported_) return Change::None;
        closed_reported_ = true;
        return Change::Closed;
    }
}

}  // namespace sybilwatch::shm
