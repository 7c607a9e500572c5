# Part B (workloads): the declaration parser (unit) and the supervisor
# against real `edgeward run` runners and sandboxes (root).
edgeward_add_test(workload_spec_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/workload_spec_test.cc
  LIBS edgeward::daemon
  LABELS unit)
edgeward_add_test(supervisor_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/supervisor_test.cc
  LIBS edgeward::daemon
  LABELS root)
# The supervisor tests run the built CLI.
if(TARGET edgeward)
  add_dependencies(supervisor_test edgeward)
endif()
