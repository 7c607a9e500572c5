// The daemon's log sink (see agent_log.h for why journald gets a priority
// prefix on stderr instead of the native protocol).
#include "edgeward/daemon/agent_log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <mutex>

namespace edgeward::daemon {
namespace {

int SyslogPriority(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::critical: return 2;  // LOG_CRIT
    case spdlog::level::err: return 3;
    case spdlog::level::warn: return 4;
    case spdlog::level::info: return 6;
    default: return 7;  // debug, trace
  }
}

class AgentSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  AgentSink(LogFormat format, LogTarget target, int fd) : format_(format), target_(target), fd_(fd) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    const std::string_view level = spdlog::level::to_string_view(msg.level).data();
    line_.clear();
    if (target_ == LogTarget::kJournald) {
      line_ += '<';
      line_ += static_cast<char>('0' + SyslogPriority(msg.level));
      line_ += '>';
    }
    if (format_ == LogFormat::kJson) {
      line_ += "{\"time\":\"" + Timestamp(msg) + "\",\"level\":\"";
      line_ += level;
      line_ += "\",\"msg\":\"" + JsonEscape(payload) + "\"}";
    } else {
      if (target_ != LogTarget::kJournald) line_ += Timestamp(msg) + " " + std::string(level) + " ";
      // One message, one line: a newline in a message can't forge a second
      // entry.
      for (char c : payload) line_ += (c == '\n' || c == '\r') ? ' ' : c;
    }
    line_ += '\n';
    size_t off = 0;
    while (off < line_.size()) {
      ssize_t n = ::write(fd_, line_.data() + off, line_.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // nowhere to report a failing log write
      off += static_cast<size_t>(n);
    }
  }
  void flush_() override {}

 private:
  static std::string Timestamp(const spdlog::details::log_msg& msg) {
    const auto t = msg.time.time_since_epoch();
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(t);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
    const std::time_t tt = static_cast<std::time_t>(secs.count());
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[96];  // sized for any int the compiler imagines
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
  }

  LogFormat format_;
  LogTarget target_;
  int fd_;
  std::string line_;  // guarded by the base sink's mutex
};

spdlog::level::level_enum ParseLevel(std::string_view level) {
  spdlog::level::level_enum lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") lvl = spdlog::level::info;
  return lvl;
}

}  // namespace

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      // Copy a well-formed UTF-8 sequence; replace anything else.
      size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
      bool ok = len != 0 && i + len <= s.size() && c >= 0xc2 && c <= 0xf4;
      for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
      if (ok) {
        out.append(s.substr(i, len));
        i += len - 1;
      } else {
        out += "\xef\xbf\xbd";
      }
    }
  }
  return out;
}

void SetupAgentLogging(LogFormat format, LogTarget target, std::string_view level, int fd) {
  auto sink = std::make_shared<AgentSink>(format, target, fd);
  auto logger = std::make_shared<spdlog::logger>("edgeward-agent", sink);
  logger->set_level(ParseLevel(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

void SetAgentLogLevel(std::string_view level) { spdlog::default_logger()->set_level(ParseLevel(level)); }

}  // namespace edgeward::daemon
