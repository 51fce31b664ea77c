#include "keel/core/context.hpp"

#include <algorithm>

namespace keel {
namespace {
// The innermost scope's handle on this thread; the scope owns the context.
thread_local const context_ptr* t_current = nullptr;
}  // namespace

const std::string* request_context::field(std::string_view key) const noexcept {
  for (const auto& [k, v] : fields) {
    if (k == key) return &v;
  }
  return nullptr;
}

const request_context* current_context() noexcept { return t_current ? t_current->get() : nullptr; }

context_ptr capture_context() noexcept { return t_current ? *t_current : nullptr; }

context_ptr merge_context(const request_context* base, const request_context& overlay) {
  auto merged =
      base ? std::make_shared<request_context>(*base) : std::make_shared<request_context>();
  if (!overlay.request_id.empty()) merged->request_id = overlay.request_id;
  if (overlay.trace.is_valid()) merged->trace = overlay.trace;
  if (!overlay.user_id.empty()) merged->user_id = overlay.user_id;
  for (const auto& [k, v] : overlay.fields) {
    auto it = std::find_if(merged->fields.begin(), merged->fields.end(),
                           [&](const auto& f) { return f.first == k; });
    if (it != merged->fields.end()) {
      it->second = v;
    } else {
      merged->fields.emplace_back(k, v);
    }
  }
  return merged;
}

context_scope::context_scope(context_ptr ctx) noexcept
    : ctx_(std::move(ctx)), previous_(t_current) {
  t_current = &ctx_;
}

context_scope::context_scope(const request_context& overlay)
    : ctx_(merge_context(current_context(), overlay)), previous_(t_current) {
  t_current = &ctx_;
}

context_scope::~context_scope() { t_current = previous_; }

context_slot_scope::context_slot_scope(const context_ptr* slot) noexcept : previous_(t_current) {
  t_current = slot;
}

context_slot_scope::~context_slot_scope() { t_current = previous_; }

}  // namespace keel
