# example.cmake — examples/embed as a user builds it (run by ctest with -P):
# install this build into WORK/prefix; configure, build and run the
# example's CMake project against it (find_package(netc) +
# netc_add_model, Debug build type: the generated code must still be
# compiled -O3 -march=native); train its model three epochs, classify the
# example's three PNG digits; then the same with the plain Makefile and
# pkg-config, on the same checkpoint.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}")
  endif()
endfunction()

# classify's output on the three digits, against their labels.
function(check_classify exe)
  execute_process(COMMAND ${exe} ${WORK}/digits.ckpt seven.png two.png one.png
                  WORKING_DIRECTORY ${EXAMPLE} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "${exe}:\n${out}${err}")
  if(NOT rc EQUAL 0 OR NOT out MATCHES "seven.png: 7 [^\n]*\ntwo.png: 2 [^\n]*\none.png: 1 ")
    message(FATAL_ERROR "${exe} (${rc}): expected 7, 2, 1:\n${out}${err}")
  endif()
  # A missing checkpoint: exit 1 and the reason, from the API's NetError.
  execute_process(COMMAND ${exe} ${WORK}/missing.ckpt seven.png
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 1 OR NOT err MATCHES "missing.ckpt: cannot open")
    message(FATAL_ERROR "${exe} on a missing checkpoint (${rc}): ${err}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK})
run(${CMAKE_COMMAND} --install ${BUILD} --prefix ${WORK}/prefix)
set(flags)
set(cflags "")
if(SANITIZE)   # sanitized installed libraries (the debug preset), as outoftree.cmake
  set(cflags "-fsanitize=address,undefined")
  set(flags "-DCMAKE_C_FLAGS=${cflags}" "-DCMAKE_EXE_LINKER_FLAGS=${cflags}")
endif()
run(${CMAKE_COMMAND} -S ${EXAMPLE} -B ${WORK}/build -DCMAKE_BUILD_TYPE=Debug
    -DCMAKE_PREFIX_PATH=${WORK}/prefix -DCMAKE_EXPORT_COMPILE_COMMANDS=ON ${flags})
run(${CMAKE_COMMAND} --build ${WORK}/build -j2)

# Optimised whatever the build type: digits.c is compiled -O3 -march=native.
file(READ ${WORK}/build/compile_commands.json cc)
string(REGEX MATCH "\"command\": \"[^\"]*netc-digits/digits.c\"" cmd "${cc}")
if(NOT cmd MATCHES " -O3" OR NOT cmd MATCHES "-march=native")
  message(FATAL_ERROR "digits.c is not compiled -O3 -march=native in a Debug project: ${cmd}")
endif()
message(STATUS "digits.c: ${cmd}")

run(${WORK}/build/train-digits --data ${WORK}/prefix/share/netc/mnist --epochs 3 --threads 2 --quiet
    --save ${WORK}/digits.ckpt)
check_classify(${WORK}/build/classify)

# Without CMake: the Makefile, netc from the prefix, pkg-config's netc.pc.
set(ENV{PKG_CONFIG_PATH} ${WORK}/prefix/lib/pkgconfig)
run(make -C ${EXAMPLE} B=${WORK}/make NETC=${WORK}/prefix/bin/netc "CFLAGS=-O3 -march=native ${cflags}")
check_classify(${WORK}/make/classify)
message(STATUS "examples/embed built against the installed netc with CMake and with make + pkg-config")
