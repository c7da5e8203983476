# check_zoo_trains.cmake — end to end: one epoch of a zoo model's generated
# trainer on the committed MNIST subset reaches MIN_ACCURACY on the test
# images (evaluated in evaluation mode: dropout off).
# Usage: cmake -DTRAINER=... -DDATA=... -DMIN_ACCURACY=... -P check_zoo_trains.cmake
execute_process(
  COMMAND ${TRAINER} --data ${DATA} --epochs 1 --batch 64 --seed 1 --threads 1 --json --quiet
  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TRAINER} failed (${rc}):\n${out}")
endif()
string(STRIP "${out}" out)
string(REGEX REPLACE ".*\n" "" last "${out}")
string(JSON acc GET "${last}" test_accuracy)
message(STATUS "${TRAINER}, 1 epoch: test accuracy ${acc} (bound ${MIN_ACCURACY})")
if(acc LESS ${MIN_ACCURACY})
  message(FATAL_ERROR "test accuracy ${acc} is below ${MIN_ACCURACY}")
endif()
