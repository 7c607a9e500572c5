edgeward_add_test(disk_full_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/disk_full_test.cc
  LIBS edgeward::channel edgeward::bundle bundle_test_util
  LABELS root)
target_include_directories(disk_full_test PRIVATE ${CMAKE_SOURCE_DIR}/tests/bundle)
