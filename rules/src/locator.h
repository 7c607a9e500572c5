// Where things are in a rule file: maps an offset inside a YAML scalar (a
// condition string) back to the file's line and column, collects located
// diagnostics, and suggests near names ("did you mean").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "edgeward/rules/engine.h"

namespace edgeward::rules::internal {

// Locates offsets of one YAML scalar. yaml-cpp gives the scalar's start
// (Mark); offsets inside its value are found by walking the raw source from
// that start, matching the value's characters in order (YAML folding and
// quoting only drop characters, so the walk realigns). exact = true pins
// every offset to the mark (for values built from several YAML nodes).
struct Locator {
  std::string_view file;
  std::string_view source;  // whole file text
  int mark_pos = -1;        // 0-based byte offset of the scalar, -1 unknown
  int mark_line = 0;        // 0-based, as yaml-cpp reports
  int mark_col = 0;
  std::string_view value;   // the scalar's parsed value
  bool exact = false;

  // 1-based line/column of byte `offset` of `value`.
  void Map(int offset, int* line, int* col) const;
};

// A position inside a condition: which scalar and which byte of it.
struct Pos {
  const Locator* loc = nullptr;
  int offset = 0;
};

class Diagnostics {
 public:
  void Add(const Pos& pos, std::string message);
  void AddAt(std::string_view file, int line, int col, std::string message);
  bool empty() const { return list_.empty(); }
  size_t size() const { return list_.size(); }
  const std::vector<Diagnostic>& list() const { return list_; }
  std::vector<Diagnostic>& mutable_list() { return list_; }

 private:
  std::vector<Diagnostic> list_;
};

// " (did you mean \"x\"?)" for the closest candidate within a small edit
// distance, else "".
std::string DidYouMean(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace edgeward::rules::internal
