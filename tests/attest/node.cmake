edgeward_add_test(attest_node_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/file_scan_test.cc
  LIBS edgeward::attest_node
  LABELS unit)
