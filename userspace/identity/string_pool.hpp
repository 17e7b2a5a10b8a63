// One shared copy of each distinct string that many records repeat (user agents: a handful of
// client builds across a million pending records), instead of a heap copy per record. Entries
// go once no record holds them (swept as the pool grows), so it stays bounded by what is live.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sybilwatch::identity {

class StringPool {
  public:
    using Ref = std::shared_ptr<const std::string>;

    // nullptr for the empty string.
    Ref intern(std::string_view s) {
        if (s.empty()) return nullptr;
        if (const auto it = map_.find(s); it != map_.end())
            if (Ref r = it->second.lock()) return r;
        if (map_.size() >= sweep_at_) sweep();
        Ref r = std::make_shared<const std::string>(s);
        map_.insert_or_assign(std::string(s), r);
        return r;
    }
    size_t size() const { return map_.size(); }

    static std::string_view view(const Ref& r) {
        return r ? std::string_view(*r) : std::string_view();
    }

  private:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    void sweep() {
        std::erase_if(map_, [](const auto& e) { return e.second.expired(); });
        sweep_at_ = std::max<size_t>(1024, 2 * map_.size());
    }

    std::unordered_map<std::string, std::weak_ptr<const std::string>, Hash, std::equal_to<>> map_;
    size_t sweep_at_ = 1024;
};

}  // namespace sybilwatch::identity
