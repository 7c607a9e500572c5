// Private helpers shared by the event-log parsers (attest/src/eventlog_*.cc,
// cel_*.cc). Not part of the public API.
#pragma once

#include <cstdint>
#include <string>

#include "edgeward/base/bytes.h"
#include "edgeward/crypto/hash.h"

namespace edgeward::attest::internal {

// A one-line, printable summary of a UEFI event's data for humans (variable
// name, action string, image device path...). Never fails: data that does
// not have the expected structure is summarised by its size.
std::string DescribeUefiEvent(uint32_t type, ByteView event);

// Replaces anything outside printable ASCII with '.', so hostile strings
// can't carry terminal escapes into human output.
std::string Printable(std::string_view s);

}  // namespace edgeward::attest::internal
