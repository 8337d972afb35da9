/*  mcf_graph.c — a network as plain data, shared by the solver and the DIMACS instance  */
#include "mcf_mem.h"
#include "mcf_graph.h"

#include <stdlib.h>
#include <string.h>

void
mcf_graph_init (mcf_graph_t *self, int32_t nodes, int32_t arcs_hint)
{
    assert (self);
    assert (nodes >= 0 && nodes <= MCF_NODES_MAX);
    assert (arcs_hint >= 0);
    self->nodes = nodes;
    self->arcs = 0;
    self->arcs_max = arcs_hint > 16 ? arcs_hint : 16;
    if (self->arcs_max > MCF_ARCS_MAX)
        self->arcs_max = MCF_ARCS_MAX;
    self->from = (int32_t *) mcf_alloc ((size_t) self->arcs_max, sizeof (int32_t));
    self->to = (int32_t *) mcf_alloc ((size_t) self->arcs_max, sizeof (int32_t));
    self->cap = (int64_t *) mcf_alloc ((size_t) self->arcs_max, sizeof (int64_t));
    self->cost = (int64_t *) mcf_alloc ((size_t) self->arcs_max, sizeof (int64_t));
    self->supply = (int64_t *) mcf_alloc ((size_t) nodes, sizeof (int64_t));
}

void
mcf_graph_release (mcf_graph_t *self)
{
    assert (self);
    free (self->from);
    free (self->to);
    free (self->cap);
    free (self->cost);
    free (self->supply);
    memset (self, 0, sizeof (mcf_graph_t));
}

void
mcf_graph_grow (mcf_graph_t *self)
{
    assert (self);
    int64_t grown = (int64_t) self->arcs_max * 2;
    self->arcs_max = grown > MCF_ARCS_MAX ? MCF_ARCS_MAX : (int32_t) grown;
    size_t count = (size_t) self->arcs_max;
    self->from = (int32_t *) mcf_realloc (self->from, count, sizeof (int32_t));
    self->to = (int32_t *) mcf_realloc (self->to, count, sizeof (int32_t));
    self->cap = (int64_t *) mcf_realloc (self->cap, count, sizeof (int64_t));
    self->cost = (int64_t *) mcf_realloc (self->cost, count, sizeof (int64_t));
}
