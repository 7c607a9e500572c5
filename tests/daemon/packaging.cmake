edgeward_add_test(packaging_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/packaging_test.cc
  LABELS unit)
if(TARGET edgeward)
  add_dependencies(packaging_test edgeward)
endif()
