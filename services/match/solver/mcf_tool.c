/*  mcf_tool.c — station-mcf: solve a DIMACS min-cost-flow file, or generate a county instance

    station-mcf [--check] [--flows] [--stats] FILE|-
        prints `s COST` (the DIMACS solution line); --flows adds `f FROM TO FLOW` for every arc
        with flow, --check verifies the optimality certificate and prints `c certificate ok`,
        --stats writes sizes, pivots and timings to stderr. Exit 0 at an optimum, 1 when the
        problem has no optimum (infeasible, unbounded, numbers too large), 2 on bad input or
        usage, 3 when the certificate fails (a solver bug).
    station-mcf --gen-county N_VOL N_REQ CANDIDATES SEED
        writes a county dispatch instance (see mcf_dimacs.h) to stdout.
*/
#include "mcf.h"
#include "mcf_dimacs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_PROGRAM "station-mcf"

//  Prints the usage to `out`.
static void
s_usage (FILE *out)
{
    fprintf (out, "usage: " S_PROGRAM " [--check] [--flows] [--stats] FILE|-\n"
                  "       " S_PROGRAM " --gen-county N_VOL N_REQ CANDIDATES SEED > FILE\n");
}

//  Seconds on the monotonic clock.
static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

//  Parses a whole argument as an integer in lo..hi. Returns 0, or -1 after printing why.
static int
s_arg_int (const char *arg, const char *name, long long lo, long long hi, long long *value)
{
    char *end;
    errno = 0;
    long long parsed = strtoll (arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || parsed < lo || parsed > hi) {
        fprintf (stderr, S_PROGRAM ": %s must be a whole number in %lld..%lld, not \"%s\"\n", name,
                 lo, hi, arg);
        return -1;
    }
    *value = parsed;
    return 0;
}

//  Handles --gen-county: validates the four arguments and writes the instance. Returns the
//  exit code.
static int
s_gen_county (char **args)
{
    long long n_vol, n_req, candidates, seed;
    if (s_arg_int (args[0], "N_VOL", 1, MCF_NODES_MAX / 2, &n_vol)
        || s_arg_int (args[1], "N_REQ", 1, MCF_NODES_MAX / 2, &n_req)
        || s_arg_int (args[2], "CANDIDATES", 1, n_vol, &candidates)
        || s_arg_int (args[3], "SEED", 0, INT64_MAX, &seed))
        return 2;
    if (n_req * (candidates + 2) + n_vol > MCF_ARCS_MAX) {
        fprintf (stderr, S_PROGRAM ": instance would exceed %d arcs\n", MCF_ARCS_MAX);
        return 2;
    }
    mcf_dimacs_t *instance = mcf_dimacs_gen_county ((int32_t) n_vol, (int32_t) n_req,
                                                    (int32_t) candidates, (uint64_t) seed);
    char comment[512];
    snprintf (comment, sizeof comment,
              "station county dispatch round: %lld volunteers, %lld requests, %lld candidates "
              "each, seed %lld\n"
              "node 1 source, 2..%lld requests, %lld..%lld volunteers, %lld sink",
              n_vol, n_req, candidates, seed, n_req + 1, n_req + 2, n_req + n_vol + 1,
              n_req + n_vol + 2);
    int rc = mcf_dimacs_write (instance, stdout, comment);
    mcf_dimacs_destroy (&instance);
    if (rc != 0) {
        fprintf (stderr, S_PROGRAM ": could not write the instance: %s\n", strerror (errno));
        return 2;
    }
    return 0;
}

//  Says why a problem has no optimum, for a status other than MCF_OPTIMAL; a static string.
static const char *
s_no_optimum (mcf_status_t status)
{
    switch (status) {
    case MCF_INFEASIBLE:
        return "no feasible flow: the supplies cannot be met within the capacities (or do not "
               "sum to zero)";
    case MCF_UNBOUNDED:
        return "unbounded: a cycle of uncapacitated arcs has negative cost";
    case MCF_OVERFLOW:
        return "costs, capacities or supplies too large for exact 64-bit arithmetic";
    default:
        return mcf_status_str (status);
    }
}

//  Reads, solves and reports one file. Returns the exit code.
static int
s_solve_file (const char *path, bool check, bool flows, bool stats)
{
    FILE *in = strcmp (path, "-") == 0 ? stdin : fopen (path, "r");
    if (!in) {
        fprintf (stderr, S_PROGRAM ": could not open \"%s\": %s\n", path, strerror (errno));
        return 2;
    }
    char err[256];
    double start = s_now ();
    mcf_dimacs_t *instance = mcf_dimacs_read (in, err, sizeof err);
    if (in != stdin)
        fclose (in);
    if (!instance) {
        fprintf (stderr, S_PROGRAM ": %s: %s\n", path, err);
        return 2;
    }
    double read_done = s_now ();
    mcf_t *mcf = mcf_dimacs_build (instance);
    double built = s_now ();
    mcf_status_t status = mcf_solve (mcf);
    double solved = s_now ();
    if (stats)
        fprintf (stderr, "c nodes %d arcs %d pivots %lld read %.3f s build %.3f s solve %.3f s\n",
                 mcf_nodes (mcf), mcf_arcs (mcf), (long long) mcf_pivots (mcf), read_done - start,
                 built - read_done, solved - built);
    int rc = 0;
    if (status != MCF_OPTIMAL) {
        fprintf (stderr, S_PROGRAM ": %s: %s\n", path, s_no_optimum (status));
        rc = 1;
    } else {
        printf ("s %lld\n", (long long) mcf_total_cost (mcf));
        if (flows)
            for (int32_t a = 0; a < mcf_arcs (mcf); a++) {
                int64_t flow = mcf_flow (mcf, a);
                int32_t from, to;
                mcf_dimacs_arc (instance, a, &from, &to, NULL, NULL);
                if (flow != 0)
                    printf ("f %d %d %lld\n", from + 1, to + 1, (long long) flow);
            }
        if (check) {
            if (mcf_check (mcf, err, sizeof err) == 0)
                printf ("c certificate ok\n");
            else {
                fprintf (stderr, S_PROGRAM ": %s: certificate failed: %s\n", path, err);
                rc = 3;
            }
        }
    }
    mcf_destroy (&mcf);
    mcf_dimacs_destroy (&instance);
    if (fflush (stdout) != 0) {
        fprintf (stderr, S_PROGRAM ": could not write the result: %s\n", strerror (errno));
        rc = rc ? rc : 2;
    }
    return rc;
}

int
main (int argc, char **argv)
{
    bool check = false, flows = false, stats = false;
    const char *path = NULL;
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp (arg, "--gen-county") == 0) {
            if (argc - a - 1 != 4) {
                s_usage (stderr);
                return 2;
            }
            return s_gen_county (argv + a + 1);
        } else if (strcmp (arg, "--check") == 0)
            check = true;
        else if (strcmp (arg, "--flows") == 0)
            flows = true;
        else if (strcmp (arg, "--stats") == 0)
            stats = true;
        else if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0) {
            s_usage (stdout);
            return 0;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf (stderr, S_PROGRAM ": unknown option \"%s\"\n", arg);
            s_usage (stderr);
            return 2;
        } else if (path) {
            fprintf (stderr, S_PROGRAM ": one file at a time (\"%s\" and \"%s\")\n", path, arg);
            return 2;
        } else
            path = arg;
    }
    if (!path) {
        s_usage (stderr);
        return 2;
    }
    return s_solve_file (path, check, flows, stats);
}
