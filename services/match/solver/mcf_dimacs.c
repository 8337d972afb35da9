/*  mcf_dimacs.c — min-cost-flow instances: DIMACS reader and writer, county instance generator

    The reader trusts nothing in the file: every number is range-checked, every error names its
    line, and a header that declares millions of arcs allocates nothing until they appear.
*/
#include "mcf_graph.h"
#include "mcf_mem.h"
#include "mcf_dimacs.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

struct _mcf_dimacs_t {
    mcf_graph_t graph;
};

mcf_dimacs_t *
mcf_dimacs_new (int32_t nodes, int32_t arcs_hint)
{
    mcf_dimacs_t *self = (mcf_dimacs_t *) mcf_alloc (1, sizeof (mcf_dimacs_t));
    mcf_graph_init (&self->graph, nodes, arcs_hint);
    return self;
}

void
mcf_dimacs_destroy (mcf_dimacs_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mcf_dimacs_t *self = *self_p;
    mcf_graph_release (&self->graph);
    free (self);
    *self_p = NULL;
}

int32_t
mcf_dimacs_add_arc (mcf_dimacs_t *self, int32_t from, int32_t to, int64_t capacity, int64_t cost)
{
    assert (self);
    return mcf_graph_add_arc (&self->graph, from, to, capacity, cost);
}

void
mcf_dimacs_set_supply (mcf_dimacs_t *self, int32_t node, int64_t supply)
{
    assert (self);
    mcf_graph_set_supply (&self->graph, node, supply);
}

int32_t
mcf_dimacs_nodes (mcf_dimacs_t *self)
{
    assert (self);
    return self->graph.nodes;
}

int32_t
mcf_dimacs_arcs (mcf_dimacs_t *self)
{
    assert (self);
    return self->graph.arcs;
}

int64_t
mcf_dimacs_supply (mcf_dimacs_t *self, int32_t node)
{
    assert (self);
    assert (node >= 0 && node < self->graph.nodes);
    return self->graph.supply[node];
}

void
mcf_dimacs_arc (mcf_dimacs_t *self, int32_t arc, int32_t *from, int32_t *to, int64_t *capacity,
                int64_t *cost)
{
    assert (self);
    assert (arc >= 0 && arc < self->graph.arcs);
    if (from)
        *from = self->graph.from[arc];
    if (to)
        *to = self->graph.to[arc];
    if (capacity)
        *capacity = self->graph.cap[arc];
    if (cost)
        *cost = self->graph.cost[arc];
}

mcf_t *
mcf_dimacs_build (mcf_dimacs_t *self)
{
    assert (self);
    const mcf_graph_t *graph = &self->graph;
    mcf_t *mcf = mcf_new (graph->nodes, graph->arcs);
    for (int32_t a = 0; a < graph->arcs; a++)
        mcf_add_arc (mcf, graph->from[a], graph->to[a], graph->cap[a], graph->cost[a]);
    for (int32_t u = 0; u < graph->nodes; u++)
        if (graph->supply[u] != 0)
            mcf_set_supply (mcf, u, graph->supply[u]);
    return mcf;
}

//  -------------------------------------------------------------------------
//  Reader

//  Formats a reader error into err (when given). Returns NULL so callers can `return s_error`.
static void *s_error (char *err, size_t err_size, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static void *
s_error (char *err, size_t err_size, const char *format, ...)
{
    if (err && err_size > 0) {
        va_list args;
        va_start (args, format);
        vsnprintf (err, err_size, format, args);
        va_end (args);
    }
    return NULL;
}

//  Returns the next whitespace-separated token of *cursor, NUL-terminated in place, and
//  advances the cursor past it; NULL at the end of the line.
static char *
s_token (char **cursor)
{
    char *p = *cursor;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\v' || *p == '\f')
        p++;
    if (*p == '\0')
        return NULL;
    char *start = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '\v' && *p != '\f')
        p++;
    if (*p)
        *p++ = '\0';
    *cursor = p;
    return start;
}

//  Parses a whole token as a decimal int64. Returns 0, or -1 when it is not a number or out of
//  range.
static int
s_parse_int (const char *token, int64_t *value)
{
    if (!token)
        return -1;
    char *end;
    errno = 0;
    long long parsed = strtoll (token, &end, 10);
    if (errno != 0 || end == token || *end != '\0')
        return -1;
    *value = (int64_t) parsed;
    return 0;
}

//  The reader's state between lines.
typedef struct {
    mcf_dimacs_t *instance; //  NULL until the problem line
    int64_t declared_arcs;
    uint8_t *has_supply; //  per node: an `n` line was seen
    char *err;
    size_t err_size;
} s_reader_t;

//  Checks that nothing follows the last field of a line of the given form ("n ID SUPPLY").
//  Returns 0, or -1 with err set.
static int
s_read_end (s_reader_t *r, char *cursor, const char *form, long long line)
{
    if (s_token (&cursor)) {
        s_error (r->err, r->err_size, "line %lld: unexpected text after \"%s\"", line, form);
        return -1;
    }
    return 0;
}

//  Handles a `p min NODES ARCS` line. Returns 0, or -1 with err set.
static int
s_read_problem (s_reader_t *r, char *cursor, long long line)
{
    if (r->instance) {
        s_error (r->err, r->err_size, "line %lld: second problem line", line);
        return -1;
    }
    char *kind = s_token (&cursor);
    int64_t nodes, arcs;
    if (!kind || strcmp (kind, "min") != 0) {
        s_error (r->err, r->err_size,
                 "line %lld: problem line must read \"p min NODES ARCS\" (got \"%s\")", line,
                 kind ? kind : "");
        return -1;
    }
    if (s_parse_int (s_token (&cursor), &nodes) || s_parse_int (s_token (&cursor), &arcs)) {
        s_error (r->err, r->err_size, "line %lld: problem line needs two numbers: NODES ARCS",
                 line);
        return -1;
    }
    if (s_read_end (r, cursor, "p min NODES ARCS", line))
        return -1;
    if (nodes < 0 || nodes > MCF_DIMACS_NODES_MAX) {
        s_error (r->err, r->err_size, "line %lld: node count %lld is outside 0..%d", line,
                 (long long) nodes, MCF_DIMACS_NODES_MAX);
        return -1;
    }
    if (arcs < 0 || arcs > MCF_ARCS_MAX) {
        s_error (r->err, r->err_size, "line %lld: arc count %lld is outside 0..%d", line,
                 (long long) arcs, MCF_ARCS_MAX);
        return -1;
    }
    //  Trust the declared arc count only so far: the file may lie
    int32_t hint = arcs < (1 << 20) ? (int32_t) arcs : (1 << 20);
    r->instance = mcf_dimacs_new ((int32_t) nodes, hint);
    r->declared_arcs = arcs;
    r->has_supply = (uint8_t *) mcf_alloc ((size_t) nodes, 1);
    return 0;
}

//  Parses a 1-based node id token into a 0-based index. Returns 0, or -1 with err set.
static int
s_read_node (s_reader_t *r, char *token, const char *what, long long line, int32_t *node)
{
    int64_t id;
    if (s_parse_int (token, &id)) {
        s_error (r->err, r->err_size, "line %lld: %s \"%s\" is not a number", line, what,
                 token ? token : "");
        return -1;
    }
    if (id < 1 || id > r->instance->graph.nodes) {
        s_error (r->err, r->err_size, "line %lld: %s %lld is outside 1..%d", line, what,
                 (long long) id, r->instance->graph.nodes);
        return -1;
    }
    *node = (int32_t) (id - 1);
    return 0;
}

//  Handles an `n ID SUPPLY` line. Returns 0, or -1 with err set.
static int
s_read_supply (s_reader_t *r, char *cursor, long long line)
{
    int32_t node;
    int64_t supply;
    if (s_read_node (r, s_token (&cursor), "node id", line, &node))
        return -1;
    char *token = s_token (&cursor);
    if (s_parse_int (token, &supply)) {
        s_error (r->err, r->err_size, "line %lld: supply \"%s\" is not a 64-bit number", line,
                 token ? token : "");
        return -1;
    }
    if (s_read_end (r, cursor, "n ID SUPPLY", line))
        return -1;
    if (r->has_supply[node]) {
        s_error (r->err, r->err_size, "line %lld: node %d already has a supply line", line,
                 node + 1);
        return -1;
    }
    r->has_supply[node] = 1;
    mcf_dimacs_set_supply (r->instance, node, supply);
    return 0;
}

//  Handles an `a FROM TO LOW CAP COST` line. Returns 0, or -1 with err set.
static int
s_read_arc (s_reader_t *r, char *cursor, long long line)
{
    int32_t from, to;
    int64_t low, cap, cost;
    if (r->instance->graph.arcs >= r->declared_arcs) {
        s_error (r->err, r->err_size, "line %lld: more arc lines than the %lld declared", line,
                 (long long) r->declared_arcs);
        return -1;
    }
    if (s_read_node (r, s_token (&cursor), "arc tail", line, &from)
        || s_read_node (r, s_token (&cursor), "arc head", line, &to))
        return -1;
    if (s_parse_int (s_token (&cursor), &low) || s_parse_int (s_token (&cursor), &cap)
        || s_parse_int (s_token (&cursor), &cost)) {
        s_error (r->err, r->err_size,
                 "line %lld: arc line must read \"a FROM TO LOW CAP COST\" with 64-bit numbers",
                 line);
        return -1;
    }
    if (s_read_end (r, cursor, "a FROM TO LOW CAP COST", line))
        return -1;
    if (low != 0) {
        s_error (r->err, r->err_size, "line %lld: lower bound %lld is not supported (only 0)", line,
                 (long long) low);
        return -1;
    }
    if (cap < 0) {
        s_error (r->err, r->err_size, "line %lld: negative capacity %lld", line, (long long) cap);
        return -1;
    }
    mcf_dimacs_add_arc (r->instance, from, to, cap, cost);
    return 0;
}

mcf_dimacs_t *
mcf_dimacs_read (FILE *in, char *err, size_t err_size)
{
    assert (in);
    s_reader_t r = {.err = err, .err_size = err_size};
    char *buffer = NULL;
    size_t buffer_size = 0;
    long long line = 0;
    int rc = 0;
    if (err && err_size)
        err[0] = '\0';
    ssize_t length;
    while (rc == 0 && (length = getline (&buffer, &buffer_size, in)) != -1) {
        line++;
        if (buffer[0] == 'c')
            continue;
        if ((size_t) length != strlen (buffer)) {
            s_error (err, err_size, "line %lld: NUL byte in the line", line);
            rc = -1;
            break;
        }
        char *cursor = buffer;
        char *kind = s_token (&cursor);
        if (!kind)
            continue;
        if (strcmp (kind, "p") == 0)
            rc = s_read_problem (&r, cursor, line);
        else if (strcmp (kind, "n") == 0 || strcmp (kind, "a") == 0) {
            if (!r.instance) {
                s_error (err, err_size, "line %lld: \"%s\" line before the problem line", line,
                         kind);
                rc = -1;
            } else if (kind[0] == 'n')
                rc = s_read_supply (&r, cursor, line);
            else
                rc = s_read_arc (&r, cursor, line);
        } else if (strcmp (kind, "c") == 0)
            continue;
        else {
            s_error (err, err_size, "line %lld: unknown line type \"%.20s\"", line, kind);
            rc = -1;
        }
    }
    if (rc == 0 && ferror (in)) {
        s_error (err, err_size, "could not read input: %s", strerror (errno));
        rc = -1;
    }
    if (rc == 0 && !r.instance) {
        s_error (err, err_size, "line %lld: end of input without a \"p min NODES ARCS\" line",
                 line);
        rc = -1;
    }
    if (rc == 0 && r.instance->graph.arcs != r.declared_arcs) {
        s_error (err, err_size, "line %lld: end of input after %d arc lines, %lld declared", line,
                 r.instance->graph.arcs, (long long) r.declared_arcs);
        rc = -1;
    }
    free (buffer);
    free (r.has_supply);
    if (rc != 0)
        mcf_dimacs_destroy (&r.instance);
    return r.instance;
}

int
mcf_dimacs_write (mcf_dimacs_t *self, FILE *out, const char *comment)
{
    assert (self);
    assert (out);
    while (comment && *comment) {
        const char *end = strchr (comment, '\n');
        int len = end ? (int) (end - comment) : (int) strlen (comment);
        fprintf (out, "c %.*s\n", len, comment);
        comment = end ? end + 1 : comment + len;
    }
    const mcf_graph_t *graph = &self->graph;
    fprintf (out, "p min %d %d\n", graph->nodes, graph->arcs);
    for (int32_t u = 0; u < graph->nodes; u++)
        if (graph->supply[u] != 0)
            fprintf (out, "n %d %lld\n", u + 1, (long long) graph->supply[u]);
    for (int32_t a = 0; a < graph->arcs; a++)
        fprintf (out, "a %d %d 0 %lld %lld\n", graph->from[a] + 1, graph->to[a] + 1,
                 (long long) graph->cap[a], (long long) graph->cost[a]);
    return fflush (out) == 0 && !ferror (out) ? 0 : -1;
}

//  -------------------------------------------------------------------------
//  County generator

//  xoshiro256** seeded through splitmix64: fast, and the same stream on every platform.
typedef struct {
    uint64_t s[4];
} s_rng_t;

//  Seeds the generator from one 64-bit number.
static void
s_rng_seed (s_rng_t *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        rng->s[i] = z ^ (z >> 31);
    }
}

//  Returns the next 64 random bits.
static uint64_t
s_rng_next (s_rng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

//  Returns a uniform double in [0, 1).
static double
s_rng_unit (s_rng_t *rng)
{
    return (double) (s_rng_next (rng) >> 11) * (1.0 / 9007199254740992.0);
}

//  Returns a uniform integer in [0, n), n > 0.
static int32_t
s_rng_below (s_rng_t *rng, int32_t n)
{
    return (int32_t) (((s_rng_next (rng) >> 32) * (uint64_t) n) >> 32);
}

//  Returns an approximately normal deviate (mean 0, deviation 1) from four uniforms; no libm
//  calls, so instances do not depend on the platform's exp or log.
static double
s_rng_normal (s_rng_t *rng)
{
    double sum = s_rng_unit (rng) + s_rng_unit (rng) + s_rng_unit (rng) + s_rng_unit (rng);
    return (sum - 2.0) * 1.7320508075688772;
}

//  Clamps a coordinate into the county.
static double
s_clamp (double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

#define S_COUNTY_M      60000.0 //  side of the county square, metres
#define S_SKILLS        8       //  skill kinds (first aid, elder care, tutoring, ...)
#define S_NEAR_VILLAGES 24      //  villages, nearest first, a request draws near candidates from

typedef struct {
    double x, y;
} s_point_t;

//  Village with its distance from a reference village, for sorting neighbours.
typedef struct {
    double distance;
    int32_t village;
} s_near_t;

//  Orders neighbours by distance, then by index so the order is total and reproducible.
static int
s_near_compare (const void *a, const void *b)
{
    const s_near_t *x = (const s_near_t *) a, *y = (const s_near_t *) b;
    if (x->distance != y->distance)
        return x->distance < y->distance ? -1 : 1;
    return (x->village > y->village) - (x->village < y->village);
}

//  Picks an index by weight from a cumulative weight table of n entries.
static int32_t
s_pick_weighted (s_rng_t *rng, const double *cumulative, int32_t n)
{
    double target = s_rng_unit (rng) * cumulative[n - 1];
    int32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (cumulative[mid] > target)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

//  Cost of sending volunteer v to request r: travel, skill fit, fairness (recent hours),
//  reliability, own-village preference. Scale: 150 per km of road (1.3 x straight line); a
//  missing skill weighs like 17 km.
static int64_t
s_pair_cost (s_point_t r_at, int32_t r_village, int32_t r_skill, s_point_t v_at, int32_t v_village,
             uint32_t v_skills, int32_t v_hours, int32_t v_reliability)
{
    double dx = r_at.x - v_at.x, dy = r_at.y - v_at.y;
    double road_m = sqrt (dx * dx + dy * dy) * 1.3;
    int64_t cost = 100 + (int64_t) (road_m * 0.15);
    if (r_skill >= 0 && !(v_skills & (1u << r_skill)))
        cost += 2500;
    cost += 40 * (int64_t) v_hours;
    cost += 15 * (int64_t) (100 - v_reliability);
    if (r_village == v_village)
        cost -= 80;
    return cost;
}

mcf_dimacs_t *
mcf_dimacs_gen_county (int32_t n_vol, int32_t n_req, int32_t candidates, uint64_t seed)
{
    assert (n_vol >= 1 && n_req >= 1);
    assert (candidates >= 1 && candidates <= n_vol);
    assert ((int64_t) n_vol + n_req + 2 <= MCF_NODES_MAX);
    assert ((int64_t) n_req * (candidates + 2) + n_vol <= MCF_ARCS_MAX);
    s_rng_t rng;
    s_rng_seed (&rng, seed);

    //  Townships scattered over the county, villages clustered round them; the first village
    //  of each township is its seat and the most populous.
    int32_t villages = n_vol / 250;
    villages = villages < 4 ? 4 : villages > 4000 ? 4000 : villages;
    int32_t towns = villages / 15 > 0 ? villages / 15 : 1;
    s_point_t *town = (s_point_t *) mcf_alloc ((size_t) towns, sizeof (s_point_t));
    s_point_t *village = (s_point_t *) mcf_alloc ((size_t) villages, sizeof (s_point_t));
    double *weight_sum = (double *) mcf_alloc ((size_t) villages, sizeof (double));
    for (int32_t t = 0; t < towns; t++) {
        town[t].x = 5000.0 + s_rng_unit (&rng) * (S_COUNTY_M - 10000.0);
        town[t].y = 5000.0 + s_rng_unit (&rng) * (S_COUNTY_M - 10000.0);
    }
    double total_weight = 0;
    for (int32_t i = 0; i < villages; i++) {
        s_point_t centre = town[i % towns];
        bool seat = i < towns;
        double spread = seat ? 0.0 : 3500.0;
        village[i].x = s_clamp (centre.x + s_rng_normal (&rng) * spread, 0, S_COUNTY_M);
        village[i].y = s_clamp (centre.y + s_rng_normal (&rng) * spread, 0, S_COUNTY_M);
        total_weight += seat ? 8.0 : 1.0 / (0.08 + s_rng_unit (&rng));
        weight_sum[i] = total_weight;
    }

    //  Volunteers: home village, position, skills, reliability, hours served recently.
    s_point_t *v_at = (s_point_t *) mcf_alloc ((size_t) n_vol, sizeof (s_point_t));
    int32_t *v_village = (int32_t *) mcf_alloc ((size_t) n_vol, sizeof (int32_t));
    uint32_t *v_skills = (uint32_t *) mcf_alloc ((size_t) n_vol, sizeof (uint32_t));
    int32_t *v_hours = (int32_t *) mcf_alloc ((size_t) n_vol, sizeof (int32_t));
    int32_t *v_reliability = (int32_t *) mcf_alloc ((size_t) n_vol, sizeof (int32_t));
    int32_t *members_start = (int32_t *) mcf_alloc ((size_t) villages + 1, sizeof (int32_t));
    int32_t *members = (int32_t *) mcf_alloc ((size_t) n_vol, sizeof (int32_t));
    for (int32_t v = 0; v < n_vol; v++) {
        int32_t home = s_pick_weighted (&rng, weight_sum, villages);
        v_village[v] = home;
        v_at[v].x = s_clamp (village[home].x + s_rng_normal (&rng) * 500.0, 0, S_COUNTY_M);
        v_at[v].y = s_clamp (village[home].y + s_rng_normal (&rng) * 500.0, 0, S_COUNTY_M);
        uint32_t skills = 0;
        for (int s = 0; s < S_SKILLS; s++)
            if (s_rng_unit (&rng) < 0.25)
                skills |= 1u << s;
        if (!skills)
            skills = 1u << s_rng_below (&rng, S_SKILLS);
        v_skills[v] = skills;
        double u = s_rng_unit (&rng);
        v_hours[v] = (int32_t) (u * u * 20.0);
        v_reliability[v] = 60 + s_rng_below (&rng, 41);
        members_start[home + 1]++;
    }
    for (int32_t i = 0; i < villages; i++)
        members_start[i + 1] += members_start[i];
    int32_t *fill = (int32_t *) mcf_alloc ((size_t) villages, sizeof (int32_t));
    for (int32_t v = 0; v < n_vol; v++)
        members[members_start[v_village[v]] + fill[v_village[v]]++] = v;
    free (fill);

    //  For each village, its nearest villages (itself first), computed when first needed.
    int32_t near_count = villages < S_NEAR_VILLAGES ? villages : S_NEAR_VILLAGES;
    int32_t *near =
        (int32_t *) mcf_alloc ((size_t) villages * (size_t) near_count, sizeof (int32_t));
    uint8_t *near_done = (uint8_t *) mcf_alloc ((size_t) villages, 1);
    s_near_t *order = (s_near_t *) mcf_alloc ((size_t) villages, sizeof (s_near_t));

    int32_t sink = n_req + n_vol + 1;
    int64_t arcs = (int64_t) n_req * (candidates + 2) + n_vol;
    mcf_dimacs_t *self = mcf_dimacs_new (sink + 1, (int32_t) arcs);

    //  Requests: village, position, missing headcount 1-3, needed skill (or none), urgency 1-5,
    //  care group (0 general, 1 children, 2 disabled, 3 elderly living alone).
    s_point_t *r_at = (s_point_t *) mcf_alloc ((size_t) n_req, sizeof (s_point_t));
    int32_t *r_village = (int32_t *) mcf_alloc ((size_t) n_req, sizeof (int32_t));
    int32_t *r_skill = (int32_t *) mcf_alloc ((size_t) n_req, sizeof (int32_t));
    int64_t *r_headcount = (int64_t *) mcf_alloc ((size_t) n_req, sizeof (int64_t));
    int64_t *r_penalty = (int64_t *) mcf_alloc ((size_t) n_req, sizeof (int64_t));
    int64_t total_headcount = 0;
    for (int32_t r = 0; r < n_req; r++) {
        //  Half the requests follow population, half come from any village alike: remote
        //  hamlets ask for help beyond their size (elderly people living alone)
        int32_t home = s_rng_unit (&rng) < 0.5 ? s_pick_weighted (&rng, weight_sum, villages)
                                               : s_rng_below (&rng, villages);
        r_village[r] = home;
        r_at[r].x = s_clamp (village[home].x + s_rng_normal (&rng) * 500.0, 0, S_COUNTY_M);
        r_at[r].y = s_clamp (village[home].y + s_rng_normal (&rng) * 500.0, 0, S_COUNTY_M);
        double u = s_rng_unit (&rng);
        r_headcount[r] = u < 0.5 ? 1 : u < 0.8 ? 2 : 3;
        r_skill[r] = s_rng_unit (&rng) < 0.3 ? -1 : s_rng_below (&rng, S_SKILLS);
        int64_t urgency = 1 + s_rng_below (&rng, 5);
        double g = s_rng_unit (&rng);
        int64_t group = g < 0.55 ? 0 : g < 0.70 ? 1 : g < 0.80 ? 2 : 3;
        r_penalty[r] = 2500 + 1200 * urgency + 2000 * group;
        total_headcount += r_headcount[r];
        mcf_dimacs_add_arc (self, 0, 1 + r, r_headcount[r], 0);
    }

    //  Candidates: four fifths from the request's own and the nearest villages (a third of
    //  those at most from any one village), the rest from anywhere in the county.
    int32_t *mark = (int32_t *) mcf_alloc ((size_t) n_vol, sizeof (int32_t));
    int32_t *chosen = (int32_t *) mcf_alloc ((size_t) candidates, sizeof (int32_t));
    int32_t near_quota = candidates - candidates / 5;
    int32_t per_village = near_quota / 3 > 1 ? near_quota / 3 : 1;
    for (int32_t r = 0; r < n_req; r++) {
        int32_t home = r_village[r], count = 0;
        int32_t *home_near = near + (size_t) home * (size_t) near_count;
        if (!near_done[home]) {
            for (int32_t i = 0; i < villages; i++) {
                double dx = village[i].x - village[home].x, dy = village[i].y - village[home].y;
                order[i].distance = i == home ? -1.0 : dx * dx + dy * dy;
                order[i].village = i;
            }
            qsort (order, (size_t) villages, sizeof (s_near_t), s_near_compare);
            for (int32_t i = 0; i < near_count; i++)
                home_near[i] = order[i].village;
            near_done[home] = 1;
        }
        for (int32_t i = 0; i < near_count && count < near_quota; i++) {
            int32_t w = home_near[i];
            int32_t size = members_start[w + 1] - members_start[w];
            int32_t take = near_quota - count;
            take = take < per_village ? take : per_village;
            take = take < size ? take : size;
            for (int32_t got = 0; got < take;) {
                //  A village's core of active volunteers (the front of its list, which is in
                //  random order) is proposed far more often than the rest
                double u = s_rng_unit (&rng);
                int32_t v = members[members_start[w] + (int32_t) (u * u * u * size)];
                if (mark[v] == r + 1)
                    continue;
                mark[v] = r + 1;
                chosen[count++] = v;
                got++;
            }
        }
        while (count < candidates) {
            int32_t v = s_rng_below (&rng, n_vol);
            if (mark[v] == r + 1)
                continue;
            mark[v] = r + 1;
            chosen[count++] = v;
        }
        for (int32_t c = 0; c < candidates; c++) {
            int32_t v = chosen[c];
            int64_t cost = s_pair_cost (r_at[r], home, r_skill[r], v_at[v], v_village[v],
                                        v_skills[v], v_hours[v], v_reliability[v]);
            mcf_dimacs_add_arc (self, 1 + r, 1 + n_req + v, 1, cost);
        }
    }
    for (int32_t v = 0; v < n_vol; v++)
        mcf_dimacs_add_arc (self, 1 + n_req + v, sink, 1, 0);
    for (int32_t r = 0; r < n_req; r++)
        mcf_dimacs_add_arc (self, 1 + r, sink, r_headcount[r], r_penalty[r]);
    mcf_dimacs_set_supply (self, 0, total_headcount);
    mcf_dimacs_set_supply (self, sink, -total_headcount);

    free (town);
    free (village);
    free (weight_sum);
    free (v_at);
    free (v_village);
    free (v_skills);
    free (v_hours);
    free (v_reliability);
    free (members_start);
    free (members);
    free (near);
    free (near_done);
    free (order);
    free (r_at);
    free (r_village);
    free (r_skill);
    free (r_headcount);
    free (r_penalty);
    free (mark);
    free (chosen);
    return self;
}
