// Located error collection and typed yaml-cpp reads for the workload parser
// (internal to the daemon library). Every problem in a file is reported, not
// just the first: each check adds "FILE:LINE:COL: field F: text" and the
// parser carries on with what it could read.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgeward/base/status.h"

namespace edgeward::daemon::workload_internal {

class WorkloadDiag {
 public:
  explicit WorkloadDiag(std::string file) : file_(std::move(file)) {}

  void Add(const YAML::Mark& mark, std::string_view field, std::string_view text);
  void Add(int line, int column, std::string_view field, std::string_view text);
  bool empty() const { return errors_.empty(); }
  const std::string& file() const { return file_; }
  // kInvalidArgument, errors in file order, at most kMaxReported.
  Status ToStatus() const;
  // Bounds the work aliases can cause: past kMaxValues one error, then no more reads.
  bool Spend(const YAML::Mark& mark, size_t n);

  static constexpr size_t kMaxReported = 50;
  static constexpr size_t kMaxValues = 5000;

 private:
  struct Error {
    int line;
    int column;
    size_t seq;
    std::string text;
  };
  std::string file_;
  std::vector<Error> errors_;
  size_t spent_ = 0;
  bool over_budget_ = false;
};

// Levenshtein distance, capped; the candidate within max(1, min(2, |w|/3)), or "".
std::string_view Closest(std::string_view word, const std::vector<std::string_view>& candidates);
// "'x'" or "'x' (did you mean 'y'?)", user text made printable and short.
std::string Quoted(std::string_view word, std::string_view suggestion = {});
std::string FieldPath(std::string_view parent, std::string_view key);
std::string IndexPath(std::string_view parent, size_t i);

// A mapping read once: unknown keys (with a suggestion) and duplicates are
// errors; a null node is an empty map.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, std::vector<std::string_view> known, WorkloadDiag& diag);
  bool is_map() const { return is_map_; }
  std::optional<YAML::Node> Get(std::string_view key) const;
  std::optional<YAML::Node> Required(std::string_view key) const;
  std::string Path(std::string_view key) const { return FieldPath(path_, key); }

 private:
  std::string path_;
  YAML::Mark mark_;
  bool is_map_ = false;
  WorkloadDiag& diag_;
  std::vector<std::pair<std::string, YAML::Node>> entries_;
};

std::optional<std::string> ReadScalar(const YAML::Node& node, std::string_view path, WorkloadDiag& diag);
std::vector<YAML::Node> ReadList(const YAML::Node& node, std::string_view path, WorkloadDiag& diag);
std::optional<int64_t> ReadInt(const YAML::Node& node, std::string_view path, int64_t min, int64_t max,
                               WorkloadDiag& diag);

}  // namespace edgeward::daemon::workload_internal
