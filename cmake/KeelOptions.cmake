# Compiler flags shared by every target of the project (not by consumers).

# Warnings are errors on the project's own code only: keel_warnings is linked
# PRIVATE, so installed targets do not push them onto consumers.
add_library(keel_warnings INTERFACE)
target_compile_options(keel_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wformat=2 -Wimplicit-fallthrough)

# g++ 12 at -O2/-O3 reports array-bounds / stringop-overflow / restrict on
# std::string operations it has inlined (GCC bugs 105329, 105651): still
# shown, not fatal.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(keel_warnings INTERFACE
    -Wno-error=array-bounds -Wno-error=stringop-overflow -Wno-error=restrict)
endif()

if(KEEL_SANITIZE)
  string(REPLACE "," ";" _keel_sanitizers "${KEEL_SANITIZE}")
  set(_keel_san_flags -fno-omit-frame-pointer)
  foreach(s IN LISTS _keel_sanitizers)
    list(APPEND _keel_san_flags -fsanitize=${s})
  endforeach()
  if("undefined" IN_LIST _keel_sanitizers)
    list(APPEND _keel_san_flags -fno-sanitize-recover=all)
  endif()
  add_compile_options(${_keel_san_flags})
  add_link_options(${_keel_san_flags})
  add_compile_definitions(KEEL_SANITIZED=1)
  # g++ 12's flow analysis sees through sanitizer instrumentation poorly and
  # reports maybe-uninitialized inside libstdc++ (<regex>, std::function);
  # the Release build keeps the warning.
  target_compile_options(keel_warnings INTERFACE -Wno-maybe-uninitialized)
  # Asio issues std::atomic_thread_fence, which g++ warns TSan cannot model;
  # keel's own code uses no fences.
  if("thread" IN_LIST _keel_sanitizers AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(keel_warnings INTERFACE -Wno-tsan)
  endif()
endif()

# clang (fuzzing, clang-tidy) reports __cpp_concepts 201907 and so does not
# see libstdc++ 12's <expected>; clang 16 compiles it once the guard is met.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  add_compile_options(-U__cpp_concepts -D__cpp_concepts=202002L)
endif()

# Fuzzing instruments the whole build for coverage, not only the fuzzer
# mains: libFuzzer steers by edges inside the library code it exercises.
if(KEEL_BUILD_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
