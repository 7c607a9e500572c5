# One interface target carries warnings and sanitizer flags; every edgeward
# target links it instead of touching global flags.
add_library(edgeward_options INTERFACE)
add_library(edgeward::options ALIAS edgeward_options)
target_compile_options(edgeward_options INTERFACE
  -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Wformat=2
  -Wno-missing-field-initializers)
target_compile_definitions(edgeward_options INTERFACE _FILE_OFFSET_BITS=64)
if(EDGEWARD_SANITIZE)
  target_compile_options(edgeward_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer)
  target_link_options(edgeward_options INTERFACE -fsanitize=address,undefined)
endif()
if(EDGEWARD_FUZZ)
  target_compile_options(edgeward_options INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(edgeward_options INTERFACE -fsanitize=address,undefined)
endif()
