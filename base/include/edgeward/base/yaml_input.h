// Located diagnostics for YAML input files (target edgeward::yaml_input, which
// links yaml-cpp; edgeward::base itself does not). Shared by the policy
// parser, the workload parser and the agent config parser.
//
// A parser of outside input reports every problem in a file, not just the
// first: each check adds "FILE:LINE:COL: field PATH: text" to a Diagnostics
// and carries on with what it could read; at the end ToStatus() turns the
// list into one kInvalidArgument, errors in file order. The readers below
// (MapReader, ReadString, ReadSequence, ReadUint, ReadInt) do the common
// checks — unknown keys with a did-you-mean suggestion, duplicate keys, type
// and range errors — and add their errors to the Diagnostics they are given.
// Given valid (not zombie) nodes, the readers report instead of throwing;
// yaml-cpp's parse exceptions (YAML::Load) stay the caller's to catch.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgeward/base/status.h"

namespace edgeward::yaml_input {

// A 1-based line and column; 0 when unknown.
struct Position {
  int line = 0;
  int column = 0;
};

// yaml-cpp marks are 0-based; a null mark (-1) becomes 0, "unknown".
Position PositionOf(const YAML::Mark& mark);

// How one kind of file words and bounds its report. The defaults are the
// policy parser's.
struct Dialect {
  // Names the file kind in "<kind> too large: more than N values ...".
  std::string_view kind = "policy";
  // ToStatus() shows at most this many errors, then "FILE: N more errors not shown".
  size_t max_reported = 100;
  // Values (map entries, list items) the readers may visit; see Spend().
  size_t max_values = 20000;
  // "unknown key 'x'" or, with "field", "unknown field 'x'".
  std::string_view unknown_key_noun = "key";
  // An unknown key with no close match lists the known keys: " (known: a, b)".
  bool list_known_keys = false;
  // Suggestions within max(1, min(this, |word|/3)) edits.
  size_t max_suggestion_distance = 2;
  // MapReader::Required: "missing required key 'k'" (true) or "missing (required)".
  bool name_missing_key = true;

  static constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();
};

// The errors found in one file. Not thread-safe; one per parse.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file, Dialect dialect = {})
      : file_(std::move(file)), dialect_(dialect) {}

  // "FILE:LINE:COL: field FIELD: TEXT"; an empty `field` drops "field FIELD: ".
  void Add(const YAML::Mark& mark, std::string_view field, std::string_view text);
  void Add(int line, int column, std::string_view field, std::string_view text);

  const std::string& file() const { return file_; }
  const Dialect& dialect() const { return dialect_; }
  bool empty() const { return errors_.empty(); }
  size_t count() const { return errors_.size(); }
  // Suggestions cost a scan of every name; once the report is full, skip them.
  bool WantSuggestions() const { return errors_.size() < dialect_.max_reported; }

  // Ok when empty; else kInvalidArgument with every error, one per line,
  // sorted by line then column then insertion (at most max_reported, then a
  // count of the rest).
  Status ToStatus() const;

  // Counts `n` values read. Aliases let a small file name the same large list
  // many times, so work is bounded by this budget, not by the file size: past
  // max_values one error is added at `mark` and Spend returns false from then
  // on (the readers then return nothing more).
  bool Spend(const YAML::Mark& mark, size_t n);

 private:
  struct Error {
    int line;
    int column;
    size_t seq;
    std::string text;
  };
  std::string file_;
  Dialect dialect_;
  std::vector<Error> errors_;
  size_t spent_ = 0;
  bool over_budget_ = false;
};

// Field paths: "a.b" (or "b" under an empty parent), "a[3]".
std::string Field(std::string_view parent, std::string_view key);
std::string Index(std::string_view parent, size_t i);

// User text made safe for a message: bytes outside printable ASCII become
// \xNN, and text past 80 bytes is cut and ends in "...".
std::string Printable(std::string_view s);

// "'x'" or "'x' (did you mean 'y'?)", x made Printable.
std::string Quote(std::string_view word, std::string_view suggestion = {});

// Levenshtein distance between a and b, or any value >= `cap` once it is
// known to reach `cap` (cheap early exit for long inputs). Case-sensitive.
size_t EditDistance(std::string_view a, std::string_view b, size_t cap);

// The candidate closest to `word` within max(1, min(max_distance, |word|/3))
// edits, or "" (ties: the first in `candidates`).
std::string_view ClosestMatch(std::string_view word, const std::vector<std::string_view>& candidates,
                              size_t max_distance = 2);

// A YAML mapping read once: checks that `node` is a map, that every key is a
// known scalar (an unknown key gets an error with the closest known key) and
// that no key repeats. A null `node` counts as an empty map. Keeps a
// reference to `diag`, which must outlive it.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, std::vector<std::string_view> known,
            Diagnostics& diag);

  bool is_map() const { return is_map_; }
  // The value for `key` (possibly a null node), or nullopt when absent.
  std::optional<YAML::Node> Get(std::string_view key) const;
  // The value for `key` when present and not null ("key:" counts as absent).
  std::optional<YAML::Node> GetNonNull(std::string_view key) const;
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

// A non-null scalar's text; otherwise an error ("expected a value, found
// nothing | a mapping | a list") and nullopt.
std::optional<std::string> ReadString(const YAML::Node& node, std::string_view path, Diagnostics& diag);

// The items of a sequence; null counts as empty; anything else is an error.
std::vector<YAML::Node> ReadSequence(const YAML::Node& node, std::string_view path, Diagnostics& diag);

// An unsigned integer (decimal or 0x hex) in [min, max].
std::optional<uint64_t> ReadUint(const YAML::Node& node, std::string_view path, uint64_t min, uint64_t max,
                                 Diagnostics& diag);

// A signed decimal integer in [min, max].
std::optional<int64_t> ReadInt(const YAML::Node& node, std::string_view path, int64_t min, int64_t max,
                               Diagnostics& diag);

// Decimal or 0x-hex unsigned text → value; nullopt on anything else.
std::optional<uint64_t> ParseUintText(std::string_view text);

// YAML text may hold no NUL byte. yaml-cpp reads one inside a comment
// without complaint, and one near the start makes it guess UTF-16/32 and
// see nothing at all; either way, what was checked is not what a rewrite
// (policy learn) or another reader sees. kInvalidArgument
// "FILE:LINE:COL: a NUL byte …" for the first one (found by policy_fuzzer).
Status RejectNulBytes(std::string_view text, const std::string& file);

}  // namespace edgeward::yaml_input
