# check_autoencoder.cmake — end to end: two epochs of `netc run` on the
# committed MNIST subset must bring the autoencoder's test loss well below
# that of predicting the mean image (0.0675 MSE): below 0.05.
# Usage: cmake -DNETC=... -DMODEL=... -P check_autoencoder.cmake
# Batch 16 with lr 2e-3 gives ~1,100 Adam steps in two epochs of the
# 9,000 training images (batch 256 would give 70, too few for the claim);
# one thread keeps it fast on a loaded machine.
execute_process(
  COMMAND ${NETC} run ${MODEL} --epochs 2 --batch 16 --lr 2e-3 --seed 1 --threads 1 --json --quiet
  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "netc run failed (${rc}):\n${out}")
endif()
string(STRIP "${out}" out)
string(REGEX REPLACE ".*\n" "" last "${out}")
string(JSON test_loss GET "${last}" test_loss)
message(STATUS "autoencoder, 2 epochs: test loss ${test_loss} (mean image: 0.0675, bound 0.05)")
if(test_loss GREATER_EQUAL 0.05)
  message(FATAL_ERROR "test loss ${test_loss} is not below 0.05")
endif()
