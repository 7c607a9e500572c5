# Event-log parsers and replay (attest/src/eventlog_*.cc, cel_*.cc).
# Pure parsing tests, no TPM:
edgeward_add_test(eventlog_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/eventlog_uefi_test.cc
  LIBS edgeward::attest nlohmann_json::nlohmann_json
  LABELS "unit")
