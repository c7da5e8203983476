# outoftree.cmake — the find_package(netc) check (run by ctest with -P):
# install the build into WORK/prefix, configure and build PROJECT_DIR
# against it, and train its model for one epoch on the committed subset.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}")
  endif()
endfunction()
file(REMOVE_RECURSE ${WORK})
run(${CMAKE_COMMAND} --install ${BUILD} --prefix ${WORK}/prefix)
# A sanitized build (the debug preset) installs sanitized libraries: the
# project must link the sanitizer runtimes too.
set(flags)
if(SANITIZE)
  set(flags "-DCMAKE_C_FLAGS=-fsanitize=address,undefined" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined")
endif()
run(${CMAKE_COMMAND} -S ${PROJECT_DIR} -B ${WORK}/build -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${WORK}/prefix ${flags})
run(${CMAKE_COMMAND} --build ${WORK}/build -j2)
run(${WORK}/build/train-tiny --epochs 1 --threads 2 --quiet --json)
message(STATUS "out-of-tree project built and trained with the installed netc")
