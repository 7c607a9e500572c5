#include "edgeward/base/yaml_input.h"

#include <gtest/gtest.h>

namespace edgeward::yaml_input {
namespace {

// Parses `text` and reads its top-level mapping with `known` keys; returns
// the report (empty when every key was fine).
std::string ReadTop(const std::string& text, std::vector<std::string_view> known, Dialect dialect = {}) {
  Diagnostics diag("f.yaml", dialect);
  MapReader m(YAML::Load(text), "", std::move(known), diag);
  return diag.ToStatus().message();
}

TEST(YamlInputTest, ErrorsAreLocatedAndSortedByPosition) {
  Diagnostics diag("conf/a.yaml");
  EXPECT_TRUE(diag.ToStatus().ok());
  diag.Add(3, 5, "spec.mode", "bad mode");
  diag.Add(1, 1, "", "first line");
  diag.Add(3, 2, "spec", "earlier column");
  diag.Add(3, 5, "spec.mode", "same place, added later");
  const Status s = diag.ToStatus();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "conf/a.yaml:1:1: first line\n"
            "conf/a.yaml:3:2: field spec: earlier column\n"
            "conf/a.yaml:3:5: field spec.mode: bad mode\n"
            "conf/a.yaml:3:5: field spec.mode: same place, added later");
}

TEST(YamlInputTest, MarksAreOneBasedAndANullMarkIsZero) {
  const YAML::Node doc = YAML::Load("a: 1\nb:\n  c: x\n");
  const Position p = PositionOf(doc["b"]["c"].Mark());
  EXPECT_EQ(p.line, 3);
  EXPECT_EQ(p.column, 6);
  Diagnostics diag("f.yaml");
  diag.Add(YAML::Mark::null_mark(), "x", "somewhere");
  EXPECT_EQ(diag.ToStatus().message(), "f.yaml:0:0: field x: somewhere");
}

TEST(YamlInputTest, ReportStopsAtMaxReportedAndCountsTheRest) {
  Dialect d;
  d.max_reported = 2;
  Diagnostics diag("f.yaml", d);
  for (int i = 1; i <= 5; ++i) diag.Add(i, 1, "", "e" + std::to_string(i));
  EXPECT_FALSE(diag.WantSuggestions());
  EXPECT_EQ(diag.count(), 5u);
  EXPECT_EQ(diag.ToStatus().message(), "f.yaml:1:1: e1\nf.yaml:2:1: e2\nf.yaml: 3 more errors not shown");
}

TEST(YamlInputTest, UnknownKeyGetsTheClosestKnownKey) {
  EXPECT_EQ(ReadTop("name: x\nmetdata: {}\n", {"name", "metadata"}),
            "f.yaml:2:1: field metdata: unknown key 'metdata' (did you mean 'metadata'?)");
  // Nothing close: no suggestion.
  EXPECT_EQ(ReadTop("zzz: 1\n", {"name", "metadata"}), "f.yaml:1:1: field zzz: unknown key 'zzz'");
}

TEST(YamlInputTest, DialectWordsUnknownKeysAndListsKnownOnes) {
  Dialect d;
  d.unknown_key_noun = "field";
  d.list_known_keys = true;
  d.max_suggestion_distance = 3;
  EXPECT_EQ(ReadTop("zzz: 1\n", {"name", "metadata"}, d),
            "f.yaml:1:1: field zzz: unknown field 'zzz' (known: name, metadata)");
  // 12 letters allow 3 edits under this dialect, 2 under the default.
  EXPECT_EQ(ReadTop("fetchIntrvlX: 1s\n", {"fetchInterval"}, d),
            "f.yaml:1:1: field fetchIntrvlX: unknown field 'fetchIntrvlX' (did you mean 'fetchInterval'?)");
  EXPECT_EQ(ReadTop("fetchIntrvlX: 1s\n", {"fetchInterval"}), "f.yaml:1:1: field fetchIntrvlX: unknown key 'fetchIntrvlX'");
}

TEST(YamlInputTest, KeysMustBePlainDistinctNamesInAMapping) {
  EXPECT_EQ(ReadTop("a: 1\na: 2\n", {"a"}), "f.yaml:2:1: field a: duplicate key 'a'");
  EXPECT_EQ(ReadTop("[x]: 1\n", {"a"}), "f.yaml:1:1: a mapping key must be a plain name");
  EXPECT_EQ(ReadTop("- a\n", {"a"}), "f.yaml:1:1: field <document>: expected a mapping");
  // Control bytes in an unknown key are escaped in the path and the message.
  EXPECT_EQ(ReadTop("\"a\\x01\\u00e9\": 1\n", {"a"}),
            "f.yaml:1:1: field a\\x01\\xc3\\xa9: unknown key 'a\\x01\\xc3\\xa9'");
}

TEST(YamlInputTest, NullMapIsEmptyAndGetRequiredReportAtTheMap) {
  Diagnostics diag("f.yaml");
  const YAML::Node doc = YAML::Load("outer:\n  x: 1\n  y:\nempty:\n");
  MapReader m(doc["outer"], "outer", {"x", "y", "z"}, diag);
  EXPECT_TRUE(m.is_map());
  ASSERT_TRUE(m.Get("y").has_value());  // present, null
  EXPECT_TRUE(m.Get("y")->IsNull());
  EXPECT_FALSE(m.GetNonNull("y").has_value());
  EXPECT_EQ(m.GetNonNull("x")->Scalar(), "1");
  EXPECT_FALSE(m.Required("z").has_value());
  MapReader e(doc["empty"], "empty", {"a"}, diag);
  EXPECT_TRUE(e.is_map());
  EXPECT_FALSE(e.Get("a").has_value());
  EXPECT_EQ(diag.ToStatus().message(), "f.yaml:2:3: field outer.z: missing required key 'z'");

  Dialect terse;
  terse.name_missing_key = false;
  Diagnostics diag2("f.yaml", terse);
  MapReader m2(doc["outer"], "outer", {"x", "y", "z"}, diag2);
  EXPECT_FALSE(m2.Required("z").has_value());
  EXPECT_EQ(diag2.ToStatus().message(), "f.yaml:2:3: field outer.z: missing (required)");
}

TEST(YamlInputTest, TypeErrorsNameWhatWasFound) {
  const YAML::Node doc = YAML::Load("a: [1]\nb: {c: 1}\nc:\nd: text\ne: 7\n");
  Diagnostics diag("f.yaml");
  EXPECT_FALSE(ReadString(doc["a"], "a", diag).has_value());
  EXPECT_FALSE(ReadString(doc["b"], "b", diag).has_value());
  EXPECT_FALSE(ReadString(doc["c"], "c", diag).has_value());
  EXPECT_EQ(*ReadString(doc["d"], "d", diag), "text");
  EXPECT_TRUE(ReadSequence(doc["c"], "c", diag).empty());  // null: an empty list
  EXPECT_TRUE(ReadSequence(doc["d"], "d", diag).empty());
  EXPECT_EQ(ReadSequence(doc["a"], "a", diag).size(), 1u);
  EXPECT_EQ(diag.ToStatus().message(),
            "f.yaml:1:4: field a: expected a value, found a list\n"
            "f.yaml:2:4: field b: expected a value, found a mapping\n"
            // yaml-cpp marks an empty value where the next token starts.
            "f.yaml:4:1: field c: expected a value, found nothing\n"
            "f.yaml:4:4: field d: expected a list");
}

TEST(YamlInputTest, NumbersAreCheckedForFormAndBounds) {
  const YAML::Node doc = YAML::Load("a: 0x10\nb: 0\nc: -5\nd: 12x\ne: -1000\nf: 99999999999999999999\n");
  Diagnostics diag("f.yaml");
  EXPECT_EQ(ReadUint(doc["a"], "a", 1, 16, diag), 16u);
  EXPECT_FALSE(ReadUint(doc["b"], "b", 1, 16, diag).has_value());
  EXPECT_FALSE(ReadUint(doc["c"], "c", 0, 16, diag).has_value());
  EXPECT_EQ(ReadInt(doc["c"], "c", -10, 10, diag), -5);
  EXPECT_FALSE(ReadInt(doc["d"], "d", -10, 10, diag).has_value());
  EXPECT_FALSE(ReadInt(doc["e"], "e", -10, 10, diag).has_value());
  EXPECT_FALSE(ReadUint(doc["f"], "f", 0, UINT64_MAX, diag).has_value());
  EXPECT_EQ(diag.ToStatus().message(),
            "f.yaml:2:4: field b: 0 is out of range [1, 16]\n"
            "f.yaml:3:4: field c: expected a whole number, found '-5'\n"
            "f.yaml:4:4: field d: expected an integer, got '12x'\n"
            "f.yaml:5:4: field e: -1000 is out of range [-10, 10]\n"
            "f.yaml:6:4: field f: expected a whole number, found '99999999999999999999'");
  EXPECT_EQ(ParseUintText("0XfF"), 255u);
  EXPECT_FALSE(ParseUintText("0x").has_value());
  EXPECT_FALSE(ParseUintText("").has_value());
  EXPECT_FALSE(ParseUintText("+1").has_value());
}

TEST(YamlInputTest, AliasesSpendABoundedBudget) {
  Dialect d;
  d.kind = "workload";
  d.max_values = 10;
  Diagnostics diag("f.yaml", d);
  // Four names for one 4-item list: 16 values from a few bytes.
  const YAML::Node doc = YAML::Load("a: &l [1, 2, 3, 4]\nb: *l\nc: *l\nd: *l\n");
  size_t read = 0;
  for (const char* k : {"a", "b", "c", "d"}) read += ReadSequence(doc[k], k, diag).size();
  EXPECT_EQ(read, 8u);
  // An alias carries its anchor's mark.
  EXPECT_EQ(diag.ToStatus().message(), "f.yaml:1:4: workload too large: more than 10 values (counting aliases)");
  // Over budget, mappings read as empty without another error.
  MapReader m(YAML::Load("x: 1\n"), "", {"x"}, diag);
  EXPECT_FALSE(m.Get("x").has_value());
  EXPECT_EQ(diag.count(), 1u);
}

TEST(YamlInputTest, UnlimitedBudgetDoesNotWrap) {
  Dialect d;
  d.max_values = Dialect::kUnlimited;
  Diagnostics diag("f.yaml", d);
  EXPECT_TRUE(diag.Spend(YAML::Mark::null_mark(), Dialect::kUnlimited - 1));
  EXPECT_TRUE(diag.Spend(YAML::Mark::null_mark(), 5));
  EXPECT_TRUE(diag.empty());
}

TEST(YamlInputTest, EditDistanceAndClosestMatch) {
  EXPECT_EQ(EditDistance("kitten", "sitting", 10), 3u);
  EXPECT_EQ(EditDistance("", "abc", 10), 3u);
  EXPECT_EQ(EditDistance("abc", "abc", 10), 0u);
  EXPECT_GE(EditDistance("aaaaaaaa", "bbbbbbbb", 2), 2u);  // capped early
  EXPECT_EQ(ClosestMatch("enforse", {"enforce", "audit", "learn"}), "enforce");
  // Ties go to the first candidate.
  EXPECT_EQ(ClosestMatch("ab", {"ax", "ay"}), "ax");
  // Short words get one edit: "xy" → "ab" is two.
  EXPECT_EQ(ClosestMatch("xy", {"ab"}), "");
  EXPECT_EQ(ClosestMatch(std::string(300, 'a'), {"a"}), "");
}

TEST(YamlInputTest, QuoteAndPrintable) {
  EXPECT_EQ(Quote("x"), "'x'");
  EXPECT_EQ(Quote("alway", "always"), "'alway' (did you mean 'always'?)");
  EXPECT_EQ(Printable("a\nb\x7f"), "a\\x0ab\\x7f");
  EXPECT_EQ(Printable(std::string(81, 'z')), std::string(80, 'z') + "...");
  EXPECT_EQ(Field("", "a"), "a");
  EXPECT_EQ(Field("a", "b"), "a.b");
  EXPECT_EQ(Index("a.b", 3), "a.b[3]");
}

TEST(YamlInputTest, NulBytesAreRefusedWithTheirPosition) {
  EXPECT_TRUE(RejectNulBytes("a: 1\nb: 2\n", "f.yaml").ok());
  Status s = RejectNulBytes(std::string("a: 1\nbb\0: 2\n", 12), "f.yaml");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "f.yaml:2:3: a NUL byte: YAML text has none (a UTF-16/32 or binary file?)");
  EXPECT_EQ(RejectNulBytes(std::string("\0", 1), "g").message().rfind("g:1:1: a NUL byte", 0), 0u);
}

}  // namespace
}  // namespace edgeward::yaml_input
