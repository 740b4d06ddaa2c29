# FindLlhttp — llhttp has no C library in Debian. Its package node-llhttp ships
# the generated C parser (llhttp.h + llhttp.c, api.c, http.c); this module finds
# those files and compiles them into the static target llhttp::llhttp.
# Set LLHTTP_ROOT to look somewhere else (e.g. an `apt-get download` +
# `dpkg-deb -x` tree when not root).
find_path(LLHTTP_INCLUDE_DIR llhttp.h
  HINTS ${LLHTTP_ROOT}/usr/share/include/llhttp ${LLHTTP_ROOT}/include
  PATHS /usr/share/include/llhttp /usr/include/llhttp /usr/local/include)
find_path(LLHTTP_SOURCE_DIR llhttp.c
  HINTS ${LLHTTP_ROOT}/usr/share/llhttp ${LLHTTP_ROOT}/src
  PATHS /usr/share/llhttp /usr/local/share/llhttp)

if(LLHTTP_INCLUDE_DIR AND EXISTS "${LLHTTP_INCLUDE_DIR}/llhttp.h")
  file(STRINGS "${LLHTTP_INCLUDE_DIR}/llhttp.h" _llhttp_ver REGEX "#define LLHTTP_VERSION_(MAJOR|MINOR|PATCH) ")
  string(REGEX REPLACE ".*MAJOR ([0-9]+).*MINOR ([0-9]+).*PATCH ([0-9]+).*" "\\1.\\2.\\3" Llhttp_VERSION "${_llhttp_ver}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Llhttp
  REQUIRED_VARS LLHTTP_INCLUDE_DIR LLHTTP_SOURCE_DIR
  VERSION_VAR Llhttp_VERSION
  FAIL_MESSAGE "llhttp C sources not found: install Debian's node-llhttp package (apt-get install node-llhttp), or set LLHTTP_ROOT")

if(Llhttp_FOUND AND NOT TARGET llhttp::llhttp)
  add_library(llhttp_static STATIC
    ${LLHTTP_SOURCE_DIR}/llhttp.c ${LLHTTP_SOURCE_DIR}/api.c ${LLHTTP_SOURCE_DIR}/http.c)
  target_include_directories(llhttp_static SYSTEM PUBLIC ${LLHTTP_INCLUDE_DIR})
  set_target_properties(llhttp_static PROPERTIES C_STANDARD 99 POSITION_INDEPENDENT_CODE ON)
  target_compile_options(llhttp_static PRIVATE -w)
  add_library(llhttp::llhttp ALIAS llhttp_static)
endif()
