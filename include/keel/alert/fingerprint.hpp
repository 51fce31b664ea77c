// keel/alert/fingerprint.hpp
//
// Fingerprinting decides which error events are "the same problem" and so
// belong to one group, the way Sentry groups issues: an explicit fingerprint
// if the event carries one, else service + code + the message with its
// variable parts masked + the top in-app stack frame.
//
//   normalize_message("user 42 not found at 10.0.0.7 (id 3f2a...-...)")
//       == "user <num> not found at <ip> (id <uuid>)"
//   std::string fp = keel::alert::fingerprint(event);   // 32 hex characters
//
// Masked: UUIDs <uuid>, e-mail addresses <email>, IPv4/IPv6 addresses <ip>,
// 0x-prefixed or long (≥ 8) hex runs containing a digit <hex>, numbers
// <num>, and quoted strings ('…', "…", `…`) <str>. The scan is one pass with
// no regex.
//
// Thread safety: pure functions. Cost: linear in the message; one SHA-256 of
// the parts for the fingerprint.
#pragma once

#include <string>
#include <string_view>

#include "keel/alert/event.hpp"

namespace keel::alert {

// The message with its variable parts masked (see above).
std::string normalize_message(std::string_view message);

// Appends the normalized message to `out` (no allocation once `out` has room).
void normalize_message(std::string_view message, std::string& out);

// The group key of `e`: the explicit fingerprint's hash, else the hash of
// service, code, normalized message and top in-app frame (function and file,
// not the line, which moves with unrelated edits). 32 lowercase hex chars.
std::string fingerprint(const error_event& e);

}  // namespace keel::alert
