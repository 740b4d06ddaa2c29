// Role: what a caller may do (API.md "Authentication"). Roles nest:
// admin ⊃ write ⊃ read; kNone marks a public route (health checks).
#pragma once

#include <optional>
#include <string_view>

namespace sluice::auth {

enum class Role { kNone = 0, kRead = 1, kWrite = 2, kAdmin = 3 };

/// "read" / "write" / "admin" → Role; nullopt otherwise.
std::optional<Role> ParseRole(std::string_view text);
/// "none", "read", "write", "admin".
std::string_view RoleName(Role role);

}  // namespace sluice::auth
