/*  mcf_graph.h — a network as plain data: arcs (from, to, capacity, cost) in the order they were
    added, in arrays that grow, and a supply per node. The solver (mcf.c) and the DIMACS instance
    (mcf_dimacs.c) both hold one. Internal to st_mcf.

    The struct is open and embedded by value, unlike a CLASS: the simplex reads the arrays in its
    hottest loops, and its owner already is the opaque object. Adding an arc is inline for the
    same reason: instances of a million arcs are built one arc at a time.  */
#ifndef MCF_GRAPH_H_INCLUDED
#define MCF_GRAPH_H_INCLUDED

#include "mcf.h"

#include <assert.h>
#include <stdint.h>

typedef struct {
    int32_t nodes;    //  nodes 0..nodes-1
    int32_t arcs;     //  arcs added so far
    int32_t arcs_max; //  slots allocated in from, to, cap and cost
    int32_t *from;    //  per arc, in the order arcs were added
    int32_t *to;
    int64_t *cap;
    int64_t *cost;
    int64_t *supply; //  per node, 0 unless set
} mcf_graph_t;

//  Sets up an empty network of `nodes` nodes (0 <= nodes <= MCF_NODES_MAX) with room for
//  arcs_hint arcs. Out of memory aborts. Release with mcf_graph_release.
void mcf_graph_init (mcf_graph_t *self, int32_t nodes, int32_t arcs_hint);

//  Frees the arrays and zeroes the struct (not the struct itself, which its owner holds).
void mcf_graph_release (mcf_graph_t *self);

//  Doubles the room for arcs (up to MCF_ARCS_MAX), for mcf_graph_add_arc.
void mcf_graph_grow (mcf_graph_t *self);

//  Adds the arc from -> to (0-based nodes, capacity >= 0 or MCF_CAP_INF) and returns its index:
//  0 for the first arc, then 1, 2, ...
static inline int32_t
mcf_graph_add_arc (mcf_graph_t *self, int32_t from, int32_t to, int64_t capacity, int64_t cost)
{
    assert (self);
    assert (from >= 0 && from < self->nodes);
    assert (to >= 0 && to < self->nodes);
    assert (capacity >= 0);
    assert (self->arcs < MCF_ARCS_MAX);
    if (self->arcs == self->arcs_max)
        mcf_graph_grow (self);
    int32_t arc = self->arcs++;
    self->from[arc] = from;
    self->to[arc] = to;
    self->cap[arc] = capacity;
    self->cost[arc] = cost;
    return arc;
}

//  Sets the supply of a node; negative supply is a demand.
static inline void
mcf_graph_set_supply (mcf_graph_t *self, int32_t node, int64_t supply)
{
    assert (self);
    assert (node >= 0 && node < self->nodes);
    self->supply[node] = supply;
}

#endif
