edgeward_add_test(attest_node_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/file_scan_test.cc
  LIBS edgeward::attest_node
  LABELS unit)
edgeward_add_test(measure_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/measure_test.cc
  LIBS edgeward::attest_node edgeward::tpm
  LABELS swtpm)
edgeward_add_test(collect_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/collect_test.cc
  LIBS edgeward::attest_node edgeward::tpm
  LABELS swtpm)
