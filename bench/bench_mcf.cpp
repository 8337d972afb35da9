/*  bench_mcf.cpp — our network simplex against LEMON NetworkSimplex and CostScaling, same run

    bench_mcf [N_VOL N_REQ CANDIDATES SEED]     (default 100000 10000 50 1)
    bench_mcf -f FILE                           (a DIMACS min-cost-flow file instead)

    Generates the county dispatch round of matching.md (or reads a file), then solves it with
    each solver in a forked child, so each child's peak RSS (ru_maxrss from wait4) is that
    solver's alone on top of the shared instance. Prints build time, solve time, optimal cost,
    staffed headcount and memory per solver, fails (exit 1) unless all costs are equal, and
    compares a greedy dispatcher with the optimum.
*/
#include "mcf.h"
#include "mcf_dimacs.h"

#include <lemon/cost_scaling.h>
#include <lemon/network_simplex.h>
#include <lemon/smart_graph.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace
{

using Clock = std::chrono::steady_clock;

//  What a child reports back through its pipe.
struct Result {
    int optimal;        //  1 when the solver found an optimum
    double build_s;     //  building the solver's graph from the instance
    double solve_s;     //  solving
    long long cost;     //  optimal cost
    long long unserved; //  flow left on the requests' "unserved" arcs
    long long pivots;   //  simplex pivots (ours only; -1 otherwise)
    long baseline_kb;   //  resident set when the child started (the inherited instance)
};

//  The dispatch structure read back from a generic instance: source and sink by supply,
//  requests as the heads of source arcs, so the figures work for files as well.
struct Shape {
    int32_t source = -1, sink = -1;
    int64_t headcount = 0;
    std::vector<char> is_request;
    std::vector<char> is_unserved; //  per arc: request -> sink
};

//  Seconds between two clock readings.
double
s_seconds (Clock::time_point from, Clock::time_point to)
{
    return std::chrono::duration<double> (to - from).count ();
}

//  Current resident set of this process in kB, from /proc/self/status (0 if unreadable).
long
s_rss_kb ()
{
    FILE *status = fopen ("/proc/self/status", "r");
    if (!status)
        return 0;
    char line[256];
    long kb = 0;
    while (fgets (line, sizeof line, status))
        if (strncmp (line, "VmRSS:", 6) == 0)
            kb = strtol (line + 6, nullptr, 10);
    fclose (status);
    return kb;
}

//  Finds source, sink, requests and unserved arcs of an instance.
Shape
s_shape (mcf_dimacs_t *instance)
{
    Shape shape;
    int32_t n = mcf_dimacs_nodes (instance), m = mcf_dimacs_arcs (instance);
    for (int32_t u = 0; u < n; u++) {
        int64_t s = mcf_dimacs_supply (instance, u);
        if (s > 0) {
            shape.source = u;
            shape.headcount = s;
        } else if (s < 0)
            shape.sink = u;
    }
    shape.is_request.assign ((size_t) n, 0);
    shape.is_unserved.assign ((size_t) m, 0);
    for (int32_t a = 0; a < m; a++) {
        int32_t u, v;
        mcf_dimacs_arc (instance, a, &u, &v, nullptr, nullptr);
        if (u == shape.source)
            shape.is_request[(size_t) v] = 1;
    }
    for (int32_t a = 0; a < m; a++) {
        int32_t u, v;
        mcf_dimacs_arc (instance, a, &u, &v, nullptr, nullptr);
        shape.is_unserved[(size_t) a] = shape.is_request[(size_t) u] && v == shape.sink;
    }
    return shape;
}

//  Ours: build, solve, read the flows.
Result
s_run_mcf (mcf_dimacs_t *instance, const Shape &shape)
{
    Result r = {};
    auto t0 = Clock::now ();
    mcf_t *mcf = mcf_dimacs_build (instance);
    auto t1 = Clock::now ();
    mcf_status_t status = mcf_solve (mcf);
    auto t2 = Clock::now ();
    r.build_s = s_seconds (t0, t1);
    r.solve_s = s_seconds (t1, t2);
    r.pivots = mcf_pivots (mcf);
    r.optimal = status == MCF_OPTIMAL;
    if (r.optimal) {
        r.cost = mcf_total_cost (mcf);
        for (int32_t a = 0; a < mcf_arcs (mcf); a++)
            if (shape.is_unserved[(size_t) a])
                r.unserved += mcf_flow (mcf, a);
        char why[256];
        if (mcf_check (mcf, why, sizeof why) != 0) {
            fprintf (stderr, "bench_mcf: mcf certificate failed: %s\n", why);
            r.optimal = 0;
        }
    }
    mcf_destroy (&mcf);
    return r;
}

//  LEMON's graph and maps built from the instance.
struct LemonNetwork {
    lemon::SmartDigraph graph;
    lemon::SmartDigraph::ArcMap<int64_t> cap{graph}, cost{graph};
    lemon::SmartDigraph::NodeMap<int64_t> supply{graph};
    std::vector<lemon::SmartDigraph::Arc> arcs;

    explicit LemonNetwork (mcf_dimacs_t *instance)
    {
        int32_t n = mcf_dimacs_nodes (instance), m = mcf_dimacs_arcs (instance);
        graph.reserveNode (n);
        graph.reserveArc (m);
        std::vector<lemon::SmartDigraph::Node> nodes ((size_t) n);
        for (int32_t u = 0; u < n; u++) {
            nodes[(size_t) u] = graph.addNode ();
            supply[nodes[(size_t) u]] = mcf_dimacs_supply (instance, u);
        }
        arcs.resize ((size_t) m);
        for (int32_t a = 0; a < m; a++) {
            int32_t u, v;
            int64_t c, k;
            mcf_dimacs_arc (instance, a, &u, &v, &c, &k);
            auto arc = graph.addArc (nodes[(size_t) u], nodes[(size_t) v]);
            arcs[(size_t) a] = arc;
            cap[arc] = c;
            cost[arc] = k;
        }
    }
};

//  LEMON NetworkSimplex with block search pivots (its default).
Result
s_run_lemon_ns (mcf_dimacs_t *instance, const Shape &shape)
{
    using Simplex = lemon::NetworkSimplex<lemon::SmartDigraph, int64_t, int64_t>;
    Result r = {};
    r.pivots = -1;
    auto t0 = Clock::now ();
    LemonNetwork net (instance);
    Simplex simplex (net.graph);
    simplex.upperMap (net.cap).costMap (net.cost).supplyMap (net.supply);
    auto t1 = Clock::now ();
    Simplex::ProblemType status = simplex.run (Simplex::BLOCK_SEARCH);
    auto t2 = Clock::now ();
    r.build_s = s_seconds (t0, t1);
    r.solve_s = s_seconds (t1, t2);
    r.optimal = status == Simplex::OPTIMAL;
    if (r.optimal) {
        r.cost = (long long) simplex.totalCost<int64_t> ();
        for (size_t a = 0; a < net.arcs.size (); a++)
            if (shape.is_unserved[a])
                r.unserved += simplex.flow (net.arcs[a]);
    }
    return r;
}

//  LEMON CostScaling with its default method (partial augment-relabel).
Result
s_run_lemon_cs (mcf_dimacs_t *instance, const Shape &shape)
{
    using Scaling = lemon::CostScaling<lemon::SmartDigraph, int64_t, int64_t>;
    Result r = {};
    r.pivots = -1;
    auto t0 = Clock::now ();
    LemonNetwork net (instance);
    Scaling scaling (net.graph);
    scaling.upperMap (net.cap).costMap (net.cost).supplyMap (net.supply);
    auto t1 = Clock::now ();
    Scaling::ProblemType status = scaling.run ();
    auto t2 = Clock::now ();
    r.build_s = s_seconds (t0, t1);
    r.solve_s = s_seconds (t1, t2);
    r.optimal = status == Scaling::OPTIMAL;
    if (r.optimal) {
        r.cost = (long long) scaling.totalCost<int64_t> ();
        for (size_t a = 0; a < net.arcs.size (); a++)
            if (shape.is_unserved[a])
                r.unserved += scaling.flow (net.arcs[a]);
    }
    return r;
}

//  Runs one solver in a forked child. Returns 0 with the child's result and peak RSS (kB), or
//  -1 when the child failed.
int
s_run_forked (Result (*solver) (mcf_dimacs_t *, const Shape &), mcf_dimacs_t *instance,
              const Shape &shape, Result *result, long *peak_kb)
{
    int fds[2];
    if (pipe (fds) != 0) {
        perror ("bench_mcf: pipe");
        return -1;
    }
    fflush (stdout);
    pid_t pid = fork ();
    if (pid < 0) {
        perror ("bench_mcf: fork");
        close (fds[0]);
        close (fds[1]);
        return -1;
    }
    if (pid == 0) {
        close (fds[0]);
        long baseline = s_rss_kb ();
        Result r = solver (instance, shape);
        r.baseline_kb = baseline;
        ssize_t written = write (fds[1], &r, sizeof r);
        _exit (written == (ssize_t) sizeof r ? 0 : 1);
    }
    close (fds[1]);
    ssize_t got = 0;
    while (got < (ssize_t) sizeof *result) {
        ssize_t n = read (fds[0], (char *) result + got, sizeof *result - (size_t) got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += n;
    }
    close (fds[0]);
    int status = 0;
    struct rusage usage;
    memset (&usage, 0, sizeof usage);
    while (wait4 (pid, &status, 0, &usage) < 0 && errno == EINTR)
        ;
    *peak_kb = usage.ru_maxrss;
    if (got != (ssize_t) sizeof *result || !WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        fprintf (stderr, "bench_mcf: solver child failed\n");
        return -1;
    }
    return 0;
}

//  The greedy dispatcher: requests by falling penalty (urgency and care group), each taking its
//  cheapest still-free candidates while they cost less than leaving the place unserved.
//  Returns the cost on the same objective and sets *staffed.
long long
s_greedy (mcf_dimacs_t *instance, const Shape &shape, long long *staffed)
{
    int32_t n = mcf_dimacs_nodes (instance), m = mcf_dimacs_arcs (instance);
    std::vector<int64_t> penalty ((size_t) n, 0), need ((size_t) n, 0);
    std::vector<std::vector<std::pair<int64_t, int32_t>>> candidates ((size_t) n);
    std::vector<int32_t> requests;
    for (int32_t a = 0; a < m; a++) {
        int32_t u, v;
        int64_t cap, cost;
        mcf_dimacs_arc (instance, a, &u, &v, &cap, &cost);
        if (u == shape.source) {
            need[(size_t) v] = cap;
            requests.push_back (v);
        } else if (shape.is_unserved[(size_t) a])
            penalty[(size_t) u] = cost;
        else if (shape.is_request[(size_t) u])
            candidates[(size_t) u].push_back ({cost, v});
    }
    std::stable_sort (requests.begin (), requests.end (), [&] (int32_t x, int32_t y) {
        return penalty[(size_t) x] > penalty[(size_t) y];
    });
    std::vector<char> busy ((size_t) n, 0);
    long long total = 0;
    *staffed = 0;
    for (int32_t r : requests) {
        auto &list = candidates[(size_t) r];
        std::sort (list.begin (), list.end ());
        int64_t taken = 0;
        for (auto &c : list) {
            if (taken == need[(size_t) r] || c.first >= penalty[(size_t) r])
                break;
            if (busy[(size_t) c.second])
                continue;
            busy[(size_t) c.second] = 1;
            total += c.first;
            taken++;
        }
        total += (need[(size_t) r] - taken) * penalty[(size_t) r];
        *staffed += taken;
    }
    return total;
}

//  Parses a whole argument as an integer in lo..hi; prints why and returns false otherwise.
bool
s_arg (const char *arg, const char *name, long long lo, long long hi, long long *value)
{
    char *end;
    errno = 0;
    long long parsed = strtoll (arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || parsed < lo || parsed > hi) {
        fprintf (stderr, "bench_mcf: %s must be a whole number in %lld..%lld, not \"%s\"\n", name,
                 lo, hi, arg);
        return false;
    }
    *value = parsed;
    return true;
}

} // namespace

int
main (int argc, char **argv)
{
    long long n_vol = 100000, n_req = 10000, cand = 50, seed = 1;
    mcf_dimacs_t *instance = nullptr;
    auto t0 = Clock::now ();
    char what[512];
    if (argc == 3 && strcmp (argv[1], "-f") == 0) {
        FILE *in = fopen (argv[2], "r");
        if (!in) {
            fprintf (stderr, "bench_mcf: could not open \"%s\": %s\n", argv[2], strerror (errno));
            return 2;
        }
        char err[256];
        instance = mcf_dimacs_read (in, err, sizeof err);
        fclose (in);
        if (!instance) {
            fprintf (stderr, "bench_mcf: %s: %s\n", argv[2], err);
            return 2;
        }
        snprintf (what, sizeof what, "instance %s", argv[2]);
    } else if (argc == 1 || argc == 5) {
        if (argc == 5
            && !(s_arg (argv[1], "N_VOL", 1, MCF_NODES_MAX / 2, &n_vol)
                 && s_arg (argv[2], "N_REQ", 1, MCF_NODES_MAX / 2, &n_req)
                 && s_arg (argv[3], "CANDIDATES", 1, n_vol, &cand)
                 && s_arg (argv[4], "SEED", 0, INT64_MAX, &seed)))
            return 2;
        if (n_req * (cand + 2) + n_vol > MCF_ARCS_MAX) {
            fprintf (stderr, "bench_mcf: instance would exceed %d arcs\n", MCF_ARCS_MAX);
            return 2;
        }
        instance = mcf_dimacs_gen_county ((int32_t) n_vol, (int32_t) n_req, (int32_t) cand,
                                          (uint64_t) seed);
        snprintf (what, sizeof what,
                  "county round: %lld volunteers, %lld requests, %lld candidates each, seed %lld",
                  n_vol, n_req, cand, seed);
    } else {
        fprintf (stderr, "usage: bench_mcf [N_VOL N_REQ CANDIDATES SEED] | bench_mcf -f FILE\n");
        return 2;
    }
    double prepared = s_seconds (t0, Clock::now ());
    Shape shape = s_shape (instance);
    printf ("%s\n%d nodes, %d arcs, headcount %lld; instance ready in %.2f s, parent RSS %.0f "
            "MB\n\n",
            what, mcf_dimacs_nodes (instance), mcf_dimacs_arcs (instance),
            (long long) shape.headcount, prepared, s_rss_kb () / 1024.0);

    struct {
        const char *name;
        Result (*run) (mcf_dimacs_t *, const Shape &);
        Result result;
        long peak_kb;
        int ok;
    } solvers[] = {
        {"mcf (ours, network simplex)", s_run_mcf, {}, 0, 0},
        {"LEMON NetworkSimplex (block)", s_run_lemon_ns, {}, 0, 0},
        {"LEMON CostScaling", s_run_lemon_cs, {}, 0, 0},
    };
    printf ("%-30s %8s %8s %14s %9s %9s %11s\n", "solver", "build s", "solve s", "optimal cost",
            "staffed", "peak MB", "own MB");
    bool agree = true;
    long long optimum = 0, optimum_staffed = 0;
    for (auto &s : solvers) {
        s.ok =
            s_run_forked (s.run, instance, shape, &s.result, &s.peak_kb) == 0 && s.result.optimal;
        if (!s.ok) {
            printf ("%-30s failed: no optimum\n", s.name);
            agree = false;
            continue;
        }
        const Result &r = s.result;
        printf ("%-30s %8.3f %8.3f %14lld %9lld %9.1f %11.1f", s.name, r.build_s, r.solve_s, r.cost,
                (long long) shape.headcount - r.unserved, s.peak_kb / 1024.0,
                (s.peak_kb - r.baseline_kb) / 1024.0);
        if (r.pivots >= 0)
            printf ("   (%lld pivots)", r.pivots);
        printf ("\n");
        if (&s == &solvers[0]) {
            optimum = r.cost;
            optimum_staffed = (long long) shape.headcount - r.unserved;
        } else if (r.cost != optimum)
            agree = false;
    }
    printf ("\ncosts equal: %s\n", agree ? "yes" : "NO");
    printf ("(peak MB: the child's ru_maxrss, instance included; own MB: above the RSS it "
            "inherited)\n");
    if (solvers[0].ok && solvers[1].ok)
        printf ("mcf solve time / LEMON NetworkSimplex solve time: %.2f\n",
                solvers[0].result.solve_s / solvers[1].result.solve_s);

    if (shape.source >= 0 && shape.sink >= 0 && solvers[0].ok) {
        long long staffed = 0;
        auto g0 = Clock::now ();
        long long greedy = s_greedy (instance, shape, &staffed);
        double greedy_s = s_seconds (g0, Clock::now ());
        double head = shape.headcount > 0 ? (double) shape.headcount : 1.0;
        printf ("\ngreedy (priority order, cheapest free candidate; %.3f s): cost %lld "
                "(%+.2f %% vs optimum), staffed %lld of %lld (%.2f %%)\n",
                greedy_s, greedy, 100.0 * (double) (greedy - optimum) / (double) optimum, staffed,
                (long long) shape.headcount, 100.0 * (double) staffed / head);
        printf ("optimum: cost %lld, staffed %lld of %lld (%.2f %%)\n", optimum, optimum_staffed,
                (long long) shape.headcount, 100.0 * (double) optimum_staffed / head);
    }
    mcf_dimacs_destroy (&instance);
    return agree ? 0 : 1;
}
