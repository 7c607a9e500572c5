// Marshalling TPM structures to and from the bytes that cross edgeward::tpm's
// API, with Tss2_MU.
#pragma once

#include <tss2/tss2_mu.h>

#include <string>
#include <string_view>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "internal/tss_status.h"

namespace edgeward::tpm::internal {

template <typename T>
using MarshalFn = TSS2_RC (*)(const T*, uint8_t[], size_t, size_t*);
template <typename T>
using UnmarshalFn = TSS2_RC (*)(const uint8_t[], size_t, size_t*, T*);

template <typename T>
StatusOr<Bytes> MarshalWith(std::string_view fn_name, MarshalFn<T> fn, const T& value) {
  // A marshalled structure is never larger than its in-memory form (which
  // reserves every union arm and buffer at its maximum size).
  Bytes out(sizeof(T) + 16);
  size_t offset = 0;
  EW_RETURN_IF_ERROR(TssStatus(fn_name, fn(&value, out.data(), out.size(), &offset)));
  out.resize(offset);
  return out;
}

// Unmarshals exactly `data` (trailing bytes are an error). Errors are
// `code` (the bytes came from outside: kInvalidArgument or kDataLoss) and
// name `what`.
template <typename T>
StatusOr<T> UnmarshalWith(std::string_view fn_name, UnmarshalFn<T> fn, ByteView data, std::string_view what,
                          StatusCode code) {
  T value{};
  size_t offset = 0;
  Status s = TssStatus(fn_name, fn(data.data(), data.size(), &offset, &value));
  if (!s.ok()) return Status(code, std::string(what) + " is malformed: " + s.message());
  if (offset != data.size()) {
    return Status(code, std::string(what) + " has " + std::to_string(data.size() - offset) +
                            " trailing bytes after the structure");
  }
  return value;
}

}  // namespace edgeward::tpm::internal

#define EW_MU_MARSHAL(Type, value) \
  ::edgeward::tpm::internal::MarshalWith<Type>("Tss2_MU_" #Type "_Marshal", Tss2_MU_##Type##_Marshal, (value))
#define EW_MU_UNMARSHAL(Type, data, what, code)                                                             \
  ::edgeward::tpm::internal::UnmarshalWith<Type>("Tss2_MU_" #Type "_Unmarshal", Tss2_MU_##Type##_Unmarshal, \
                                                 (data), (what), (code))
