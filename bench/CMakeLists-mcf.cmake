# bench/CMakeLists-mcf.cmake: bench_mcf, our network simplex against LEMON on a county instance
# (included from bench/CMakeLists.txt; needs the st_mcf target from services/match/solver)

# LEMON's NetworkSimplex and CostScaling are header-only; lemon.pc also lists -llemon, which
# costs nothing when unused.
# Without LEMON (liblemon-dev) the other benchmarks still build; scripts/ install it.
pkg_check_modules (LEMON IMPORTED_TARGET lemon)
if (NOT LEMON_FOUND)
    message (STATUS "LEMON not found: bench_mcf is not built")
    return ()
endif ()
add_executable (bench_mcf ${CMAKE_CURRENT_LIST_DIR}/bench_mcf.cpp)
target_link_libraries (bench_mcf PRIVATE st_mcf PkgConfig::LEMON)
# gcc 12 reports a false "may be used uninitialized" inside libstdc++ when SmartDigraph's
# addNode/addArc (value-initialised PODs pushed into a vector) are inlined into our code.
target_compile_options (bench_mcf PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
