# Finds what netc needs.  A missing dependency stops configuration with the
# Debian package that provides it (.ci/run installs them all).
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

function(netc_require_pkg var module debian)
  pkg_check_modules(${var} IMPORTED_TARGET ${module})
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR "${module} not found: apt-get install ${debian}")
  endif()
endfunction()

find_program(RE2C re2c)
if(NOT RE2C)
  message(FATAL_ERROR "re2c not found: apt-get install re2c")
endif()

netc_require_pkg(OPENBLAS openblas libopenblas-dev)
netc_require_pkg(XSMM libxsmm libxsmm-dev)
netc_require_pkg(ZLIB zlib zlib1g-dev)
# The data readers (runtime/data): .npz archives, PNG and JPEG folders.
netc_require_pkg(MINIZIP minizip libminizip-dev)
netc_require_pkg(PNG libpng libpng-dev)
netc_require_pkg(JPEG libjpeg libjpeg62-turbo-dev)
# Only the study's tools (study/) need these: PCA (LAPACKE), figures (cairo,
# libpng), the search's storage (SQLite, libpq).
if(NETC_STUDY)
  netc_require_pkg(LAPACKE lapacke liblapacke-dev)
  netc_require_pkg(SQLITE3 sqlite3 libsqlite3-dev)
  netc_require_pkg(CAIRO cairo libcairo2-dev)
  netc_require_pkg(PQ libpq libpq-dev)
endif()

find_package(OpenMP COMPONENTS C)
if(NOT OpenMP_C_FOUND)
  message(FATAL_ERROR "OpenMP not found: apt-get install libgomp1 (gcc) or libomp-dev (clang)")
endif()
find_library(MATH_LIB m)
