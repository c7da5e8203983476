# NetcTrainers.cmake — the report's four trainers, the golden generated/
# copies, and the installable netc package (issue [codegen]).

set(NETC_TRAINER_MODELS autoencoder denoiser classifier vae)
foreach(model ${NETC_TRAINER_MODELS})
  netc_add_model(${model} models/${model}.net)
endforeach()

# The zoo's trainers (models/zoo/): built like the report's; their golden
# copies are in generated/zoo/.
set(NETC_ZOO_MODELS lenet5 mlp cnn_bn resnet8 unet conv_vae)
foreach(model ${NETC_ZOO_MODELS})
  netc_add_model(${model} models/zoo/${model}.net)
endforeach()

# `cmake --build build --target regen` refreshes generated/ from the build
# tree's copies (tests/codegen checks they are byte-identical).
set(regen_cmds "")
set(regen_deps "")
foreach(model ${NETC_TRAINER_MODELS})
  foreach(ext c h)
    list(APPEND regen_cmds COMMAND ${CMAKE_COMMAND} -E copy
         ${CMAKE_BINARY_DIR}/netc-${model}/${model}.${ext}
         ${CMAKE_SOURCE_DIR}/generated/${model}.${ext})
    list(APPEND regen_deps ${CMAKE_BINARY_DIR}/netc-${model}/${model}.${ext})
  endforeach()
endforeach()
foreach(model ${NETC_ZOO_MODELS})
  foreach(ext c h)
    list(APPEND regen_cmds COMMAND ${CMAKE_COMMAND} -E copy
         ${CMAKE_BINARY_DIR}/netc-${model}/${model}.${ext}
         ${CMAKE_SOURCE_DIR}/generated/zoo/${model}.${ext})
    list(APPEND regen_deps ${CMAKE_BINARY_DIR}/netc-${model}/${model}.${ext})
  endforeach()
endforeach()
add_custom_target(regen ${regen_cmds} DEPENDS ${regen_deps}
                  COMMENT "refreshing generated/ from netc's output")

# Install: netc, the two libraries the generated code links, their
# headers, and the CMake package (netcConfig.cmake + NetcAddModel.cmake).
# The libraries are installed as files and re-declared as imported targets
# by netcConfig.cmake (netrt's include directory is a source path, so it
# cannot go through an export set).
include(GNUInstallDirs)
install(PROGRAMS $<TARGET_FILE:netc> DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES $<TARGET_FILE:netrt> $<TARGET_FILE:netxsmm> DESTINATION ${CMAKE_INSTALL_LIBDIR})
file(GLOB netc_runtime_headers CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/runtime/*.h ${CMAKE_SOURCE_DIR}/runtime/xsmm/*.h
     ${CMAKE_SOURCE_DIR}/runtime/data/*.h)
install(FILES ${netc_runtime_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/netc)
install(FILES ${CMAKE_SOURCE_DIR}/cmake/netcConfig.cmake ${CMAKE_SOURCE_DIR}/cmake/NetcAddModel.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/netc)
include(CMakePackageConfigHelpers)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/netcConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/netcConfigVersion.cmake DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/netc)

# The committed MNIST subset, the trainers' default --data
# (mnist_default_dir: BIN/../share/netc/mnist), and the models as examples.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/runtime/mnist/ DESTINATION ${CMAKE_INSTALL_DATADIR}/netc/mnist)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/netc/models
        FILES_MATCHING PATTERN "*.net" PATTERN "*.md")
# pkg-config for programs built without CMake (docs/embedding.md):
# `pkg-config --cflags --libs netc` compiles and links generated code.
# The prefix is found from the .pc file's own place (${pcfiledir}), so an
# install under any --prefix works.
file(RELATIVE_PATH NETC_PC_UP /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
configure_file(${CMAKE_SOURCE_DIR}/cmake/netc.pc.in ${CMAKE_BINARY_DIR}/netc.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/netc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# The user-facing programs besides netc: netc-data (runtime/data) here; the
# study's (netc-search, netc-variant, latent-analysis, decode-samples) in
# their folders' CMakeLists, when NETC_STUDY builds them.
install(TARGETS netc-data RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
