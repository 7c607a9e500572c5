// Private: a bounds-checked big-endian reader for TPM marshalled structures.
// Every read names the structure and field, so an error says exactly what
// was being decoded and where ("TPMS_ATTEST.extraData: ... at offset 12").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"

namespace edgeward::attest::wire {

class Reader {
 public:
  explicit Reader(ByteView data, size_t base_offset = 0) : data_(data), base_(base_offset) {}

  size_t offset() const { return base_ + pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool done() const { return pos_ == data_.size(); }

  Status Error(std::string_view field, std::string_view problem) const {
    return Error(field, problem, offset());
  }
  static Status Error(std::string_view field, std::string_view problem, size_t at) {
    std::string m;
    m.reserve(field.size() + problem.size() + 24);
    m.append(field).append(": ").append(problem).append(" at offset ").append(std::to_string(at));
    return InvalidArgument(std::move(m));
  }

  Status U8(std::string_view field, uint8_t& v) {
    if (remaining() < 1) return Truncated(field, 1);
    v = data_[pos_++];
    return Status::Ok();
  }
  Status U16(std::string_view field, uint16_t& v) {
    if (remaining() < 2) return Truncated(field, 2);
    v = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return Status::Ok();
  }
  Status U32(std::string_view field, uint32_t& v) {
    if (remaining() < 4) return Truncated(field, 4);
    v = (uint32_t{data_[pos_]} << 24) | (uint32_t{data_[pos_ + 1]} << 16) | (uint32_t{data_[pos_ + 2]} << 8) |
        uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    return Status::Ok();
  }
  Status U64(std::string_view field, uint64_t& v) {
    uint32_t hi = 0, lo = 0;
    if (remaining() < 8) return Truncated(field, 8);
    EW_RETURN_IF_ERROR(U32(field, hi));
    EW_RETURN_IF_ERROR(U32(field, lo));
    v = (uint64_t{hi} << 32) | lo;
    return Status::Ok();
  }
  // n raw bytes.
  Status Raw(std::string_view field, size_t n, Bytes& out) {
    if (remaining() < n) return Truncated(field, n);
    out.assign(data_.begin() + pos_, data_.begin() + pos_ + n);
    pos_ += n;
    return Status::Ok();
  }
  Status RawView(std::string_view field, size_t n, ByteView& out) {
    if (remaining() < n) return Truncated(field, n);
    out = data_.subspan(pos_, n);
    pos_ += n;
    return Status::Ok();
  }
  // A TPM2B: UINT16 size (≤ max), then that many bytes.
  Status Tpm2b(std::string_view field, size_t max, Bytes& out) {
    const size_t at = offset();
    uint16_t size = 0;
    EW_RETURN_IF_ERROR(U16(field, size));
    if (size > max) {
      return Error(field, "size " + std::to_string(size) + " exceeds the maximum " + std::to_string(max), at);
    }
    return Raw(field, size, out);
  }
  Status Skip(std::string_view field, size_t n) {
    if (remaining() < n) return Truncated(field, n);
    pos_ += n;
    return Status::Ok();
  }
  Status ExpectEnd(std::string_view structure) const {
    if (done()) return Status::Ok();
    return Error(structure, std::to_string(remaining()) + " trailing bytes after the structure");
  }

 private:
  Status Truncated(std::string_view field, size_t want) const {
    return Error(field, "truncated: need " + std::to_string(want) + " bytes, " + std::to_string(remaining()) +
                            " left");
  }

  ByteView data_;
  size_t base_;
  size_t pos_ = 0;
};

}  // namespace edgeward::attest::wire
