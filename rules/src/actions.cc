// Action and priority names, and the action mini-syntax of rule files:
//   name | name(key: value) where value is a word or [a, b, c].
#include <cctype>

#include "rule_set.h"

namespace edgeward::rules {

std::string_view PriorityName(Priority p) {
  switch (p) {
    case Priority::kInfo: return "info";
    case Priority::kLow: return "low";
    case Priority::kMedium: return "medium";
    case Priority::kHigh: return "high";
    case Priority::kCritical: return "critical";
  }
  return "?";
}

bool ParsePriority(std::string_view s, Priority* out) {
  std::string l;
  for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static constexpr std::pair<std::string_view, Priority> kNames[] = {
      {"info", Priority::kInfo},         {"low", Priority::kLow},
      {"medium", Priority::kMedium},     {"high", Priority::kHigh},
      {"critical", Priority::kCritical}, {"emergency", Priority::kCritical},
      {"alert", Priority::kCritical},    {"error", Priority::kHigh},
      {"warning", Priority::kMedium},    {"notice", Priority::kLow},
      {"informational", Priority::kInfo}, {"debug", Priority::kInfo},
  };
  for (auto [n, p] : kNames) {
    if (n == l) {
      *out = p;
      return true;
    }
  }
  return false;
}

std::string_view ActionKindName(ActionKind k) {
  switch (k) {
    case ActionKind::kLog: return "log";
    case ActionKind::kReport: return "report";
    case ActionKind::kKillWorkload: return "kill_workload";
    case ActionKind::kRestartWorkload: return "restart_workload";
    case ActionKind::kStopWorkloads: return "stop_workloads";
    case ActionKind::kQuarantine: return "quarantine";
    case ActionKind::kReattest: return "reattest";
    case ActionKind::kRunCommand: return "run_command";
  }
  return "?";
}

std::string Action::ToString() const {
  std::string s(ActionKindName(kind));
  auto list = [&] {
    std::string l = "[";
    for (size_t i = 0; i < names.size(); ++i) l += (i ? ", " : "") + names[i];
    return l + "]";
  };
  switch (kind) {
    case ActionKind::kReport: return s + "(priority: " + std::string(PriorityName(priority)) + ")";
    case ActionKind::kStopWorkloads: return s + "(in: " + list() + ")";
    case ActionKind::kQuarantine: return s + "(allow: " + list() + ")";
    case ActionKind::kRunCommand: return s + "(name: " + command + ")";
    default: return s;
  }
}

namespace internal {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

}  // namespace

bool ParseAction(std::string_view text, const std::map<std::string, ListDef, std::less<>>& lists,
                 Priority rule_priority, const Pos& pos, Diagnostics* diags, Action* out) {
  text = Trim(text);
  std::string_view name = text, key, value;
  size_t lp = text.find('(');
  if (lp != std::string_view::npos) {
    if (text.back() != ')') {
      diags->Add(pos, "action \"" + std::string(text) + "\" lacks its closing \")\"");
      return false;
    }
    name = Trim(text.substr(0, lp));
    std::string_view args = Trim(text.substr(lp + 1, text.size() - lp - 2));
    if (!args.empty()) {
      size_t colon = args.find(':');
      if (colon == std::string_view::npos) {
        diags->Add(pos, "action argument \"" + std::string(args) + "\" must be written \"key: value\"");
        return false;
      }
      key = Trim(args.substr(0, colon));
      value = Trim(args.substr(colon + 1));
    }
  }
  static constexpr std::pair<std::string_view, ActionKind> kKinds[] = {
      {"log", ActionKind::kLog},
      {"report", ActionKind::kReport},
      {"kill_workload", ActionKind::kKillWorkload},
      {"restart_workload", ActionKind::kRestartWorkload},
      {"stop_workloads", ActionKind::kStopWorkloads},
      {"quarantine", ActionKind::kQuarantine},
      {"reattest", ActionKind::kReattest},
      {"run_command", ActionKind::kRunCommand},
  };
  bool found = false;
  for (auto [n, k] : kKinds) {
    if (n == name) {
      out->kind = k;
      found = true;
    }
  }
  if (!found) {
    std::vector<std::string_view> names;
    for (auto [n, k] : kKinds) names.push_back(n);
    diags->Add(pos, "unknown action \"" + std::string(name) + "\"" + DidYouMean(name, names));
    return false;
  }
  std::string_view want_key;
  bool required = false;
  switch (out->kind) {
    case ActionKind::kReport: want_key = "priority"; break;
    case ActionKind::kStopWorkloads: want_key = "in"; required = true; break;
    case ActionKind::kQuarantine: want_key = "allow"; break;
    case ActionKind::kRunCommand: want_key = "name"; required = true; break;
    default: break;
  }
  const std::string action(name);
  if (!key.empty() && key != want_key) {
    diags->Add(pos, want_key.empty() ? "action " + action + " takes no arguments"
                                     : "action " + action + " takes \"" + std::string(want_key) + ":\", not \"" +
                                           std::string(key) + ":\"");
    return false;
  }
  if (key.empty() && required) {
    diags->Add(pos, "action " + action + " needs \"" + std::string(want_key) + ": ...\"");
    return false;
  }
  if (!key.empty() && value.empty()) {
    diags->Add(pos, "action " + action + ": \"" + std::string(key) + ":\" has no value");
    return false;
  }
  out->priority = rule_priority;
  switch (out->kind) {
    case ActionKind::kReport:
      if (!key.empty() && !ParsePriority(value, &out->priority)) {
        diags->Add(pos, "unknown priority \"" + std::string(value) + "\" (use info, low, medium, high or critical)");
        return false;
      }
      return true;
    case ActionKind::kStopWorkloads:
    case ActionKind::kQuarantine: {
      if (key.empty()) return true;  // quarantine(): stop everything
      if (value.front() == '[') {
        if (value.back() != ']') {
          diags->Add(pos, "action " + action + ": list \"" + std::string(value) + "\" lacks its closing \"]\"");
          return false;
        }
        std::string_view items = value.substr(1, value.size() - 2);
        while (!Trim(items).empty()) {
          size_t comma = items.find(',');
          std::string_view item = Trim(items.substr(0, comma));
          if (!IsName(item)) {
            diags->Add(pos, "action " + action + ": \"" + std::string(item) + "\" is not a workload name");
            return false;
          }
          out->names.emplace_back(item);
          if (comma == std::string_view::npos) break;
          items.remove_prefix(comma + 1);
        }
        return true;
      }
      auto it = lists.find(value);
      if (it == lists.end()) {
        std::vector<std::string_view> names;
        for (const auto& [n, _] : lists) names.push_back(n);
        diags->Add(pos, "action " + action + ": unknown list \"" + std::string(value) + "\"" +
                            DidYouMean(value, names) + " (name a list, or write [a, b])");
        return false;
      }
      out->names = it->second.items;
      return true;
    }
    case ActionKind::kRunCommand:
      if (!IsName(value)) {
        diags->Add(pos, "action run_command: \"" + std::string(value) +
                            "\" is not a command name (letters, digits, _ - .); commands are configured on the node");
        return false;
      }
      out->command = std::string(value);
      return true;
    default:
      return true;
  }
}

}  // namespace internal
}  // namespace edgeward::rules
