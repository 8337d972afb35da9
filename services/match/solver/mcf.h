/*  mcf.h — minimum-cost flow by the primal network simplex method

    One instance holds one network: nodes 0..nodes-1, arcs added one by one with a capacity and a
    cost, and a supply per node (positive: flow leaves the node; negative: a demand). mcf_solve
    finds an integral flow of least total cost that meets every supply exactly within the
    capacities. The design note matching.md describes the dispatch network built on it.

    Conventions
    - The reduced cost of arc (u, v) is cost + potential (u) - potential (v). At an optimum every
      arc with flow below its capacity has a reduced cost >= 0 and every arc carrying flow <= 0;
      mcf_check verifies exactly that.
    - Supplies must sum to zero, otherwise the problem is infeasible.
    - Capacities are >= 0; MCF_CAP_INF marks an uncapacitated arc.
*/
#ifndef MCF_H_INCLUDED
#define MCF_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Capacity of an uncapacitated arc
#define MCF_CAP_INF INT64_MAX

//  Largest node count and arc count one instance accepts (an artificial node and one artificial
//  arc per node are added internally, so both stay well inside int32_t)
#define MCF_NODES_MAX (1 << 28)
#define MCF_ARCS_MAX  (1 << 30)

typedef enum {
    MCF_OPTIMAL = 0, //  an optimal flow was found
    MCF_INFEASIBLE,  //  no flow meets the supplies within the capacities, or they do not sum to 0
    MCF_UNBOUNDED,   //  a cycle of uncapacitated arcs has negative cost (checked after balance)
    MCF_OVERFLOW,    //  numbers too large for exact 64-bit arithmetic; nothing was solved
    MCF_STOPPED      //  the time limit (mcf_set_time_limit) ran out before the optimum
} mcf_status_t;

typedef struct _mcf_t mcf_t;

//  Creates an empty network of `nodes` nodes (0 <= nodes <= MCF_NODES_MAX) with room for
//  arcs_hint arcs (more may be added; storage grows). Never returns NULL: out of memory aborts.
//  The caller owns the result and releases it with mcf_destroy.
mcf_t *mcf_new (int32_t nodes, int32_t arcs_hint);

//  Destroys the instance and sets *self_p to NULL; accepts NULL and a pointer to NULL.
void mcf_destroy (mcf_t **self_p);

//  Adds the arc from -> to (self-loops and parallel arcs allowed) with capacity >= 0 (or
//  MCF_CAP_INF) and any cost. Returns the arc's index: 0 for the first arc, then 1, 2, ...
int32_t mcf_add_arc (mcf_t *self, int32_t from, int32_t to, int64_t capacity, int64_t cost);

//  Sets the supply of a node (default 0). Negative supply is a demand.
void mcf_set_supply (mcf_t *self, int32_t node, int64_t supply);

//  Limits the time each later mcf_solve may take: `ms` milliseconds after it began (checked
//  every 64 pivots, so 0 stops at the first check) it stops and returns MCF_STOPPED. Negative:
//  no limit (the default).
void mcf_set_time_limit (mcf_t *self, double ms);

//  Solves from scratch and returns the status. After MCF_OPTIMAL, mcf_total_cost, mcf_flow and
//  mcf_potential describe the optimum; the solution stays until the next mcf_solve even when arcs
//  or supplies change meanwhile (arcs added since then read as zero flow).
mcf_status_t mcf_solve (mcf_t *self);

//  Total cost of the optimal flow found by the last mcf_solve, which must have returned
//  MCF_OPTIMAL.
int64_t mcf_total_cost (mcf_t *self);

//  Flow on an arc in the last optimal solution, or after MCF_STOPPED in the basis the solve
//  stopped at: within each arc's capacity, but a node may be balanced only through its
//  artificial arc to the internal root (it may send flow out that no real arc carries, or
//  receive it), so the flow on real arcs alone need not meet the supplies. Where each node's
//  outflow is capped by real arcs (as the dispatch network's requests are), those flows are a
//  feasible part of a solution once the receiving side's caps are enforced by the caller.
int64_t mcf_flow (mcf_t *self, int32_t arc);

//  Dual value of a node in the last optimal solution (see the reduced-cost convention above).
int64_t mcf_potential (mcf_t *self, int32_t node);

//  Verifies the last solution against the current network: flow conservation at every node,
//  0 <= flow <= capacity on every arc, and no arc with residual capacity whose reduced cost is
//  negative in that direction (the optimality certificate). Returns 0 when all hold; otherwise
//  -1 with the first violation described in why (may be NULL).
int mcf_check (mcf_t *self, char *why, size_t why_size);

//  Number of nodes and of arcs.
int32_t mcf_nodes (mcf_t *self);
int32_t mcf_arcs (mcf_t *self);

//  Number of simplex pivots the last mcf_solve made, for benchmarks.
int64_t mcf_pivots (mcf_t *self);

//  Lower-case name of a status, e.g. "infeasible"; a static string.
const char *mcf_status_str (mcf_status_t status);

#ifdef __cplusplus
}
#endif

#endif
