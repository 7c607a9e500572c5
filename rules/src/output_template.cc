#include "output_template.h"

#include <charconv>
#include <cstring>

#include "edgeward/rules/event_parser.h"

namespace edgeward::rules::internal {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

class Writer {
 public:
  explicit Writer(std::span<char> buf) : buf_(buf) {}
  void Put(std::string_view s) {
    if (full_) return;
    size_t room = buf_.size() - len_;
    if (s.size() <= room) {
      std::memcpy(buf_.data() + len_, s.data(), s.size());
      len_ += s.size();
      return;
    }
    full_ = true;
    std::memcpy(buf_.data() + len_, s.data(), room);
    len_ = buf_.size();
    if (buf_.size() >= 3) std::memcpy(buf_.data() + buf_.size() - 3, "...", 3);
  }
  // Event strings come from workloads (names, paths, messages): escaped so
  // a value can't forge a log line or drive a terminal. Backslash, the C0
  // controls and DEL, and the C1 controls as UTF-8 (U+0080..U+009F) become
  // \\, \n, \r, \t, \xHH and \u00HH; everything else is copied as is.
  void PutEscaped(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    size_t run = 0;  // start of the pending run of bytes that need no escape
    for (size_t i = 0; i < s.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      char esc[6];
      size_t n = 0;
      size_t width = 1;
      if (c == '\\') {
        esc[0] = '\\', esc[1] = '\\', n = 2;
      } else if (c == '\n') {
        esc[0] = '\\', esc[1] = 'n', n = 2;
      } else if (c == '\r') {
        esc[0] = '\\', esc[1] = 'r', n = 2;
      } else if (c == '\t') {
        esc[0] = '\\', esc[1] = 't', n = 2;
      } else if (c < 0x20 || c == 0x7f) {
        esc[0] = '\\', esc[1] = 'x', esc[2] = kHex[c >> 4], esc[3] = kHex[c & 15], n = 4;
      } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                 static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
        const unsigned char d = static_cast<unsigned char>(s[i + 1]);
        esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = kHex[d >> 4], esc[5] = kHex[d & 15];
        n = 6;
        width = 2;
      } else {
        continue;
      }
      Put(s.substr(run, i - run));
      Put(std::string_view(esc, n));
      i += width - 1;
      run = i + 1;
    }
    Put(s.substr(run));
  }
  void PutInt(int64_t v) {
    char tmp[24];
    auto [p, ec] = std::to_chars(tmp, tmp + sizeof tmp, v);
    (void)ec;  // 24 bytes always hold an int64
    Put(std::string_view(tmp, static_cast<size_t>(p - tmp)));
  }
  size_t len() const { return len_; }

 private:
  std::span<char> buf_;
  size_t len_ = 0;
  bool full_ = false;
};

}  // namespace

bool OutputTemplate::Compile(std::string_view text, const Locator* loc, Diagnostics* diags, OutputTemplate* out) {
  out->segments_.clear();
  bool ok = true;
  std::string lit;
  auto flush = [&] {
    if (!lit.empty()) out->segments_.push_back(Segment{false, false, FieldId::kEventType, lit});
    lit.clear();
  };
  for (size_t i = 0; i < text.size();) {
    if (text[i] != '%') {
      lit += text[i++];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '%') {
      lit += '%';
      i += 2;
      continue;
    }
    size_t start = i + 1, end = start;
    while (end < text.size() && IsNameChar(text[end])) ++end;
    std::string_view name = text.substr(start, end - start);
    while (!name.empty() && name.back() == '.') name.remove_suffix(1);
    FieldId id;
    if (name == "event.time") {
      flush();
      out->segments_.push_back(Segment{true, true, FieldId::kEventType, ""});
    } else if (!name.empty() && FindField(name, &id) != nullptr) {
      flush();
      out->segments_.push_back(Segment{true, false, id, ""});
    } else {
      auto names = AllFieldNames();
      names.push_back("event.time");
      diags->Add(Pos{loc, static_cast<int>(i)},
                 name.empty() ? std::string("\"%\" must be followed by a field name (write %% for a percent sign)")
                              : "unknown field \"" + std::string(name) + "\" in output" + DidYouMean(name, names));
      ok = false;
    }
    i = start + name.size();
    if (name.empty()) ++i;
  }
  flush();
  return ok;
}

size_t OutputTemplate::Format(const Event& e, std::span<char> buf) const {
  Writer w(buf);
  for (const Segment& s : segments_) {
    if (!s.is_field) {
      w.Put(s.text);
      continue;
    }
    if (s.is_time) {
      char tmp[kRfc3339BufferBytes];
      w.Put(std::string_view(tmp, FormatRfc3339MsTo(e.time_ms(), tmp)));
      continue;
    }
    if (!e.Has(s.field)) {
      w.Put("<NA>");
      continue;
    }
    switch (GetFieldInfo(s.field).type) {
      case FieldType::kString: w.PutEscaped(e.GetString(s.field)); break;
      case FieldType::kInt: w.PutInt(e.GetInt(s.field)); break;
      case FieldType::kBool: w.Put(e.GetBool(s.field) ? "true" : "false"); break;
      case FieldType::kStringList: {
        bool first = true;
        for (const auto& v : e.GetStringList(s.field)) {
          if (!first) w.Put(", ");
          first = false;
          w.PutEscaped(v);
        }
        break;
      }
      case FieldType::kIntList: {
        bool first = true;
        for (int64_t v : e.GetIntList(s.field)) {
          if (!first) w.Put(",");
          first = false;
          w.PutInt(v);
        }
        break;
      }
    }
  }
  return w.len();
}

}  // namespace edgeward::rules::internal
