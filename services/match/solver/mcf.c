/*  mcf.c — minimum-cost flow by the primal network simplex method

    The basis is a spanning tree rooted at an artificial node (index `nodes`), stored as arrays:
    parent, pred (the tree arc to the parent), up (pred points towards the root), depth, and the
    preorder thread with its reverse. A pivot re-hangs one subtree, and only that subtree's
    entries are touched: one walk along its thread shifts potentials and depths and finds where
    its segments start and end, then a few links re-thread it.

    Pricing is block search over the real arcs: scan about sqrt(m) arcs at a time, cyclically,
    and enter the most negative reduced cost of the first block that has one. The starting basis
    links every node to the root by an artificial arc; arcs into demand nodes cost a big M that
    is just large enough (n + 1) * max|cost| + 1 that any feasible flow beats artificial flow,
    and small enough that potentials and reduced costs cannot overflow int64. Strongly feasible
    trees (the leaving arc is the last blocking arc met walking the cycle from its apex) rule
    out cycling.

    Arcs are kept twice: as added (the definition, an mcf_graph_t like a DIMACS instance's), and
    permuted into the working arrays the simplex runs on, so that every pricing block mixes arcs
    from all over the network.

    The method is the textbook one (Ahuja, Magnanti and Orlin, ch. 11) that LEMON's
    network_simplex.h implements; the tree update differs (depths instead of subtree sizes and
    last successors, segment re-threading in one walk) and so does the arc order.
*/
#include "mcf_graph.h"
#include "mcf_mem.h"
#include "mcf.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  Arc states in the working arrays; the pricing value of an arc is state * reduced cost, so
//  a negative value means the arc can improve the flow. Tree arcs and arcs of zero capacity
//  (which can never carry flow) have state 0 and are never eligible.
#define S_LOWER 1
#define S_UPPER -1
#define S_TREE  0

struct _mcf_t {
    mcf_graph_t graph; //  the definition; the artificial root is node graph.nodes

    //  Last solve
    bool solved; //  a solve has run and its results are readable
    mcf_status_t status;
    int64_t total_cost;
    int64_t pivots;
    double time_limit_ms; //  negative: none
    int32_t solved_arcs;  //  arcs that existed at the last solve

    //  Working arrays: real arcs permuted, then one artificial arc per node; sized work_max
    int32_t work_max;
    int32_t *pos; //  definition index -> working index
    int32_t *w_src;
    int32_t *w_tgt;
    int64_t *w_cap;
    int64_t *w_cost;
    int64_t *w_flow;
    int8_t *w_state;

    //  Spanning tree, nodes + 1 entries each
    int64_t *pi; //  potentials
    int32_t *parent;
    int32_t *pred;
    int32_t *thread;
    int32_t *rev;
    int32_t *depth;
    int8_t *up;

    //  Scratch for re-threading, nodes + 1 entries each
    int32_t *stem;
    int32_t *a_first;
    int32_t *a_last;
    int32_t *b_first;
    int32_t *b_last;

    //  Pricing
    int32_t block;
    int32_t next_arc;
};

mcf_t *
mcf_new (int32_t nodes, int32_t arcs_hint)
{
    mcf_t *self = (mcf_t *) mcf_alloc (1, sizeof (mcf_t));
    mcf_graph_init (&self->graph, nodes, arcs_hint);
    self->time_limit_ms = -1;

    size_t tree = (size_t) nodes + 1;
    self->pi = (int64_t *) mcf_alloc (tree, sizeof (int64_t));
    self->parent = (int32_t *) mcf_alloc (tree, sizeof (int32_t));
    self->pred = (int32_t *) mcf_alloc (tree, sizeof (int32_t));
    self->thread = (int32_t *) mcf_alloc (tree, sizeof (int32_t));
    self->rev = (int32_t *) mcf_alloc (tree, sizeof (int32_t));
    self->depth = (int32_t *) mcf_alloc (tree, sizeof (int32_t));
    self->up = (int8_t *) mcf_alloc (tree, sizeof (int8_t));
    self->stem = (int32_t *) mcf_alloc (tree, sizeof (int32_t));
    self->a_first = (int32_t *) mcf_alloc (tree, sizeof (int32_t));
    self->a_last = (int32_t *) mcf_alloc (tree, sizeof (int32_t));
    self->b_first = (int32_t *) mcf_alloc (tree, sizeof (int32_t));
    self->b_last = (int32_t *) mcf_alloc (tree, sizeof (int32_t));
    return self;
}

void
mcf_destroy (mcf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mcf_t *self = *self_p;
    mcf_graph_release (&self->graph);
    free (self->pos);
    free (self->w_src);
    free (self->w_tgt);
    free (self->w_cap);
    free (self->w_cost);
    free (self->w_flow);
    free (self->w_state);
    free (self->pi);
    free (self->parent);
    free (self->pred);
    free (self->thread);
    free (self->rev);
    free (self->depth);
    free (self->up);
    free (self->stem);
    free (self->a_first);
    free (self->a_last);
    free (self->b_first);
    free (self->b_last);
    free (self);
    *self_p = NULL;
}

int32_t
mcf_add_arc (mcf_t *self, int32_t from, int32_t to, int64_t capacity, int64_t cost)
{
    assert (self);
    return mcf_graph_add_arc (&self->graph, from, to, capacity, cost);
}

void
mcf_set_supply (mcf_t *self, int32_t node, int64_t supply)
{
    assert (self);
    mcf_graph_set_supply (&self->graph, node, supply);
}

//  Checks that every figure the simplex can produce fits in int64 and picks the big M.
//  Returns MCF_OPTIMAL when solving may proceed, MCF_INFEASIBLE when the supplies do not sum to
//  zero, MCF_OVERFLOW when the numbers are too large.
static mcf_status_t
s_check_ranges (mcf_t *self, int64_t *big_m)
{
    const mcf_graph_t *graph = &self->graph;
    //  In a basic solution every flow is at most the sum of |supply| and the finite capacities;
    //  keeping that below INT64_MAX / 2 keeps `flow + delta` and `cap - flow` exact.
    int64_t sum = 0, bound = 0, cost_max = 1;
    for (int32_t i = 0; i < graph->nodes; i++) {
        int64_t s = graph->supply[i];
        if (s == INT64_MIN || __builtin_add_overflow (sum, s, &sum)
            || __builtin_add_overflow (bound, s < 0 ? -s : s, &bound))
            return MCF_OVERFLOW;
    }
    for (int32_t a = 0; a < graph->arcs; a++) {
        if (graph->cap[a] != MCF_CAP_INF && __builtin_add_overflow (bound, graph->cap[a], &bound))
            return MCF_OVERFLOW;
        int64_t c = graph->cost[a];
        if (c == INT64_MIN)
            return MCF_OVERFLOW;
        if ((c < 0 ? -c : c) > cost_max)
            cost_max = c < 0 ? -c : c;
    }
    if (bound > INT64_MAX / 2)
        return MCF_OVERFLOW;
    //  A potential is a tree-path sum: at most M plus n arc costs; a reduced cost adds one cost
    //  and two potentials, so |reduced cost| < 5 M. M <= INT64_MAX / 8 keeps all of it exact.
    int64_t m;
    if (__builtin_mul_overflow ((int64_t) graph->nodes + 1, cost_max, &m) || m >= INT64_MAX / 8)
        return MCF_OVERFLOW;
    *big_m = m + 1;
    return sum == 0 ? MCF_OPTIMAL : MCF_INFEASIBLE;
}

//  Sizes the working arrays for the current arc count, picks the pricing block size (about
//  sqrt (m)) and copies the real arcs into the working arrays transposed: working position
//  j * stride + i holds definition arc i * block + j, roughly, so that every pricing block is an
//  even sample of the whole network. Arcs usually come group by group (all source arcs, then
//  candidates request by request...), and a block of neighbours in that order would see only
//  one kind of arc; on the county instance the sampled order needs a third of the pivots.
static void
s_load_arcs (mcf_t *self)
{
    int32_t m = self->graph.arcs, n = self->graph.nodes;
    int32_t need = m + n;
    if (need > self->work_max) {
        size_t count = (size_t) need;
        self->work_max = need;
        self->pos = (int32_t *) mcf_realloc (self->pos, count, sizeof (int32_t));
        self->w_src = (int32_t *) mcf_realloc (self->w_src, count, sizeof (int32_t));
        self->w_tgt = (int32_t *) mcf_realloc (self->w_tgt, count, sizeof (int32_t));
        self->w_cap = (int64_t *) mcf_realloc (self->w_cap, count, sizeof (int64_t));
        self->w_cost = (int64_t *) mcf_realloc (self->w_cost, count, sizeof (int64_t));
        self->w_flow = (int64_t *) mcf_realloc (self->w_flow, count, sizeof (int64_t));
        self->w_state = (int8_t *) mcf_realloc (self->w_state, count, sizeof (int8_t));
    }
    self->block = (int32_t) sqrt ((double) m);
    if (self->block < 10)
        self->block = 10;
    self->next_arc = 0;
    int32_t w = 0;
    for (int32_t start = 0; start < self->block; start++)
        for (int32_t a = start; a < m; a += self->block) {
            self->pos[a] = w;
            self->w_src[w] = self->graph.from[a];
            self->w_tgt[w] = self->graph.to[a];
            self->w_cap[w] = self->graph.cap[a];
            self->w_cost[w] = self->graph.cost[a];
            self->w_flow[w] = 0;
            self->w_state[w] = self->graph.cap[a] > 0 ? S_LOWER : S_TREE;
            w++;
        }
    assert (w == m);
}

//  Builds the starting basis: every node hangs from the root by an artificial arc carrying its
//  supply. Supply nodes send to the root for free; the root serves demand nodes at cost M, so
//  artificial flow left at the optimum means no feasible flow exists. This tree is strongly
//  feasible: every arc pointing away from the root carries positive flow.
static void
s_init_tree (mcf_t *self, int64_t big_m)
{
    int32_t n = self->graph.nodes, root = n;
    for (int32_t u = 0; u < n; u++) {
        int32_t e = self->graph.arcs + u;
        int64_t s = self->graph.supply[u];
        self->w_cap[e] = MCF_CAP_INF;
        self->w_state[e] = S_TREE;
        self->parent[u] = root;
        self->pred[u] = e;
        self->depth[u] = 1;
        self->thread[u] = u + 1;
        self->rev[u + 1] = u;
        if (s >= 0) {
            self->w_src[e] = u;
            self->w_tgt[e] = root;
            self->w_cost[e] = 0;
            self->w_flow[e] = s;
            self->up[u] = 1;
            self->pi[u] = 0;
        } else {
            self->w_src[e] = root;
            self->w_tgt[e] = u;
            self->w_cost[e] = big_m;
            self->w_flow[e] = -s;
            self->up[u] = 0;
            self->pi[u] = big_m;
        }
    }
    self->parent[root] = -1;
    self->pred[root] = -1;
    self->depth[root] = 0;
    self->up[root] = 0;
    self->pi[root] = 0;
    self->thread[root] = n > 0 ? 0 : root;
    self->rev[0] = root;
    if (n > 0)
        self->thread[n - 1] = root;
    self->rev[root] = n > 0 ? n - 1 : root;
}

//  Scans working arcs [begin, end) for a pricing value below *best; updates *best and *arc.
static inline void
s_scan (const mcf_t *self, int32_t begin, int32_t end, int64_t *best, int32_t *arc)
{
    const int32_t *restrict src = self->w_src;
    const int32_t *restrict tgt = self->w_tgt;
    const int64_t *restrict cost = self->w_cost;
    const int8_t *restrict state = self->w_state;
    const int64_t *restrict pi = self->pi;
    int64_t low = *best;
    int32_t found = *arc;
    for (int32_t e = begin; e < end; e++) {
        int64_t value = state[e] * (cost[e] + pi[src[e]] - pi[tgt[e]]);
        if (value < low) {
            low = value;
            found = e;
        }
    }
    *best = low;
    *arc = found;
}

//  Block search pricing: scans the real arcs cyclically from where the last search stopped,
//  a block at a time, and returns the arc with the most negative pricing value in the first
//  block that has one, or -1 when no arc is eligible (the flow is optimal).
static int32_t
s_find_entering (mcf_t *self)
{
    const int32_t m = self->graph.arcs;
    int32_t e = self->next_arc, arc = -1;
    int64_t best = 0;
    for (int32_t left = m; left > 0 && arc < 0;) {
        int32_t length = self->block < left ? self->block : left;
        int32_t end = e + length;
        if (end < m)
            s_scan (self, e, end, &best, &arc);
        else {
            s_scan (self, e, m, &best, &arc);
            end -= m;
            s_scan (self, 0, end, &best, &arc);
        }
        e = end;
        left -= length;
    }
    self->next_arc = e;
    return arc;
}

//  Moves the subtree rooted at q (the child end of the leaving arc) so that it hangs from v_in
//  by the entering arc e, with u_in as its new top node: the path u_in .. q (the stem) reverses.
//  Shifts the subtree's potentials by sigma and fixes depths, parents, pred arcs and the thread.
static void
s_rehang (mcf_t *self, int32_t e, int32_t u_in, int32_t v_in, int32_t q, int64_t sigma)
{
    int32_t *restrict parent = self->parent;
    int32_t *restrict pred = self->pred;
    int32_t *restrict thread = self->thread;
    int32_t *restrict rev = self->rev;
    int32_t *restrict depth = self->depth;
    int8_t *restrict up = self->up;
    int64_t *restrict pi = self->pi;
    int32_t *restrict stem = self->stem;
    int32_t *restrict a_first = self->a_first;
    int32_t *restrict a_last = self->a_last;
    int32_t *restrict b_first = self->b_first;
    int32_t *restrict b_last = self->b_last;

    //  stem[0] = u_in, stem[k] = q
    int32_t k = 0;
    stem[0] = u_in;
    while (stem[k] != q) {
        stem[k + 1] = parent[stem[k]];
        k++;
    }
    //  In the old preorder the subtree of q reads: s_k A_k [s_k-1 A_k-1 [... s_0 Z ...] B_k-1] B_k
    //  where Z is the rest of s_0's subtree, A_i the part of s_i's subtree before s_i-1 and B_i
    //  the part after it. The new preorder is s_0 Z s_1 A_1 B_1 ... s_k A_k B_k. Each node of
    //  segment i moves by the same depth offset: s_i lands at depth (v_in) + 1 + i, up from
    //  h0 - i, where h0 is the old depth of s_0.
    int32_t h0 = depth[u_in];
    int32_t shift = depth[v_in] + 1 - h0;
    int32_t before = rev[q];
    int32_t v, last;
    for (int32_t i = k; i >= 1; i--) {
        int32_t s = stem[i], child = stem[i - 1], dd = shift + 2 * i;
        depth[s] += dd;
        pi[s] += sigma;
        v = thread[s];
        a_first[i] = -1;
        if (v != child) {
            a_first[i] = v;
            do {
                depth[v] += dd;
                pi[v] += sigma;
                last = v;
                v = thread[v];
            } while (v != child);
            a_last[i] = last;
        }
    }
    depth[u_in] += shift;
    pi[u_in] += sigma;
    last = u_in;
    v = thread[u_in];
    while (depth[v] > h0) {
        depth[v] += shift;
        pi[v] += sigma;
        last = v;
        v = thread[v];
    }
    int32_t tail = last;
    for (int32_t i = 1; i <= k; i++) {
        int32_t h = h0 - i, dd = shift + 2 * i;
        b_first[i] = -1;
        if (depth[v] > h) {
            b_first[i] = v;
            do {
                depth[v] += dd;
                pi[v] += sigma;
                last = v;
                v = thread[v];
            } while (depth[v] > h);
            b_last[i] = last;
        }
    }
    int32_t after = v;

    //  Cut the subtree out of the thread, chain its segments in the new order, splice the chain
    //  in right after v_in. Links inside segments stay as they are.
    thread[before] = after;
    rev[after] = before;
    for (int32_t i = 1; i <= k; i++) {
        int32_t s = stem[i];
        thread[tail] = s;
        rev[s] = tail;
        tail = a_first[i] >= 0 ? a_last[i] : s;
        if (b_first[i] >= 0) {
            thread[tail] = b_first[i];
            rev[b_first[i]] = tail;
            tail = b_last[i];
        }
    }
    int32_t next = thread[v_in];
    thread[v_in] = u_in;
    rev[u_in] = v_in;
    thread[tail] = next;
    rev[next] = tail;

    //  Reverse the stem: each s_i now hangs from s_i-1 by the arc that was s_i-1's pred.
    for (int32_t i = k; i >= 1; i--) {
        int32_t s = stem[i], child = stem[i - 1];
        parent[s] = child;
        pred[s] = pred[child];
        up[s] = !up[child];
    }
    parent[u_in] = v_in;
    pred[u_in] = e;
    up[u_in] = self->w_src[e] == u_in;
}

//  One pivot on entering arc e: finds the cycle's apex and the leaving arc, pushes flow round
//  the cycle and updates the tree. Returns false when the cycle can carry unlimited flow.
static bool
s_pivot (mcf_t *self, int32_t e)
{
    const int32_t *restrict parent = self->parent;
    const int32_t *restrict pred = self->pred;
    const int32_t *restrict depth = self->depth;
    const int8_t *restrict up = self->up;
    const int64_t *restrict cap = self->w_cap;
    int64_t *restrict flow = self->w_flow;
    const int64_t INF = MCF_CAP_INF;

    //  Flow moves along e from `first` to `second`, then back up to the apex, and from the apex
    //  down to `first`. Residuals are measured in that direction.
    int8_t dir = self->w_state[e];
    int32_t first = dir == S_LOWER ? self->w_src[e] : self->w_tgt[e];
    int32_t second = dir == S_LOWER ? self->w_tgt[e] : self->w_src[e];

    //  Strongly feasible rule: of the blocking arcs, leave by the last one met when walking the
    //  cycle from the apex: on the second side the one nearest the apex (<=), else e itself,
    //  else on the first side the one nearest `first` (<, walking up from it).
    int64_t d1 = INF, d2 = INF;
    int32_t out1 = -1, out2 = -1;
    int32_t u = first, v = second;
    while (u != v) {
        if (depth[u] >= depth[v]) {
            int32_t a = pred[u];
            int64_t r = up[u] ? flow[a] : (cap[a] == INF ? INF : cap[a] - flow[a]);
            if (r < d1) {
                d1 = r;
                out1 = u;
            }
            u = parent[u];
        } else {
            int32_t a = pred[v];
            int64_t r = up[v] ? (cap[a] == INF ? INF : cap[a] - flow[a]) : flow[a];
            if (r <= d2) {
                d2 = r;
                out2 = v;
            }
            v = parent[v];
        }
    }
    int32_t apex = u;
    int64_t d_in = cap[e];
    int64_t delta = d1 < d_in ? d1 : d_in;
    if (d2 < delta)
        delta = d2;
    if (delta == INF)
        return false;

    if (delta > 0) {
        flow[e] += dir * delta;
        for (u = first; u != apex; u = parent[u])
            flow[pred[u]] += up[u] ? -delta : delta;
        for (v = second; v != apex; v = parent[v])
            flow[pred[v]] += up[v] ? delta : -delta;
    }
    if (d2 != delta && d_in == delta) {
        //  e blocks itself: it moves to its other bound, the tree stays
        self->w_state[e] = (int8_t) -dir;
        return true;
    }
    int32_t q = d2 == delta ? out2 : out1;
    int32_t u_in = d2 == delta ? second : first;
    int32_t v_in = d2 == delta ? first : second;
    int32_t out = pred[q];
    self->w_state[out] = flow[out] == 0 ? S_LOWER : S_UPPER;
    self->w_state[e] = S_TREE;

    //  Potentials of the moved subtree shift so that e gets reduced cost 0.
    int64_t reduced = self->w_cost[e] + self->pi[self->w_src[e]] - self->pi[self->w_tgt[e]];
    int64_t sigma = u_in == self->w_src[e] ? -reduced : reduced;
    s_rehang (self, e, u_in, v_in, q, sigma);
    return true;
}

void
mcf_set_time_limit (mcf_t *self, double ms)
{
    assert (self);
    self->time_limit_ms = ms;
}

//  Milliseconds of a monotonic clock.
static double
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

mcf_status_t
mcf_solve (mcf_t *self)
{
    assert (self);
    self->solved = true;
    self->pivots = 0;
    self->total_cost = 0;
    self->solved_arcs = self->graph.arcs;
    int64_t big_m = 0;
    self->status = s_check_ranges (self, &big_m);
    if (self->status != MCF_OPTIMAL)
        return self->status;
    double deadline = self->time_limit_ms >= 0 ? s_now_ms () + self->time_limit_ms : 0;
    s_load_arcs (self);
    s_init_tree (self, big_m);

    int32_t e;
    while ((e = s_find_entering (self)) >= 0) {
        //  The clock costs tens of nanoseconds: read it every 64 pivots.
        if (self->time_limit_ms >= 0 && self->pivots > 0 && self->pivots % 64 == 0
            && s_now_ms () >= deadline)
            return self->status = MCF_STOPPED;
        self->pivots++;
        if (!s_pivot (self, e))
            return self->status = MCF_UNBOUNDED;
    }
    //  Optimal for the network with artificial arcs; feasible for ours only without their flow
    for (int32_t u = 0; u < self->graph.nodes; u++)
        if (self->w_flow[self->graph.arcs + u] != 0)
            return self->status = MCF_INFEASIBLE;

    int64_t total = 0;
    for (int32_t w = 0; w < self->graph.arcs; w++) {
        int64_t part;
        if (__builtin_mul_overflow (self->w_flow[w], self->w_cost[w], &part)
            || __builtin_add_overflow (total, part, &total))
            return self->status = MCF_OVERFLOW;
    }
    self->total_cost = total;
    return self->status;
}

int64_t
mcf_total_cost (mcf_t *self)
{
    assert (self);
    assert (self->solved && self->status == MCF_OPTIMAL);
    return self->total_cost;
}

int64_t
mcf_flow (mcf_t *self, int32_t arc)
{
    assert (self);
    assert (self->solved && (self->status == MCF_OPTIMAL || self->status == MCF_STOPPED));
    assert (arc >= 0 && arc < self->graph.arcs);
    return arc < self->solved_arcs ? self->w_flow[self->pos[arc]] : 0;
}

int64_t
mcf_potential (mcf_t *self, int32_t node)
{
    assert (self);
    assert (self->solved && self->status == MCF_OPTIMAL);
    assert (node >= 0 && node < self->graph.nodes);
    return self->pi[node];
}

//  Writes one violation into why (when given) and returns -1, for mcf_check.
static int s_fail (char *why, size_t why_size, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_fail (char *why, size_t why_size, const char *format, ...)
{
    if (why && why_size > 0) {
        va_list args;
        va_start (args, format);
        vsnprintf (why, why_size, format, args);
        va_end (args);
    }
    return -1;
}

int
mcf_check (mcf_t *self, char *why, size_t why_size)
{
    assert (self);
    const mcf_graph_t *graph = &self->graph;
    if (why && why_size > 0)
        why[0] = '\0';
    if (!self->solved || self->status != MCF_OPTIMAL)
        return s_fail (why, why_size, "no optimal solution to check");
    int64_t *net = (int64_t *) mcf_alloc ((size_t) graph->nodes, sizeof (int64_t));
    int rc = 0;
    for (int32_t a = 0; a < graph->arcs && rc == 0; a++) {
        int64_t f = a < self->solved_arcs ? self->w_flow[self->pos[a]] : 0;
        int32_t u = graph->from[a], v = graph->to[a];
        int64_t reduced;
        if (f < 0 || f > graph->cap[a])
            rc = s_fail (why, why_size, "arc %d carries %lld, outside 0..%lld", a, (long long) f,
                         (long long) graph->cap[a]);
        else if (__builtin_add_overflow (net[u], f, &net[u])
                 || __builtin_sub_overflow (net[v], f, &net[v]))
            rc = s_fail (why, why_size, "flow sums overflow at arc %d", a);
        else if (__builtin_add_overflow (graph->cost[a], self->pi[u], &reduced)
                 || __builtin_sub_overflow (reduced, self->pi[v], &reduced))
            rc = s_fail (why, why_size, "reduced cost of arc %d overflows", a);
        else if (f < graph->cap[a] && reduced < 0)
            rc = s_fail (why, why_size, "arc %d (%d -> %d) can take more flow at reduced cost %lld",
                         a, u, v, (long long) reduced);
        else if (f > 0 && reduced > 0)
            rc = s_fail (why, why_size, "arc %d (%d -> %d) carries flow at reduced cost %lld", a, u,
                         v, (long long) reduced);
    }
    for (int32_t u = 0; u < graph->nodes && rc == 0; u++)
        if (net[u] != graph->supply[u])
            rc = s_fail (why, why_size, "node %d sends out a net %lld but its supply is %lld", u,
                         (long long) net[u], (long long) graph->supply[u]);
    free (net);
    return rc;
}

int32_t
mcf_nodes (mcf_t *self)
{
    assert (self);
    return self->graph.nodes;
}

int32_t
mcf_arcs (mcf_t *self)
{
    assert (self);
    return self->graph.arcs;
}

int64_t
mcf_pivots (mcf_t *self)
{
    assert (self);
    return self->pivots;
}

const char *
mcf_status_str (mcf_status_t status)
{
    switch (status) {
    case MCF_OPTIMAL:
        return "optimal";
    case MCF_INFEASIBLE:
        return "infeasible";
    case MCF_UNBOUNDED:
        return "unbounded";
    case MCF_OVERFLOW:
        return "overflow";
    case MCF_STOPPED:
        return "stopped";
    }
    return "unknown";
}
