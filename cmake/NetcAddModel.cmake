# NetcAddModel.cmake — build-time code generation with netc (issue [codegen]).
#
#   netc_generate(MODEL OUT_DIR <dir> [DEFINES name=value ...] [NO_FUSE]
#                 [NET <net>] [SOURCES_VAR <var>])
#     Runs `netc MODEL -o <dir>` at build time (re-run when netc, MODEL or
#     any .net it imports changes) and sets <var> to the generated .c.
#     MODEL is relative to the current source dir, where netc runs, so the
#     path in the generated header is the one given here.  With NET, the
#     net instance <net> alone (`--net <net>`, forward only): the files are
#     MODELNAME_<net>.c/.h.
#
#   netc_add_model(NAME MODEL [DEFINES name=value ...] [NO_FUSE]
#                  [LIBRARY] [NETS net ...] [PORTABLE])
#     The trainer executable train-NAME: the generated C + the runtime
#     (netrt) + the kernels (netxsmm, on libxsmm) + OpenMP.  Its main() is
#     the runtime's training driver.
#     LIBRARY: also the static library NAME, for a program that embeds the
#     model (docs/embedding.md): the generated code without main(), its
#     header directory and the runtime as usage requirements, so
#     `target_link_libraries(app PRIVATE NAME)` is all a program needs.
#     NETS net ...: each net instance alone too (`--net`, MODELNAME_<net>.c/.h
#     in the library: MODELNAME_<net>(model, in, n, out, err)); implies LIBRARY.
#     Optimisation: from an installed netc, the generated code is compiled
#     as netc's own trainers are, -O3 -march=native, whatever the project's
#     CMAKE_BUILD_TYPE (generated code at -O0 runs ~10x slower).  PORTABLE,
#     or the cache variable NETC_PORTABLE=ON for every model, leaves out
#     -march=native: code for any CPU of the architecture (slower: no AVX2
#     or AVX-512).  In netc's own tree the build's flags apply (NETC_NATIVE).
#
# Works in the netc build tree (targets netc, netrt, netxsmm) and from an
# installed package (find_package(netc): netc::netc, netc::netrt, netc::netxsmm).

function(_netc_targets exe_var dep_var libs_var)
  if(TARGET netc AND TARGET netrt AND TARGET netxsmm)
    set(${exe_var} $<TARGET_FILE:netc> PARENT_SCOPE)
    set(${dep_var} netc PARENT_SCOPE)
    set(${libs_var} netrt netxsmm PARENT_SCOPE)
  else()
    set(${exe_var} $<TARGET_FILE:netc::netc> PARENT_SCOPE)
    set(${dep_var} netc::netc PARENT_SCOPE)
    set(${libs_var} netc::netrt netc::netxsmm PARENT_SCOPE)
  endif()
endfunction()

# The .net files `file` imports, recursively (import "x.net" is relative to
# the importing file).
function(_netc_imports file out_var)
  set(todo ${file})
  set(seen "")
  while(todo)
    list(POP_FRONT todo f)
    if(f IN_LIST seen OR NOT EXISTS ${f})
      continue()
    endif()
    list(APPEND seen ${f})
    file(STRINGS ${f} lines REGEX "^[ \t]*import[ \t]+\"[^\"]+\"")
    get_filename_component(dir ${f} DIRECTORY)
    foreach(line ${lines})
      string(REGEX REPLACE "^[ \t]*import[ \t]+\"([^\"]+)\".*" "\\1" imp "${line}")
      get_filename_component(imp ${imp} ABSOLUTE BASE_DIR ${dir})
      list(APPEND todo ${imp})
    endforeach()
  endwhile()
  set(${out_var} ${seen} PARENT_SCOPE)
endfunction()

# The model's name (`model NAME {`): the generated files are NAME.h / NAME.c.
function(_netc_model_name file out_var)
  file(STRINGS ${file} lines REGEX "^[ \t]*model[ \t]+[A-Za-z_][A-Za-z0-9_]*")
  list(GET lines 0 line)
  string(REGEX REPLACE "^[ \t]*model[ \t]+([A-Za-z_][A-Za-z0-9_]*).*" "\\1" name "${line}")
  set(${out_var} ${name} PARENT_SCOPE)
endfunction()

function(netc_generate model)
  cmake_parse_arguments(A "NO_FUSE" "OUT_DIR;SOURCES_VAR;NET" "DEFINES" ${ARGN})
  get_filename_component(model_abs ${model} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  _netc_imports(${model_abs} deps)
  _netc_model_name(${model_abs} name)
  _netc_targets(netc_exe netc_dep netc_libs)
  set(args ${model} -o ${A_OUT_DIR})
  foreach(d ${A_DEFINES})
    list(APPEND args -D ${d})
  endforeach()
  if(A_NO_FUSE)
    list(APPEND args --no-fuse)
  endif()
  if(A_NET)
    list(APPEND args --net ${A_NET})
    set(name ${name}_${A_NET})
  endif()
  add_custom_command(
    OUTPUT ${A_OUT_DIR}/${name}.c ${A_OUT_DIR}/${name}.h
    COMMAND ${CMAKE_COMMAND} -E make_directory ${A_OUT_DIR}
    COMMAND ${netc_exe} ${args}
    DEPENDS ${netc_dep} ${deps}
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}
    COMMENT "netc ${model} -> ${A_OUT_DIR}"
    VERBATIM)
  if(A_SOURCES_VAR)
    set(${A_SOURCES_VAR} ${A_OUT_DIR}/${name}.c PARENT_SCOPE)
  endif()
endfunction()

set(NETC_PORTABLE OFF CACHE BOOL "netc_add_model: compile generated code without -march=native")

# The flags of netc's own trainers on target (installed netc only: in the
# tree, the build's own flags are those).
function(_netc_optimise target portable)
  if(TARGET netc)
    return()
  endif()
  target_compile_options(${target} PRIVATE -O3)
  if(NOT portable AND NOT NETC_PORTABLE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
endfunction()

function(netc_add_model name model)
  cmake_parse_arguments(A "NO_FUSE;LIBRARY;PORTABLE" "" "DEFINES;NETS" ${ARGN})
  set(flags "")
  if(A_NO_FUSE)
    set(flags NO_FUSE)
  endif()
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/netc-${name})
  netc_generate(${model} OUT_DIR ${dir} DEFINES ${A_DEFINES} ${flags} SOURCES_VAR src)
  _netc_targets(netc_exe netc_dep netc_libs)
  find_package(OpenMP COMPONENTS C REQUIRED)
  add_executable(train-${name} ${src})
  target_include_directories(train-${name} PRIVATE ${dir})
  target_link_libraries(train-${name} PRIVATE ${netc_libs} OpenMP::OpenMP_C m)
  _netc_optimise(train-${name} "${A_PORTABLE}")
  if(A_LIBRARY OR A_NETS)
    set(lib_src ${src})
    foreach(net ${A_NETS})
      netc_generate(${model} OUT_DIR ${dir} DEFINES ${A_DEFINES} ${flags} NET ${net} SOURCES_VAR net_src)
      list(APPEND lib_src ${net_src})
    endforeach()
    add_library(${name} STATIC ${lib_src})
    target_compile_definitions(${name} PRIVATE NETC_NO_MAIN)
    target_include_directories(${name} PUBLIC ${dir})
    target_link_libraries(${name} PUBLIC ${netc_libs} OpenMP::OpenMP_C m)
    _netc_optimise(${name} "${A_PORTABLE}")
  endif()
endfunction()
