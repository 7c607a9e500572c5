# The escape suite and the real-programs suite (label root), included by
# tests/sandbox/CMakeLists.txt, plus Landlock's own test.
#
# The escape programs are plain C, built without edgeward::options on
# purpose: under ASan they would reserve terabytes of shadow memory and make
# extra syscalls, which would turn the memory-limit and seccomp tests into
# tests of the sanitizer. They get the same warnings (-Werror) instead.
set(EDGEWARD_ESCAPES_DIR ${CMAKE_CURRENT_LIST_DIR})
set(EDGEWARD_ESCAPE_PROGS_DIR ${CMAKE_CURRENT_BINARY_DIR}/escape-progs)

file(GLOB EDGEWARD_ESCAPE_PROG_SOURCES CONFIGURE_DEPENDS ${EDGEWARD_ESCAPES_DIR}/progs/*.c)
set(EDGEWARD_ESCAPE_PROGS "")
foreach(src ${EDGEWARD_ESCAPE_PROG_SOURCES})
  get_filename_component(prog ${src} NAME_WE)
  add_executable(${prog} ${src})
  target_compile_definitions(${prog} PRIVATE _GNU_SOURCE)
  target_compile_options(${prog} PRIVATE -Wall -Wextra -Werror -Wshadow -Wformat=2 -O2)
  set_target_properties(${prog} PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${EDGEWARD_ESCAPE_PROGS_DIR}
    C_STANDARD 11 C_EXTENSIONS ON)
  list(APPEND EDGEWARD_ESCAPE_PROGS ${prog})
endforeach()

set(EDGEWARD_ESCAPES_DEFS
  EDGEWARD_ESCAPE_PROGS_DIR="${EDGEWARD_ESCAPE_PROGS_DIR}"
  EDGEWARD_ESCAPES_SOURCE_DIR="${EDGEWARD_ESCAPES_DIR}")

edgeward_add_test(landlock_test
  SOURCES ${EDGEWARD_ESCAPES_DIR}/landlock_test.cc
  LIBS edgeward::sandbox
  LABELS root)

foreach(suite escapes_test real_programs_test)
  edgeward_add_test(${suite}
    SOURCES ${EDGEWARD_ESCAPES_DIR}/${suite}.cc ${EDGEWARD_ESCAPES_DIR}/harness.cc
    LIBS nlohmann_json::nlohmann_json
    LABELS root)
  target_compile_definitions(${suite} PRIVATE ${EDGEWARD_ESCAPES_DEFS})
  # The suites run the real CLI on the real programs.
  add_dependencies(${suite} edgeward ${EDGEWARD_ESCAPE_PROGS})
endforeach()
# GCC 12's libstdc++ <regex> trips a false -Wmaybe-uninitialized inside
# std::function at -O2 with the sanitizers on (GCC bug 105562); only this
# test file uses <regex>, so only it drops that one warning.
set_source_files_properties(${EDGEWARD_ESCAPES_DIR}/escapes_test.cc PROPERTIES
  COMPILE_OPTIONS "-Wno-maybe-uninitialized")
