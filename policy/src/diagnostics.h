// Error collection and typed reading of yaml-cpp nodes for the policy parser
// (internal). The parser reports every problem in a file, not just the first:
// each check adds a located error to Diagnostics and carries on with what it
// could read.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/policy/policy.h"

namespace edgeward::policy::internal {

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  // "FILE:LINE:COL: field FIELD: TEXT"; `field` empty drops "field FIELD: ".
  void Add(const YAML::Mark& mark, std::string_view field, std::string_view text);
  void Add(const SourceLocation& where, std::string_view field, std::string_view text);

  SourceLocation Where(const YAML::Mark& mark) const;
  const std::string& file() const { return file_; }
  bool empty() const { return errors_.empty(); }
  size_t count() const { return errors_.size(); }
  // Suggestions cost a scan of every name; once the report is full, skip them.
  bool WantSuggestions() const { return errors_.size() < kMaxReported; }

  // kInvalidArgument with every error, one per line, in file order (at most
  // kMaxReported, then a count of the rest).
  Status ToStatus() const;

  static constexpr size_t kMaxReported = 100;

  // Counts values read (list items and map entries). Aliases let a small file
  // name the same large list many times, so work is bounded by this budget,
  // not by the file size: past kMaxValues one error is added and readers
  // return nothing more.
  bool Spend(const YAML::Mark& mark, size_t n);
  static constexpr size_t kMaxValues = 20000;

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

// "a.b", "a[3]".
std::string Field(std::string_view parent, std::string_view key);
std::string Index(std::string_view parent, size_t i);

// "'x'" or "'x' (did you mean 'y'?)".
std::string WithSuggestion(std::string_view word, std::string_view suggestion);

// A YAML mapping read once: checks that `node` is a map, that every key is a
// known scalar (unknown keys get an error with the closest known key) and
// that no key repeats. Missing or null `node` counts as an empty map when
// `allow_null`.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, std::vector<std::string_view> known,
            Diagnostics& diag);

  bool is_map() const { return is_map_; }
  // The value for `key`, or nullopt when absent.
  std::optional<YAML::Node> Get(std::string_view key) const;
  // Like Get, but a missing key is an error at the map's location.
  std::optional<YAML::Node> Required(std::string_view key) const;
  std::string Path(std::string_view key) const { return Field(path_, key); }
  const YAML::Mark& mark() const { return mark_; }

 private:
  std::string path_;
  YAML::Mark mark_;
  bool is_map_ = false;
  Diagnostics& diag_;
  std::vector<std::pair<std::string, YAML::Node>> entries_;
};

// A non-null scalar's text; otherwise an error and nullopt.
std::optional<std::string> ReadString(const YAML::Node& node, std::string_view path, Diagnostics& diag);

// The items of a sequence; null counts as empty; anything else is an error.
std::vector<YAML::Node> ReadSequence(const YAML::Node& node, std::string_view path, Diagnostics& diag);

// An unsigned integer (decimal or 0x hex) in [min, max].
std::optional<uint64_t> ReadUint(const YAML::Node& node, std::string_view path, uint64_t min,
                                 uint64_t max, Diagnostics& diag);

// Decimal or 0x-hex unsigned text → value; nullopt on anything else.
std::optional<uint64_t> ParseUintText(std::string_view text);

}  // namespace edgeward::policy::internal
