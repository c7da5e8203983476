# outoftree.cmake — the find_package(netc) check (run by ctest with -P):
# install the build into WORK/prefix, configure and build PROJECT_DIR
# against it, train its model for one epoch on the committed subset and
# check the JSON summary it prints.
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
# The installed subset (PREFIX/share/netc/mnist): a program outside the
# prefix has no default --data but the configured install location.
execute_process(COMMAND ${WORK}/build/train-tiny --data ${WORK}/prefix/share/netc/mnist --epochs 1 --threads 2 --quiet --json
                RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "train-tiny failed (${rc}): ${out}")
endif()
# The summary is the last stdout line; a trainer that ran but learned
# nothing, or printed no or broken JSON, fails here.
string(STRIP "${out}" out)
string(REGEX REPLACE ".*\n" "" json "${out}")
string(JSON model ERROR_VARIABLE err GET "${json}" model)
if(err)
  message(FATAL_ERROR "train-tiny's last line is not the JSON summary: ${json} (${err})")
endif()
string(JSON epochs GET "${json}" epochs)
if(NOT model STREQUAL "tiny" OR NOT epochs EQUAL 1)
  message(FATAL_ERROR "train-tiny: model '${model}', ${epochs} epochs; expected 'tiny', 1: ${json}")
endif()
# Mean squared error of a sigmoid output against pixels in [0, 1]: about
# 0.23 for outputs near 0.5 (the initialisation).  One epoch must learn:
# every loss below 0.15 (measured: train 0.113, validation 0.066, test
# 0.064; a model whose decoder gets no gradient stays at 0.232, as this one
# did while the emitter mistook its reshape for a folded mse_grad).
set(max_loss 0.15)
foreach(key train_loss val_loss test_loss)
  string(JSON v GET "${json}" ${key})
  if(NOT v MATCHES "^[0-9.eE+-]+$" OR v LESS_EQUAL 0 OR v GREATER_EQUAL ${max_loss})
    message(FATAL_ERROR "train-tiny: ${key} = ${v}, expected in (0, ${max_loss}): ${json}")
  endif()
  message(STATUS "train-tiny ${key} ${v}")
endforeach()
message(STATUS "out-of-tree project built and trained with the installed netc")
