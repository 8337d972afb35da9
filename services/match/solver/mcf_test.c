/*  mcf_test.c — the network simplex and the DIMACS reader checked against exact references

    Two references written here, independent of mcf.c: brute-force enumeration of every integral
    flow (tiny instances), and successive shortest paths with Bellman-Ford (any size). Every
    optimal solve is also checked with mcf_check and its cost recomputed from the flows.
*/
#include "mcf.h"
#include "mcf_dimacs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

//  -------------------------------------------------------------------------
//  Helpers

//  A small deterministic random stream (xorshift64*), so failures reproduce.
typedef struct {
    uint64_t state;
} s_rng_t;

//  Returns the next 64 random bits.
static uint64_t
s_next (s_rng_t *rng)
{
    rng->state ^= rng->state >> 12;
    rng->state ^= rng->state << 25;
    rng->state ^= rng->state >> 27;
    return rng->state * 2685821657736338717ULL;
}

//  Returns a uniform integer in lo..hi.
static int64_t
s_range (s_rng_t *rng, int64_t lo, int64_t hi)
{
    return lo + (int64_t) (s_next (rng) % (uint64_t) (hi - lo + 1));
}

//  Solves an instance with mcf; on an optimum, requires the certificate to hold and the cost to
//  equal the sum of flow x cost. Returns the status, the cost in *cost (0 when not optimal).
static mcf_status_t
s_solve_checked (mcf_dimacs_t *instance, int64_t *cost)
{
    mcf_t *mcf = mcf_dimacs_build (instance);
    mcf_status_t status = mcf_solve (mcf);
    *cost = 0;
    if (status == MCF_OPTIMAL) {
        char why[256];
        if (mcf_check (mcf, why, sizeof why) != 0)
            fail_msg ("certificate failed: %s", why);
        int64_t sum = 0;
        for (int32_t a = 0; a < mcf_arcs (mcf); a++) {
            int64_t c;
            mcf_dimacs_arc (instance, a, NULL, NULL, NULL, &c);
            sum += mcf_flow (mcf, a) * c;
        }
        assert_true (sum == mcf_total_cost (mcf));
        *cost = sum;
    }
    mcf_destroy (&mcf);
    assert_null (mcf);
    return status;
}

//  Builds an instance from a compact table: supplies per node, then arcs as
//  {from, to, capacity, cost} rows.
static mcf_dimacs_t *
s_instance (int32_t nodes, const int64_t *supply, int32_t arcs, const int64_t (*arc)[4])
{
    mcf_dimacs_t *instance = mcf_dimacs_new (nodes, arcs);
    for (int32_t u = 0; u < nodes; u++)
        mcf_dimacs_set_supply (instance, u, supply[u]);
    for (int32_t a = 0; a < arcs; a++)
        mcf_dimacs_add_arc (instance, (int32_t) arc[a][0], (int32_t) arc[a][1], arc[a][2],
                            arc[a][3]);
    return instance;
}

//  -------------------------------------------------------------------------
//  Reference 1: brute-force enumeration of integral flows (finite, small capacities)

typedef struct {
    int32_t nodes, arcs;
    int32_t from[16], to[16];
    int64_t cap[16], cost[16];
    int64_t supply[8];
    int32_t last_arc[8]; //  highest arc index touching the node, -1 for none
    int64_t net[8];      //  flow out minus flow in so far
    int64_t best;
    int found;
} s_brute_t;

//  Tries every flow value on arc a and the arcs after it; a node is checked as soon as its last
//  arc is fixed, which prunes most of the tree.
static void
s_brute_arc (s_brute_t *b, int32_t a, int64_t cost)
{
    if (a == b->arcs) {
        if (!b->found || cost < b->best)
            b->best = cost;
        b->found = 1;
        return;
    }
    int32_t u = b->from[a], v = b->to[a];
    for (int64_t f = 0; f <= b->cap[a]; f++) {
        b->net[u] += f;
        b->net[v] -= f;
        int ok = (b->last_arc[u] != a || b->net[u] == b->supply[u])
                 && (b->last_arc[v] != a || b->net[v] == b->supply[v]);
        if (ok)
            s_brute_arc (b, a + 1, cost + f * b->cost[a]);
        b->net[u] -= f;
        b->net[v] += f;
    }
}

//  Returns MCF_OPTIMAL with the least cost in *cost, or MCF_INFEASIBLE.
static mcf_status_t
s_reference_brute (mcf_dimacs_t *instance, int64_t *cost)
{
    s_brute_t b;
    memset (&b, 0, sizeof b);
    *cost = 0;
    b.nodes = mcf_dimacs_nodes (instance);
    b.arcs = mcf_dimacs_arcs (instance);
    assert_true (b.nodes <= 8 && b.arcs <= 16);
    for (int32_t u = 0; u < b.nodes; u++) {
        b.supply[u] = mcf_dimacs_supply (instance, u);
        b.last_arc[u] = -1;
    }
    for (int32_t a = 0; a < b.arcs; a++) {
        mcf_dimacs_arc (instance, a, &b.from[a], &b.to[a], &b.cap[a], &b.cost[a]);
        assert_true (b.cap[a] <= 4);
        b.last_arc[b.from[a]] = a;
        b.last_arc[b.to[a]] = a;
    }
    for (int32_t u = 0; u < b.nodes; u++)
        if (b.last_arc[u] < 0 && b.supply[u] != 0)
            return MCF_INFEASIBLE;
    s_brute_arc (&b, 0, 0);
    *cost = b.found ? b.best : 0;
    return b.found ? MCF_OPTIMAL : MCF_INFEASIBLE;
}

//  -------------------------------------------------------------------------
//  Reference 2: successive shortest paths with Bellman-Ford

//  True when the uncapacitated arcs contain a cycle of negative cost (Bellman-Ford from a
//  virtual source joined to every node: still relaxing after n rounds means such a cycle).
static int
s_negative_uncapacitated_cycle (mcf_dimacs_t *instance)
{
    int32_t n = mcf_dimacs_nodes (instance), m = mcf_dimacs_arcs (instance);
    int64_t *dist = (int64_t *) calloc ((size_t) n + 1, sizeof (int64_t));
    int changed = 1;
    for (int32_t round = 0; round <= n && changed; round++) {
        changed = 0;
        for (int32_t a = 0; a < m; a++) {
            int32_t u, v;
            int64_t cap, cost;
            mcf_dimacs_arc (instance, a, &u, &v, &cap, &cost);
            if (cap == MCF_CAP_INF && dist[u] + cost < dist[v]) {
                dist[v] = dist[u] + cost;
                changed = 1;
            }
        }
    }
    free (dist);
    return changed;
}

typedef struct {
    int32_t nodes, edges;
    int32_t *head, *next, *to;
    int64_t *res, *cost;
} s_residual_t;

//  Adds an arc and its reverse to the residual graph; `res` is the forward residual, `back`
//  the reverse one.
static void
s_residual_add (s_residual_t *g, int32_t u, int32_t v, int64_t res, int64_t back, int64_t cost)
{
    int32_t e = g->edges;
    g->to[e] = v;
    g->res[e] = res;
    g->cost[e] = cost;
    g->next[e] = g->head[u];
    g->head[u] = e;
    g->to[e + 1] = u;
    g->res[e + 1] = back;
    g->cost[e + 1] = -cost;
    g->next[e + 1] = g->head[v];
    g->head[v] = e + 1;
    g->edges += 2;
}

//  Returns the status and optimal cost by successive shortest paths. Negative arcs start
//  saturated, so the residual graph starts without negative cycles and Bellman-Ford (a FIFO
//  queue version) finds each shortest path. Uncapacitated arcs get a capacity no basic
//  solution exceeds: the sum of |supply| and of finite capacities, plus one.
static mcf_status_t
s_reference_ssp (mcf_dimacs_t *instance, int64_t *total)
{
    int32_t n = mcf_dimacs_nodes (instance), m = mcf_dimacs_arcs (instance);
    int64_t sum = 0, bound = 0;
    *total = 0;
    for (int32_t u = 0; u < n; u++) {
        int64_t s = mcf_dimacs_supply (instance, u);
        sum += s;
        bound += s < 0 ? -s : s;
    }
    if (sum != 0)
        return MCF_INFEASIBLE;
    if (s_negative_uncapacitated_cycle (instance))
        return MCF_UNBOUNDED;
    for (int32_t a = 0; a < m; a++) {
        int64_t cap;
        mcf_dimacs_arc (instance, a, NULL, NULL, &cap, NULL);
        if (cap != MCF_CAP_INF)
            bound += cap;
    }
    int32_t source = n, sink = n + 1, count = n + 2;
    s_residual_t g = {.nodes = count};
    size_t edges = 2 * ((size_t) m + (size_t) n) + 2;
    g.head = (int32_t *) malloc ((size_t) count * sizeof (int32_t));
    g.next = (int32_t *) malloc (edges * sizeof (int32_t));
    g.to = (int32_t *) malloc (edges * sizeof (int32_t));
    g.res = (int64_t *) malloc (edges * sizeof (int64_t));
    g.cost = (int64_t *) malloc (edges * sizeof (int64_t));
    int64_t *excess = (int64_t *) calloc ((size_t) count, sizeof (int64_t));
    for (int32_t u = 0; u < count; u++)
        g.head[u] = -1;
    for (int32_t u = 0; u < n; u++)
        excess[u] = mcf_dimacs_supply (instance, u);
    for (int32_t a = 0; a < m; a++) {
        int32_t u, v;
        int64_t cap, cost;
        mcf_dimacs_arc (instance, a, &u, &v, &cap, &cost);
        if (cap == MCF_CAP_INF)
            cap = bound + 1;
        if (cost < 0) {
            s_residual_add (&g, u, v, 0, cap, cost);
            excess[u] -= cap;
            excess[v] += cap;
            *total += cap * cost;
        } else
            s_residual_add (&g, u, v, cap, 0, cost);
    }
    int64_t need = 0, shipped = 0;
    for (int32_t u = 0; u < n; u++) {
        if (excess[u] > 0) {
            s_residual_add (&g, source, u, excess[u], 0, 0);
            need += excess[u];
        } else if (excess[u] < 0)
            s_residual_add (&g, u, sink, -excess[u], 0, 0);
    }
    int64_t *dist = (int64_t *) malloc ((size_t) count * sizeof (int64_t));
    int32_t *via = (int32_t *) malloc ((size_t) count * sizeof (int32_t));
    int32_t *queue = (int32_t *) malloc ((size_t) count * sizeof (int32_t));
    char *queued = (char *) malloc ((size_t) count);
    while (shipped < need) {
        for (int32_t u = 0; u < count; u++) {
            dist[u] = INT64_MAX;
            via[u] = -1;
            queued[u] = 0;
        }
        //  Circular FIFO: a node is in the queue at most once, so `count` slots suffice
        int32_t head = 0, size = 1;
        int64_t relaxations = 0;
        dist[source] = 0;
        queue[0] = source;
        queued[source] = 1;
        while (size > 0) {
            int32_t u = queue[head];
            head = (head + 1) % count;
            size--;
            queued[u] = 0;
            for (int32_t e = g.head[u]; e >= 0; e = g.next[e]) {
                int32_t v = g.to[e];
                if (g.res[e] > 0 && dist[u] + g.cost[e] < dist[v]) {
                    dist[v] = dist[u] + g.cost[e];
                    via[v] = e;
                    if (!queued[v]) {
                        queue[(head + size) % count] = v;
                        size++;
                        queued[v] = 1;
                    }
                }
            }
            //  A negative cycle would make this loop forever: Bellman-Ford's bound
            assert_true (++relaxations <= (int64_t) count * count + 16);
        }
        if (dist[sink] == INT64_MAX)
            break;
        int64_t push = need - shipped;
        for (int32_t v = sink; v != source; v = g.to[via[v] ^ 1])
            if (g.res[via[v]] < push)
                push = g.res[via[v]];
        for (int32_t v = sink; v != source; v = g.to[via[v] ^ 1]) {
            g.res[via[v]] -= push;
            g.res[via[v] ^ 1] += push;
        }
        shipped += push;
        *total += push * dist[sink];
    }
    free (g.head);
    free (g.next);
    free (g.to);
    free (g.res);
    free (g.cost);
    free (excess);
    free (dist);
    free (via);
    free (queue);
    free (queued);
    if (shipped < need) {
        *total = 0;
        return MCF_INFEASIBLE;
    }
    return MCF_OPTIMAL;
}

//  A random instance: 1..max_nodes nodes, 0..max_arcs arcs (self-loops and parallel arcs
//  included), capacities 0..cap_max or uncapacitated (inf_percent), costs cost_lo..cost_hi.
//  Supplies usually come from a random flow, so most instances are feasible; the rest get
//  random supplies, balanced or not.
static mcf_dimacs_t *
s_random_instance (s_rng_t *rng, int32_t max_nodes, int32_t max_arcs, int64_t cap_max,
                   int64_t cost_lo, int64_t cost_hi, int inf_percent)
{
    int32_t n = (int32_t) s_range (rng, 1, max_nodes);
    int32_t m = (int32_t) s_range (rng, 0, max_arcs);
    mcf_dimacs_t *instance = mcf_dimacs_new (n, m);
    int64_t *net = (int64_t *) calloc ((size_t) n, sizeof (int64_t));
    for (int32_t a = 0; a < m; a++) {
        int32_t u = (int32_t) s_range (rng, 0, n - 1), v = (int32_t) s_range (rng, 0, n - 1);
        int64_t cap = s_range (rng, 0, 99) < inf_percent ? MCF_CAP_INF : s_range (rng, 0, cap_max);
        mcf_dimacs_add_arc (instance, u, v, cap, s_range (rng, cost_lo, cost_hi));
        int64_t f = s_range (rng, 0, cap == MCF_CAP_INF ? cap_max : cap);
        net[u] += f;
        net[v] -= f;
    }
    int64_t kind = s_range (rng, 0, 9);
    int64_t sum = 0;
    for (int32_t u = 0; u < n; u++) {
        int64_t s = kind < 7 ? net[u] : s_range (rng, -3, 3);
        mcf_dimacs_set_supply (instance, u, s);
        sum += s;
    }
    if (kind == 7 || kind == 8) //  balanced, feasible or not
        mcf_dimacs_set_supply (instance, 0, mcf_dimacs_supply (instance, 0) - sum);
    free (net);
    return instance;
}

//  -------------------------------------------------------------------------
//  Tests

//  Hand-made instances whose optimum is worked out in the comments.
static void
test_known_optima (void **state)
{
    int64_t cost;
    { //  one arc: 5 units at 3 each
        const int64_t supply[] = {5, -5};
        const int64_t arcs[][4] = {{0, 1, 10, 3}};
        mcf_dimacs_t *instance = s_instance (2, supply, 1, arcs);
        assert_int_equal (s_solve_checked (instance, &cost), MCF_OPTIMAL);
        assert_true (cost == 15);
        mcf_dimacs_destroy (&instance);
    }
    { //  transportation: A (20) and B (30) serve X (10), Y (25), Z (15). All from B costs
        //  585; A saves 6 a unit on Y, so A sends its 20 to Y: 585 - 120 = 465.
        const int64_t supply[] = {20, 30, -10, -25, -15};
        const int64_t arcs[][4] = {{0, 2, 100, 8}, {0, 3, 100, 6},  {0, 4, 100, 10},
                                   {1, 2, 100, 9}, {1, 3, 100, 12}, {1, 4, 100, 13}};
        mcf_dimacs_t *instance = s_instance (5, supply, 6, arcs);
        mcf_t *mcf = mcf_dimacs_build (instance);
        assert_int_equal (mcf_solve (mcf), MCF_OPTIMAL);
        assert_true (mcf_total_cost (mcf) == 465);
        assert_true (mcf_flow (mcf, 1) == 20);
        assert_true (mcf_flow (mcf, 0) == 0 && mcf_flow (mcf, 2) == 0);
        assert_true (mcf_flow (mcf, 3) == 10 && mcf_flow (mcf, 4) == 5 && mcf_flow (mcf, 5) == 15);
        //  Potentials price the arcs: used arcs have reduced cost 0
        for (int32_t a = 0; a < 6; a++)
            if (mcf_flow (mcf, a) > 0) {
                int32_t u, v;
                int64_t c;
                mcf_dimacs_arc (instance, a, &u, &v, NULL, &c);
                assert_true (c + mcf_potential (mcf, u) - mcf_potential (mcf, v) == 0);
            }
        assert_int_equal (mcf_check (mcf, NULL, 0), 0);
        mcf_destroy (&mcf);
        mcf_dimacs_destroy (&instance);
    }
    { //  the cheap direct arc holds 2 of 5 units; the other 3 take the path at 4: 14
        const int64_t supply[] = {5, 0, -5};
        const int64_t arcs[][4] = {{0, 2, 2, 1}, {0, 1, MCF_CAP_INF, 2}, {1, 2, MCF_CAP_INF, 2}};
        mcf_dimacs_t *instance = s_instance (3, supply, 3, arcs);
        assert_int_equal (s_solve_checked (instance, &cost), MCF_OPTIMAL);
        assert_true (cost == 14);
        mcf_dimacs_destroy (&instance);
    }
    { //  no supplies, a cycle of cost -3 + 1 + 1 = -1 limited to 2 units: -2
        const int64_t supply[] = {0, 0, 0};
        const int64_t arcs[][4] = {{0, 1, 4, -3}, {1, 2, 2, 1}, {2, 0, 10, 1}};
        mcf_dimacs_t *instance = s_instance (3, supply, 3, arcs);
        assert_int_equal (s_solve_checked (instance, &cost), MCF_OPTIMAL);
        assert_true (cost == -2);
        mcf_dimacs_destroy (&instance);
    }
    { //  a negative self-loop fills up (3 x -2), a positive one stays empty; parallel arcs
        //  take the cheaper first: 2 at 1, then 1 at 4
        const int64_t supply[] = {3, -3};
        const int64_t arcs[][4] = {{0, 0, 3, -2}, {1, 1, 5, 7}, {0, 1, 5, 4}, {0, 1, 2, 1}};
        mcf_dimacs_t *instance = s_instance (2, supply, 4, arcs);
        assert_int_equal (s_solve_checked (instance, &cost), MCF_OPTIMAL);
        assert_true (cost == -6 + 2 + 4);
        mcf_dimacs_destroy (&instance);
    }
    { //  an empty network is trivially optimal
        mcf_t *mcf = mcf_new (0, 0);
        assert_int_equal (mcf_solve (mcf), MCF_OPTIMAL);
        assert_true (mcf_total_cost (mcf) == 0);
        assert_int_equal (mcf_check (mcf, NULL, 0), 0);
        mcf_destroy (&mcf);
        mcf_destroy (&mcf);
        mcf_destroy (NULL);
    }
}

//  Infeasible: unbalanced supplies, a demand no arc reaches, too little capacity.
static void
test_infeasible (void **state)
{
    int64_t cost;
    const int64_t unbalanced[] = {4, -3};
    const int64_t arc_ok[][4] = {{0, 1, 10, 1}};
    mcf_dimacs_t *instance = s_instance (2, unbalanced, 1, arc_ok);
    assert_int_equal (s_solve_checked (instance, &cost), MCF_INFEASIBLE);
    mcf_dimacs_destroy (&instance);

    const int64_t cut_off[] = {2, 0, -2};
    const int64_t wrong_way[][4] = {{0, 1, 10, 1}, {2, 1, 10, 1}};
    instance = s_instance (3, cut_off, 2, wrong_way);
    assert_int_equal (s_solve_checked (instance, &cost), MCF_INFEASIBLE);
    mcf_dimacs_destroy (&instance);

    const int64_t five[] = {5, -5};
    const int64_t thin[][4] = {{0, 1, 2, 1}, {0, 1, 2, -7}};
    instance = s_instance (2, five, 2, thin);
    assert_int_equal (s_solve_checked (instance, &cost), MCF_INFEASIBLE);
    mcf_t *mcf = mcf_dimacs_build (instance);
    assert_int_equal (mcf_solve (mcf), MCF_INFEASIBLE);
    char why[128];
    assert_int_equal (mcf_check (mcf, why, sizeof why), -1);
    assert_non_null (strstr (why, "no optimal solution"));
    mcf_destroy (&mcf);
    mcf_dimacs_destroy (&instance);
}

//  Unbounded: a negative cycle of uncapacitated arcs, with or without supplies; one finite arc
//  on the cycle makes it bounded again.
static void
test_unbounded (void **state)
{
    int64_t cost;
    const int64_t none[] = {0, 0, 0};
    const int64_t cycle[][4] = {
        {0, 1, MCF_CAP_INF, -3}, {1, 2, MCF_CAP_INF, 1}, {2, 0, MCF_CAP_INF, 1}};
    mcf_dimacs_t *instance = s_instance (3, none, 3, cycle);
    assert_int_equal (s_solve_checked (instance, &cost), MCF_UNBOUNDED);
    mcf_dimacs_destroy (&instance);

    const int64_t some[] = {2, 0, -2};
    instance = s_instance (3, some, 3, cycle);
    assert_int_equal (s_solve_checked (instance, &cost), MCF_UNBOUNDED);
    mcf_dimacs_destroy (&instance);

    const int64_t capped[][4] = {{0, 1, MCF_CAP_INF, -3}, {1, 2, 6, 1}, {2, 0, MCF_CAP_INF, 1}};
    instance = s_instance (3, none, 3, capped);
    assert_int_equal (s_solve_checked (instance, &cost), MCF_OPTIMAL);
    assert_true (cost == -6);
    mcf_dimacs_destroy (&instance);

    const int64_t loop[][4] = {{0, 0, MCF_CAP_INF, -1}};
    instance = s_instance (3, none, 1, loop);
    assert_int_equal (s_solve_checked (instance, &cost), MCF_UNBOUNDED);
    mcf_dimacs_destroy (&instance);
}

//  Numbers whose products or sums leave int64 are refused, not mis-solved.
static void
test_overflow (void **state)
{
    mcf_t *mcf = mcf_new (3, 2);
    mcf_add_arc (mcf, 0, 1, 5, INT64_MAX / 2);
    mcf_set_supply (mcf, 0, 1);
    mcf_set_supply (mcf, 1, -1);
    assert_int_equal (mcf_solve (mcf), MCF_OVERFLOW);
    mcf_destroy (&mcf);

    mcf = mcf_new (2, 2);
    mcf_add_arc (mcf, 0, 1, INT64_MAX / 2, 1);
    mcf_add_arc (mcf, 0, 1, INT64_MAX / 2, 1);
    assert_int_equal (mcf_solve (mcf), MCF_OVERFLOW);
    mcf_destroy (&mcf);

    mcf = mcf_new (2, 1);
    mcf_add_arc (mcf, 0, 1, 1, 1);
    mcf_set_supply (mcf, 0, INT64_MIN);
    assert_int_equal (mcf_solve (mcf), MCF_OVERFLOW);
    mcf_destroy (&mcf);

    //  Large but safe figures still solve exactly
    mcf = mcf_new (2, 1);
    mcf_add_arc (mcf, 0, 1, MCF_CAP_INF, 1000000000000LL);
    mcf_set_supply (mcf, 0, 1000000);
    mcf_set_supply (mcf, 1, -1000000);
    assert_int_equal (mcf_solve (mcf), MCF_OPTIMAL);
    assert_true (mcf_total_cost (mcf) == 1000000000000000000LL);
    assert_int_equal (mcf_check (mcf, NULL, 0), 0);
    assert_string_equal (mcf_status_str (MCF_OVERFLOW), "overflow");
    mcf_destroy (&mcf);
}

//  Hundreds of tiny random instances against brute-force enumeration, and against SSP too.
static void
test_random_vs_brute (void **state)
{
    s_rng_t rng = {0x5eed0001};
    int optimal = 0, infeasible = 0;
    for (int i = 0; i < 500; i++) {
        mcf_dimacs_t *instance = s_random_instance (&rng, 8, 10, 3, -5, 9, 0);
        int64_t cost, expected, ssp;
        mcf_status_t status = s_solve_checked (instance, &cost);
        mcf_status_t truth = s_reference_brute (instance, &expected);
        mcf_status_t other = s_reference_ssp (instance, &ssp);
        if (status != truth || cost != expected || other != truth || ssp != expected)
            fail_msg ("instance %d: mcf %s %lld, brute force %s %lld, ssp %s %lld", i,
                      mcf_status_str (status), (long long) cost, mcf_status_str (truth),
                      (long long) expected, mcf_status_str (other), (long long) ssp);
        optimal += status == MCF_OPTIMAL;
        infeasible += status == MCF_INFEASIBLE;
        mcf_dimacs_destroy (&instance);
    }
    //  The mix must exercise both outcomes, or the comparison proves little
    assert_true (optimal > 250 && infeasible > 25);
}

//  Random small instances with larger and uncapacitated arcs against SSP, then mid-size ones.
static void
test_random_vs_ssp (void **state)
{
    s_rng_t rng = {0x5eed0002};
    int seen[4] = {0};
    for (int i = 0; i < 600; i++) {
        int big = i >= 500;
        mcf_dimacs_t *instance = big ? s_random_instance (&rng, 150, 1500, 40, -10, 100, 2)
                                     : s_random_instance (&rng, 8, 16, 20, -10, 20, 15);
        int64_t cost, expected;
        mcf_status_t status = s_solve_checked (instance, &cost);
        mcf_status_t truth = s_reference_ssp (instance, &expected);
        if (status != truth || cost != expected)
            fail_msg ("instance %d: mcf %s %lld, ssp %s %lld", i, mcf_status_str (status),
                      (long long) cost, mcf_status_str (truth), (long long) expected);
        seen[status]++;
        mcf_dimacs_destroy (&instance);
    }
    assert_true (seen[MCF_OPTIMAL] > 200 && seen[MCF_INFEASIBLE] > 20 && seen[MCF_UNBOUNDED] > 20);
}

//  Degenerate instances: zero costs, all-equal costs, 0/1 costs, zero capacities. Ties are
//  where a careless leaving-arc rule cycles forever.
static void
test_degenerate (void **state)
{
    int64_t cost, expected;
    //  Complete 12 x 12 assignment, every pairing costs the same: optimum 12 x 5
    mcf_dimacs_t *instance = mcf_dimacs_new (24, 144);
    for (int32_t i = 0; i < 12; i++) {
        mcf_dimacs_set_supply (instance, i, 1);
        mcf_dimacs_set_supply (instance, 12 + i, -1);
        for (int32_t j = 0; j < 12; j++)
            mcf_dimacs_add_arc (instance, i, 12 + j, 1, 5);
    }
    assert_int_equal (s_solve_checked (instance, &cost), MCF_OPTIMAL);
    assert_true (cost == 60);
    mcf_dimacs_destroy (&instance);

    //  Everything free: cost 0 whatever the routing
    s_rng_t rng = {0x5eed0003};
    for (int i = 0; i < 100; i++) {
        instance = s_random_instance (&rng, 40, 300, 3, 0, 0, 5);
        mcf_status_t status = s_solve_checked (instance, &cost);
        assert_int_equal (status, s_reference_ssp (instance, &expected));
        assert_true (cost == 0 && expected == 0);
        mcf_dimacs_destroy (&instance);
    }
    //  0/1 costs, unit and zero capacities, many parallel arcs: heavy ties
    for (int i = 0; i < 200; i++) {
        instance = s_random_instance (&rng, 30, 400, 1, 0, 1, 0);
        mcf_status_t status = s_solve_checked (instance, &cost);
        mcf_status_t truth = s_reference_ssp (instance, &expected);
        if (status != truth || cost != expected)
            fail_msg ("instance %d: mcf %s %lld, ssp %s %lld", i, mcf_status_str (status),
                      (long long) cost, mcf_status_str (truth), (long long) expected);
        mcf_dimacs_destroy (&instance);
    }
}

//  mcf_check notices when the network no longer fits the solution: a new arc that would lower
//  the cost, a changed supply. A fresh solve makes it pass again.
static void
test_check_detects (void **state)
{
    char why[256];
    mcf_t *mcf = mcf_new (3, 4);
    mcf_add_arc (mcf, 0, 1, 10, 4);
    mcf_add_arc (mcf, 1, 2, 10, 4);
    mcf_set_supply (mcf, 0, 3);
    mcf_set_supply (mcf, 2, -3);
    assert_int_equal (mcf_check (mcf, why, sizeof why), -1);
    assert_int_equal (mcf_solve (mcf), MCF_OPTIMAL);
    assert_true (mcf_total_cost (mcf) == 24);
    assert_int_equal (mcf_check (mcf, why, sizeof why), 0);
    assert_string_equal (why, "");

    int32_t shortcut = mcf_add_arc (mcf, 0, 2, 10, 1);
    assert_int_equal (shortcut, 2);
    assert_true (mcf_flow (mcf, shortcut) == 0);
    assert_int_equal (mcf_check (mcf, why, sizeof why), -1);
    assert_non_null (strstr (why, "arc 2 (0 -> 2) can take more flow at reduced cost"));
    assert_int_equal (mcf_solve (mcf), MCF_OPTIMAL);
    assert_true (mcf_total_cost (mcf) == 3);
    assert_int_equal (mcf_check (mcf, why, sizeof why), 0);

    mcf_set_supply (mcf, 0, 4);
    mcf_set_supply (mcf, 2, -4);
    assert_int_equal (mcf_check (mcf, why, sizeof why), -1);
    assert_non_null (strstr (why, "node 0 sends out a net 3 but its supply is 4"));
    assert_int_equal (mcf_solve (mcf), MCF_OPTIMAL);
    assert_true (mcf_total_cost (mcf) == 4);
    assert_int_equal (mcf_check (mcf, NULL, 0), 0);
    mcf_destroy (&mcf);
}

//  Reads `text` as a DIMACS file. Returns the instance or NULL with the error in err.
static mcf_dimacs_t *
s_read_text (const char *text, char *err, size_t err_size)
{
    FILE *in = fmemopen ((void *) text, strlen (text), "r");
    assert_non_null (in);
    mcf_dimacs_t *instance = mcf_dimacs_read (in, err, err_size);
    fclose (in);
    return instance;
}

//  A well-formed file with comments, blank lines, CRLF endings and odd spacing.
static void
test_dimacs_read (void **state)
{
    char err[256];
    const char *text = "c a tiny problem\n"
                       "\n"
                       "p min 3 3\r\n"
                       "c supplies\n"
                       "n 1 4\n"
                       "n 3 -4\n"
                       "a 1 2 0 4 2\n"
                       "  a\t2 3 0 4 3\n"
                       "a 1 3 0 1 4\n";
    mcf_dimacs_t *instance = s_read_text (text, err, sizeof err);
    if (!instance)
        fail_msg ("read failed: %s", err);
    assert_int_equal (mcf_dimacs_nodes (instance), 3);
    assert_int_equal (mcf_dimacs_arcs (instance), 3);
    assert_true (mcf_dimacs_supply (instance, 0) == 4 && mcf_dimacs_supply (instance, 1) == 0);
    int32_t from, to;
    int64_t cap, cost;
    mcf_dimacs_arc (instance, 1, &from, &to, &cap, &cost);
    assert_true (from == 1 && to == 2 && cap == 4 && cost == 3);
    int64_t total;
    assert_int_equal (s_solve_checked (instance, &total), MCF_OPTIMAL);
    assert_true (total == 4 + 3 * 5); //  one unit direct at 4, three round at 2 + 3
    mcf_dimacs_destroy (&instance);
}

//  Bad files: each error names its line and what is wrong.
static void
test_dimacs_errors (void **state)
{
    static const struct {
        const char *text;
        const char *error;
    } cases[] = {
        {"p min 2 1\nx 1 2\n", "line 2: unknown line type \"x\""},
        {"p min 2 1\na 1 3 0 1 1\n", "line 2: arc head 3 is outside 1..2"},
        {"p min 2 1\na 0 2 0 1 1\n", "line 2: arc tail 0 is outside 1..2"},
        {"c\np min 2 1\na 1 2 0 -4 1\n", "line 3: negative capacity -4"},
        {"p min 2 1\n\na 1 2 2 5 1\n", "line 3: lower bound 2 is not supported (only 0)"},
        {"a 1 2 0 1 1\n", "line 1: \"a\" line before the problem line"},
        {"p max 2 1\n", "line 1: problem line must read \"p min NODES ARCS\""},
        {"p min 2\n", "line 1: problem line needs two numbers"},
        {"p min 2 1\np min 2 1\n", "line 2: second problem line"},
        {"p min 2 1\na 1 2 0 1 1\na 2 1 0 1 1\n", "line 3: more arc lines than the 1 declared"},
        {"p min 2 2\na 1 2 0 1 1\n", "line 2: end of input after 1 arc lines, 2 declared"},
        {"p min 2 1\na 1 2 0 1x 1\n", "line 2: arc line must read"},
        {"p min 2 1\na 1 2 0 1 99999999999999999999\n", "line 2: arc line must read"},
        {"p min 2 1\na one 2 0 1 1\n", "line 2: arc tail \"one\" is not a number"},
        {"p min 2 1\na 1 2 0 1 1 7\n", "line 2: unexpected text"},
        {"p min 2 0\nn 1 5\nn 1 -5\n", "line 3: node 1 already has a supply line"},
        {"p min 2 0\nn 3 5\n", "line 2: node id 3 is outside 1..2"},
        {"p min 2 0\nn 1\n", "line 2: supply \"\" is not a 64-bit number"},
        {"p min 999999999999 0\n", "line 1: node count 999999999999 is outside"},
        {"p min 2 -1\n", "line 1: arc count -1 is outside"},
        {"c nothing here\n", "line 1: end of input without a \"p min NODES ARCS\" line"},
        {"", "line 0: end of input without"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "untouched";
        mcf_dimacs_t *instance = s_read_text (cases[i].text, err, sizeof err);
        if (instance || !strstr (err, cases[i].error))
            fail_msg ("case %zu: expected \"%s\", got %s \"%s\"", i, cases[i].error,
                      instance ? "an instance and" : "", err);
    }
    //  A NUL byte inside a line is an error too, not a silent truncation
    static const char nul[] = "p min 2 1\na 1 2 0 1 1\0 junk\n";
    FILE *in = fmemopen ((void *) nul, sizeof nul - 1, "r");
    char err[256];
    assert_null (mcf_dimacs_read (in, err, sizeof err));
    assert_non_null (strstr (err, "line 2: NUL byte"));
    fclose (in);
}

//  Writing then reading gives back the same instance.
static void
test_dimacs_round_trip (void **state)
{
    mcf_dimacs_t *instance = mcf_dimacs_gen_county (300, 40, 20, 11);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    assert_int_equal (mcf_dimacs_write (instance, out, "round trip\nsecond line"), 0);
    fclose (out);
    assert_non_null (strstr (text, "c round trip\nc second line\np min 342 "));
    char err[256];
    mcf_dimacs_t *copy = s_read_text (text, err, sizeof err);
    if (!copy)
        fail_msg ("read back failed: %s", err);
    assert_int_equal (mcf_dimacs_nodes (copy), mcf_dimacs_nodes (instance));
    assert_int_equal (mcf_dimacs_arcs (copy), mcf_dimacs_arcs (instance));
    for (int32_t u = 0; u < mcf_dimacs_nodes (copy); u++)
        assert_true (mcf_dimacs_supply (copy, u) == mcf_dimacs_supply (instance, u));
    for (int32_t a = 0; a < mcf_dimacs_arcs (copy); a++) {
        int32_t f1, t1, f2, t2;
        int64_t c1, k1, c2, k2;
        mcf_dimacs_arc (instance, a, &f1, &t1, &c1, &k1);
        mcf_dimacs_arc (copy, a, &f2, &t2, &c2, &k2);
        assert_true (f1 == f2 && t1 == t2 && c1 == c2 && k1 == k2);
    }
    free (text);
    mcf_dimacs_destroy (&copy);
    mcf_dimacs_destroy (&instance);
}

//  The generator's county has the promised shape, and the same seed gives the same county.
static void
test_county_shape (void **state)
{
    int32_t n_vol = 1000, n_req = 100, cand = 30;
    mcf_dimacs_t *instance = mcf_dimacs_gen_county (n_vol, n_req, cand, 5);
    mcf_dimacs_t *again = mcf_dimacs_gen_county (n_vol, n_req, cand, 5);
    mcf_dimacs_t *other = mcf_dimacs_gen_county (n_vol, n_req, cand, 6);
    int32_t sink = n_req + n_vol + 1;
    assert_int_equal (mcf_dimacs_nodes (instance), n_req + n_vol + 2);
    assert_int_equal (mcf_dimacs_arcs (instance), n_req * (cand + 2) + n_vol);
    assert_true (mcf_dimacs_supply (instance, 0) > 0);
    assert_true (mcf_dimacs_supply (instance, 0) == -mcf_dimacs_supply (instance, sink));
    int same = 1, differs = 0;
    int32_t current = -1; //  request whose candidates `seen` holds
    char *seen = (char *) calloc ((size_t) sink + 1, 1);
    int64_t headcount = 0;
    for (int32_t a = 0; a < mcf_dimacs_arcs (instance); a++) {
        int32_t u, v, u2, v2;
        int64_t cap, cost, cap2, cost2;
        mcf_dimacs_arc (instance, a, &u, &v, &cap, &cost);
        mcf_dimacs_arc (again, a, &u2, &v2, &cap2, &cost2);
        same &= u == u2 && v == v2 && cap == cap2 && cost == cost2;
        mcf_dimacs_arc (other, a, &u2, &v2, &cap2, &cost2);
        differs |= v != v2 || cost != cost2;
        if (u == 0) {
            assert_true (cap >= 1 && cap <= 3 && cost == 0);
            headcount += cap;
        } else if (u <= n_req && v != sink) {
            //  candidate arcs: unit capacity, positive cost, a volunteer no request lists twice
            assert_true (v > n_req && v < sink && cap == 1 && cost > 0);
            if (u != current)
                memset (seen, 0, (size_t) sink + 1);
            current = u;
            assert_int_equal (seen[v], 0);
            seen[v] = 1;
        } else if (u <= n_req)
            assert_true (v == sink && cap >= 1 && cap <= 3 && cost >= 3700);
        else
            assert_true (v == sink && cap == 1 && cost == 0);
    }
    assert_true (headcount == mcf_dimacs_supply (instance, 0));
    assert_true (same && differs);
    free (seen);
    mcf_dimacs_destroy (&instance);
    mcf_dimacs_destroy (&again);
    mcf_dimacs_destroy (&other);
}

//  A mid-size county round (2,000 volunteers, 200 requests, 50 candidates): mcf and SSP agree.
static void
test_county_vs_ssp (void **state)
{
    for (uint64_t seed = 1; seed <= 2; seed++) {
        mcf_dimacs_t *instance = mcf_dimacs_gen_county (2000, 200, 50, seed);
        assert_int_equal (mcf_dimacs_nodes (instance), 2202);
        int64_t cost, expected;
        assert_int_equal (s_solve_checked (instance, &cost), MCF_OPTIMAL);
        assert_int_equal (s_reference_ssp (instance, &expected), MCF_OPTIMAL);
        if (cost != expected)
            fail_msg ("seed %llu: mcf %lld, ssp %lld", (unsigned long long) seed, (long long) cost,
                      (long long) expected);
        mcf_dimacs_destroy (&instance);
    }
}

//  A time limit of 0 stops a county round at the first check (after 64 pivots) with every arc's
//  flow within its capacity and no request sending more than its source arc brings; without a
//  limit, or with a generous one, the same instance reaches the optimum.
static void
test_time_limit (void **state)
{
    int32_t n_vol = 2000, n_req = 200;
    mcf_dimacs_t *instance = mcf_dimacs_gen_county (n_vol, n_req, 50, 1);
    mcf_t *mcf = mcf_dimacs_build (instance);
    mcf_set_time_limit (mcf, 0);
    assert_int_equal (mcf_solve (mcf), MCF_STOPPED);
    assert_int_equal (mcf_pivots (mcf), 64);
    assert_string_equal (mcf_status_str (MCF_STOPPED), "stopped");
    int64_t *in = (int64_t *) calloc ((size_t) n_req + 1, sizeof (int64_t));
    int64_t *out = (int64_t *) calloc ((size_t) n_req + 1, sizeof (int64_t));
    for (int32_t a = 0; a < mcf_arcs (mcf); a++) {
        int32_t u, v;
        int64_t cap;
        mcf_dimacs_arc (instance, a, &u, &v, &cap, NULL);
        int64_t flow = mcf_flow (mcf, a);
        assert_true (flow >= 0 && flow <= cap);
        if (u == 0)
            in[v] += flow;
        else if (u <= n_req)
            out[u] += flow;
    }
    for (int32_t r = 1; r <= n_req; r++)
        assert_true (out[r] <= in[r]);
    free (in);
    free (out);
    mcf_set_time_limit (mcf, -1);
    assert_int_equal (mcf_solve (mcf), MCF_OPTIMAL);
    int64_t optimum = mcf_total_cost (mcf);
    mcf_set_time_limit (mcf, 600000);
    assert_int_equal (mcf_solve (mcf), MCF_OPTIMAL);
    assert_true (mcf_total_cost (mcf) == optimum);
    mcf_destroy (&mcf);
    mcf_dimacs_destroy (&instance);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_known_optima),      cmocka_unit_test (test_infeasible),
        cmocka_unit_test (test_unbounded),         cmocka_unit_test (test_overflow),
        cmocka_unit_test (test_random_vs_brute),   cmocka_unit_test (test_random_vs_ssp),
        cmocka_unit_test (test_degenerate),        cmocka_unit_test (test_check_detects),
        cmocka_unit_test (test_dimacs_read),       cmocka_unit_test (test_dimacs_errors),
        cmocka_unit_test (test_dimacs_round_trip), cmocka_unit_test (test_county_shape),
        cmocka_unit_test (test_county_vs_ssp),     cmocka_unit_test (test_time_limit),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
