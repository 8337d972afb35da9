/*  mcf_dimacs.h — min-cost-flow instances: DIMACS reader and writer, county instance generator

    An instance is the plain data of a network (nodes, arcs with capacity and cost, supplies),
    independent of any solver, so that the tool, the tests and the benchmark can feed the same
    instance to mcf and to reference solvers. Nodes are 0-based here and 1-based in files.

    The DIMACS min-cost-flow format: `c` comment lines, one `p min NODES ARCS` line, then
    `n ID SUPPLY` lines (nodes not listed have supply 0) and exactly ARCS `a FROM TO LOW CAP COST`
    lines. Only LOW = 0 is supported.
*/
#ifndef MCF_DIMACS_H_INCLUDED
#define MCF_DIMACS_H_INCLUDED

#include "mcf.h"

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Largest node count a DIMACS file may declare; beyond it a file is taken as bad input rather
//  than an order to allocate gigabytes.
#define MCF_DIMACS_NODES_MAX (1 << 27)

typedef struct _mcf_dimacs_t mcf_dimacs_t;

//  Creates an empty instance of `nodes` nodes (0 <= nodes <= MCF_NODES_MAX), room for arcs_hint
//  arcs. Out of memory aborts. The caller owns the result.
mcf_dimacs_t *mcf_dimacs_new (int32_t nodes, int32_t arcs_hint);

//  Destroys the instance and sets *self_p to NULL; accepts NULL and a pointer to NULL.
void mcf_dimacs_destroy (mcf_dimacs_t **self_p);

//  Reads a DIMACS min-cost-flow problem. Returns a new instance owned by the caller, or NULL
//  with a message naming the line ("line 7: ...") in err. Never asserts on the input.
mcf_dimacs_t *mcf_dimacs_read (FILE *in, char *err, size_t err_size);

//  Writes the instance in DIMACS format, with `comment` (may be NULL, may hold several lines)
//  as leading `c` lines. Returns 0, or -1 when writing failed.
int mcf_dimacs_write (mcf_dimacs_t *self, FILE *out, const char *comment);

//  Generates a county dispatch round as matching.md describes: villages grouped round
//  townships, volunteers and requests living in them; node 0 the source, then n_req requests,
//  n_vol volunteers and the sink last. Each request has `candidates` candidate volunteers
//  (mostly from its own and nearby villages, a fifth from anywhere), a capacity equal to its
//  missing headcount (1-3) and an "unserved" arc to the sink whose penalty grows with urgency and
//  care-group priority. Arcs come grouped: source arcs, candidate arcs request by request,
//  volunteer -> sink arcs, unserved arcs. The same arguments give the same instance on every
//  machine (integer and IEEE-exact arithmetic only). Requires 1 <= candidates <= n_vol,
//  n_req >= 1 and a total under MCF_NODES_MAX nodes and MCF_ARCS_MAX arcs.
mcf_dimacs_t *mcf_dimacs_gen_county (int32_t n_vol, int32_t n_req, int32_t candidates,
                                     uint64_t seed);

//  Adds an arc (0-based nodes, capacity >= 0) and returns its index.
int32_t mcf_dimacs_add_arc (mcf_dimacs_t *self, int32_t from, int32_t to, int64_t capacity,
                            int64_t cost);

//  Sets a node's supply.
void mcf_dimacs_set_supply (mcf_dimacs_t *self, int32_t node, int64_t supply);

//  Sizes and contents.
int32_t mcf_dimacs_nodes (mcf_dimacs_t *self);
int32_t mcf_dimacs_arcs (mcf_dimacs_t *self);
int64_t mcf_dimacs_supply (mcf_dimacs_t *self, int32_t node);
void mcf_dimacs_arc (mcf_dimacs_t *self, int32_t arc, int32_t *from, int32_t *to, int64_t *capacity,
                     int64_t *cost);

//  Creates a solver holding this instance's network (arcs keep their indices). The caller owns
//  the result.
mcf_t *mcf_dimacs_build (mcf_dimacs_t *self);

#ifdef __cplusplus
}
#endif

#endif
