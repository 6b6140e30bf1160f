# Cross-compiles for aarch64 Linux with Debian's cross toolchain
# (crossbuild-essential-arm64) against the arm64 multiarch libraries
# (libprotobuf-c-dev:arm64, libcjson-dev:arm64), and runs every test
# executable through qemu-user (qemu-aarch64). `make test-arm64` uses it:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# protoc-c stays the build machine's (it only generates C).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CML_CROSS_TRIPLE aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${CML_CROSS_TRIPLE}-gcc)
find_program(CML_QEMU_AARCH64 qemu-aarch64)
if(CML_QEMU_AARCH64)
  # ctest runs each test as "<emulator> <test> <args>"; the tests that start
  # the CLI read CML_CLI_EMULATOR (passed by tests/CMakeLists.txt).
  set(CMAKE_CROSSCOMPILING_EMULATOR ${CML_QEMU_AARCH64})
endif()

# Programs (protoc-c) come from the build machine; libraries, headers and
# pkg-config data only from the target's multiarch directories.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_LIBRARY_ARCHITECTURE ${CML_CROSS_TRIPLE})
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${CML_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
