# Event-log parsers and replay (attest/src/eventlog_*.cc, cel_*.cc).
# Parsing, replay and log-writing tests; no TPM needed (tpm2_eventlog runs
# without one):
edgeward_add_test(eventlog_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/eventlog_uefi_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/eventlog_ima_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/eventlog_cel_test.cc
  LIBS edgeward::attest nlohmann_json::nlohmann_json
  LABELS "unit")
# Logs built while extending a private swtpm must replay to its PCRs:
edgeward_add_test(eventlog_swtpm_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/eventlog_swtpm_test.cc
  LIBS edgeward::attest
  LABELS "swtpm")
