# netcConfig.cmake — find_package(netc) for projects that compile their own
# .net models: imported targets netc::netc (the compiler), netc::netrt (the
# runtime, training driver and generated models' common part, genmodel.h)
# and netc::netxsmm (the kernels netrt calls), and the
# function netc_add_model(NAME MODEL [DEFINES ...]) (NetcAddModel.cmake).
include(CMakeFindDependencyMacro)
find_dependency(OpenMP COMPONENTS C)
find_dependency(PkgConfig)
pkg_check_modules(NETC_XSMM REQUIRED IMPORTED_TARGET libxsmm)
pkg_check_modules(NETC_OPENBLAS REQUIRED IMPORTED_TARGET openblas)
pkg_check_modules(NETC_ZLIB REQUIRED IMPORTED_TARGET zlib)
pkg_check_modules(NETC_MINIZIP REQUIRED IMPORTED_TARGET minizip)   # the data readers
pkg_check_modules(NETC_PNG REQUIRED IMPORTED_TARGET libpng)
pkg_check_modules(NETC_JPEG REQUIRED IMPORTED_TARGET libjpeg)

get_filename_component(_netc_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
include(GNUInstallDirs)

if(NOT TARGET netc::netc)
  add_executable(netc::netc IMPORTED)
  set_target_properties(netc::netc PROPERTIES
    IMPORTED_LOCATION ${_netc_prefix}/${CMAKE_INSTALL_BINDIR}/netc)

  add_library(netc::netxsmm STATIC IMPORTED)
  set_target_properties(netc::netxsmm PROPERTIES
    IMPORTED_LOCATION ${_netc_prefix}/${CMAKE_INSTALL_LIBDIR}/libnetxsmm.a
    INTERFACE_INCLUDE_DIRECTORIES ${_netc_prefix}/${CMAKE_INSTALL_INCLUDEDIR}/netc
    INTERFACE_LINK_LIBRARIES "PkgConfig::NETC_XSMM;PkgConfig::NETC_OPENBLAS;m")

  add_library(netc::netrt STATIC IMPORTED)
  set_target_properties(netc::netrt PROPERTIES
    IMPORTED_LOCATION ${_netc_prefix}/${CMAKE_INSTALL_LIBDIR}/libnetrt.a
    INTERFACE_INCLUDE_DIRECTORIES ${_netc_prefix}/${CMAKE_INSTALL_INCLUDEDIR}/netc
    INTERFACE_LINK_LIBRARIES "netc::netxsmm;PkgConfig::NETC_ZLIB;PkgConfig::NETC_MINIZIP;PkgConfig::NETC_PNG;PkgConfig::NETC_JPEG;OpenMP::OpenMP_C;m")
endif()

include(${CMAKE_CURRENT_LIST_DIR}/NetcAddModel.cmake)
