/*  match_plan.c — a round's demand and candidates (see match_plan.h)

    Four queries, each a plain index or hash read: the demand with the area each request has
    widened to; the active volunteers without a pending offer in those areas (the union of
    areas, nested ones dropped, so each volunteer is read once) with their recent work; the
    commitments overlapping any demand window; the offers already made of the requests in
    demand. Then, per request, a walk over the volunteers of its area (sorted by region, so an
    area is one contiguous run found by binary search) keeps the `limit` nearest that fit.  */
#include "match_plan.h"
#include "match_dispatch_store.h"
#include "match_util.h"

#include <assert.h>
#include <czmq.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  Room for an area code and one character past it.
#define ST_AREA_PAST 16

//  Skills, categories and availability come as text joined by the unit separator.
#define S_SEP "\x1f"

//  Columns of plan_demand and plan_supply (match_dispatch_store.c), read by number in the
//  round's inner loops; s_columns checks once per result that the names agree.
enum {
    S_DEM_ID,
    S_DEM_MISSING,
    S_DEM_URGENT,
    S_DEM_CARED,
    S_DEM_REGION,
    S_DEM_AREA,
    S_DEM_SLOT,
    S_DEM_SKILLS,
    S_DEM_CATEGORY,
    S_DEM_LAT,
    S_DEM_LON,
    S_DEM_START,
    S_DEM_END,
    S_DEM_MIN_STARS,
    S_DEM_INSURANCE,
};
enum {
    S_SUP_ID,
    S_SUP_REGION,
    S_SUP_LAT,
    S_SUP_LON,
    S_SUP_SKILLS,
    S_SUP_CATEGORIES,
    S_SUP_AVAILABILITY,
    S_SUP_STARS,
    S_SUP_INSURED_UNTIL,
    S_SUP_HOURS,
    S_SUP_LAPSED,
    S_SUP_NO_SHOW,
};
static const char *const s_demand_columns[] = {
    "id",   "missing", "urgent", "cared",     "region",
    "area", "slot",    "skills", "category",  "lat",
    "lon",  "start_s", "end_s",  "min_stars", "insurance_required"};
static const char *const s_supply_columns[] = {
    "volunteer_id", "region", "lat",           "lon",   "skills", "categories",
    "availability", "stars",  "insured_until", "hours", "lapsed", "no_show"};

//  Asserts that a result's columns are `names`, in order: a statement changed without its
//  reader is a programmer's error.
static void
s_columns (const PGresult *res, const char *const *names, int count)
{
    assert (PQnfields (res) == count);
    for (int c = 0; c < count; c++)
        assert (strcmp (PQfname (res, c), names[c]) == 0);
}

//  ---------------------------------------------------------------------------------------
//  Interned words: skills and categories as small numbers, availability as slot bits

typedef struct {
    zhashx_t *ids; //  word -> its number + 1
    int32_t count;
} s_words_t;

static int32_t
s_word (s_words_t *words, const char *word)
{
    intptr_t id = (intptr_t) zhashx_lookup (words->ids, word);
    if (id == 0) {
        id = ++words->count;
        zhashx_insert (words->ids, word, (void *) id);
    }
    return (int32_t) id - 1;
}

//  Numbers of the words of `text` (joined by S_SEP) appended to `pool`; returns the first's
//  index, the count into *count.
static int32_t
s_intern (s_words_t *words, const char *text, int32_t **pool, int32_t *used, int32_t *room,
          int32_t *count)
{
    int32_t first = *used;
    *count = 0;
    if (!*text)
        return first;
    char *copy = strdup (text), *rest = copy, *word;
    while ((word = strsep (&rest, S_SEP))) {
        if (*used == *room) {
            *room = *room * 2 + 64;
            *pool = realloc (*pool, (size_t) *room * sizeof (int32_t));
            if (!*pool)
                abort ();
        }
        (*pool)[(*used)++] = s_word (words, word);
        (*count)++;
    }
    free (copy);
    return first;
}

//  The bit of a weekly slot ("mon_am" .. "sun_ev"), 0 for anything else.
static uint32_t
s_slot_bit (const char *slot, size_t length)
{
    static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    static const char *const parts[] = {"am", "pm", "ev"};
    if (length != 6 || slot[3] != '_')
        return 0;
    for (int d = 0; d < 7; d++)
        for (int p = 0; p < 3; p++)
            if (memcmp (slot, days[d], 3) == 0 && memcmp (slot + 4, parts[p], 2) == 0)
                return 1u << (d * 3 + p);
    return 0;
}

static uint32_t
s_slot_bits (const char *text)
{
    uint32_t bits = 0;
    while (*text) {
        size_t length = strcspn (text, S_SEP);
        bits |= s_slot_bit (text, length);
        text += length + (text[length] != '\0');
    }
    return bits;
}

//  ---------------------------------------------------------------------------------------
//  The supply of a round

typedef struct {
    int64_t id;
    const char *region; //  into the supply result
    double lat, lon;    //  NAN when unknown
    uint32_t slots;
    int32_t skills, skill_count; //  into the pool
    int32_t categories, category_count;
    int32_t stars;
    double insured_until;                  //  epoch seconds, 0 without insurance
    double hours;                          //  worked in the last 30 days
    double lapsed;                         //  share of offers left to lapse
    double no_show;                        //  share of accepted requests past with no check-in
    int32_t commitments, commitment_count; //  into the commitments result
} s_volunteer_t;

static int
s_by_region (const void *a, const void *b)
{
    const s_volunteer_t *x = a, *y = b;
    int order = strcmp (x->region, y->region);
    return order ? order : (x->id > y->id) - (x->id < y->id);
}

static int
s_by_id (const void *a, const void *b)
{
    const s_volunteer_t *const *x = a, *const *y = b;
    return ((*x)->id > (*y)->id) - ((*x)->id < (*y)->id);
}

//  The first volunteer whose region is not below `area` in byte order.
static int32_t
s_lower_bound (const s_volunteer_t *volunteers, int32_t count, const char *area)
{
    int32_t lo = 0, hi = count;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (strcmp (volunteers[mid].region, area) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static double
s_number (PGresult *res, int row, int col)
{
    return PQgetisnull (res, row, col) ? NAN : atof (PQgetvalue (res, row, col));
}

//  Metres between two points (equirectangular, as geo_metres in SQL), -1 when unknown.
static double
s_metres (double lat1, double lon1, double lat2, double lon2)
{
    if (isnan (lat1) || isnan (lon1) || isnan (lat2) || isnan (lon2))
        return -1;
    const double radians = M_PI / 180;
    double x = (lon2 - lon1) * radians * cos ((lat1 + lat2) / 2 * radians);
    double y = (lat2 - lat1) * radians;
    return 6371000.0 * sqrt (x * x + y * y);
}

//  ---------------------------------------------------------------------------------------
//  The nearest candidates of one request: a bounded max-heap on (distance, id), unknown
//  distances after every known one.

typedef struct {
    double key; //  metres, HUGE_VAL when unknown
    int64_t id;
    int32_t volunteer; //  index into the volunteers
    double metres;
} s_near_t;

static bool
s_farther (const s_near_t *a, const s_near_t *b)
{
    return a->key > b->key || (a->key == b->key && a->id > b->id);
}

static void
s_heap_push (s_near_t *heap, int32_t *size, int32_t limit, s_near_t item)
{
    if (*size == limit) {
        if (!s_farther (&heap[0], &item))
            return;
        //  Replace the farthest and sift down.
        int32_t at = 0;
        for (;;) {
            int32_t child = 2 * at + 1;
            if (child >= limit)
                break;
            if (child + 1 < limit && s_farther (&heap[child + 1], &heap[child]))
                child++;
            if (!s_farther (&heap[child], &item))
                break;
            heap[at] = heap[child];
            at = child;
        }
        heap[at] = item;
        return;
    }
    int32_t at = (*size)++;
    while (at > 0 && s_farther (&item, &heap[(at - 1) / 2])) {
        heap[at] = heap[(at - 1) / 2];
        at = (at - 1) / 2;
    }
    heap[at] = item;
}

static int
s_nearest_first (const void *a, const void *b)
{
    return s_farther (a, b) ? 1 : s_farther (b, a) ? -1 : 0;
}

//  ---------------------------------------------------------------------------------------
//  A grid of the volunteers' locations: a wide area's nearest are found ring by ring around
//  the request's cell instead of by reading every volunteer of a county.

typedef struct {
    double scale;  //  metres per degree of longitude at the grid's latitude
    double cell_m; //  a cell's side
    double min_x, min_y;
    int32_t width, height;
    int32_t *starts;   //  width * height + 1 offsets into members
    int32_t *members;  //  volunteer indexes, cell by cell
    int32_t *unplaced; //  volunteers with no location, in region order
    int32_t unplaced_count;
} s_grid_t;

#define S_METRES_PER_DEGREE (6371000.0 * M_PI / 180)
#define S_MAX(a, b)         ((a) > (b) ? (a) : (b))
#define S_MIN(a, b)         ((a) < (b) ? (a) : (b))
#define S_GRID_CELL_M       2000.0
#define S_GRID_SIDE_MAX     1024

static void
s_grid_build (s_grid_t *grid, const s_volunteer_t *volunteers, int32_t count)
{
    memset (grid, 0, sizeof *grid);
    double lat_sum = 0, min_x = HUGE_VAL, min_y = HUGE_VAL, max_x = -HUGE_VAL, max_y = -HUGE_VAL;
    int32_t placed = 0;
    for (int32_t i = 0; i < count; i++)
        if (!isnan (volunteers[i].lat) && !isnan (volunteers[i].lon)) {
            lat_sum += volunteers[i].lat;
            placed++;
        }
    grid->unplaced = st_calloc ((size_t) (count - placed) + 1, sizeof (int32_t));
    grid->scale = S_METRES_PER_DEGREE * cos ((placed ? lat_sum / placed : 0) * M_PI / 180);
    for (int32_t i = 0; i < count; i++) {
        if (isnan (volunteers[i].lat) || isnan (volunteers[i].lon)) {
            grid->unplaced[grid->unplaced_count++] = i;
            continue;
        }
        double x = volunteers[i].lon * grid->scale, y = volunteers[i].lat * S_METRES_PER_DEGREE;
        min_x = fmin (min_x, x), max_x = fmax (max_x, x);
        min_y = fmin (min_y, y), max_y = fmax (max_y, y);
    }
    if (placed == 0)
        min_x = max_x = min_y = max_y = 0;
    grid->cell_m = fmax (S_GRID_CELL_M, fmax (max_x - min_x, max_y - min_y) / S_GRID_SIDE_MAX);
    grid->min_x = min_x, grid->min_y = min_y;
    grid->width = (int32_t) ((max_x - min_x) / grid->cell_m) + 1;
    grid->height = (int32_t) ((max_y - min_y) / grid->cell_m) + 1;
    size_t cells = (size_t) grid->width * (size_t) grid->height;
    grid->starts = st_calloc (cells + 1, sizeof (int32_t));
    grid->members = st_calloc ((size_t) placed + 1, sizeof (int32_t));
    //  A counting sort by cell; within a cell, region order (the volunteers' order) stays.
    int32_t *cell_of = st_calloc ((size_t) count + 1, sizeof (int32_t));
    for (int32_t i = 0; i < count; i++) {
        cell_of[i] = -1;
        if (isnan (volunteers[i].lat) || isnan (volunteers[i].lon))
            continue;
        int32_t cx = (int32_t) ((volunteers[i].lon * grid->scale - min_x) / grid->cell_m);
        int32_t cy = (int32_t) ((volunteers[i].lat * S_METRES_PER_DEGREE - min_y) / grid->cell_m);
        cell_of[i] = cy * grid->width + cx;
        grid->starts[cell_of[i] + 1]++;
    }
    for (size_t c = 0; c < cells; c++)
        grid->starts[c + 1] += grid->starts[c];
    int32_t *fill = st_calloc (cells + 1, sizeof (int32_t));
    for (int32_t i = 0; i < count; i++)
        if (cell_of[i] >= 0)
            grid->members[grid->starts[cell_of[i]] + fill[cell_of[i]]++] = i;
    free (fill);
    free (cell_of);
}

static void
s_grid_clear (s_grid_t *grid)
{
    free (grid->starts);
    free (grid->members);
    free (grid->unplaced);
    memset (grid, 0, sizeof *grid);
}

//  ---------------------------------------------------------------------------------------
//  Building the plan

typedef struct {
    st_db_t *db;
    const match_weights_t *weights;
    PGresult *demand, *supply, *commitments, *offered;
    s_words_t words;
    int32_t *pool;
    int32_t pool_used, pool_room;
    s_volunteer_t *volunteers;
    int32_t volunteer_count;
    s_grid_t grid;
} s_build_t;

static int
s_by_text (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

//  The areas of the demand with those inside another dropped, as a list for plan_supply.
static void
s_areas (PGresult *demand, st_params_t *params)
{
    int rows = PQntuples (demand);
    char **areas = st_calloc ((size_t) rows + 1, sizeof (char *));
    for (int row = 0; row < rows; row++)
        areas[row] = PQgetvalue (demand, row, S_DEM_AREA);
    qsort (areas, (size_t) rows, sizeof (char *), s_by_text);
    //  Sorted, an area follows the shorter one it lies in (its prefix) directly or after
    //  others inside that one too.
    size_t kept = 0;
    for (int row = 0; row < rows; row++)
        if (kept == 0 || strncmp (areas[row], areas[kept - 1], strlen (areas[kept - 1])) != 0)
            areas[kept++] = areas[row];
    st_params_text_array (params, areas, kept);
    free (areas);
}

static int
s_compare_ids (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

//  The active volunteers of the demand's areas, less those with an offer pending.
static st_status_t
s_read_supply (s_build_t *self, st_error_t *err)
{
    PGresult *pending;
    st_status_t rc = st_db_exec (self->db, "plan_pending", NULL, &pending, err);
    if (rc != ST_OK)
        return rc;
    int32_t busy_count = PQntuples (pending);
    int64_t *busy = st_calloc ((size_t) busy_count + 1, sizeof (int64_t));
    for (int32_t row = 0; row < busy_count; row++)
        busy[row] = atoll (PQgetvalue (pending, row, 0));
    PQclear (pending);
    st_params_t params = {0};
    s_areas (self->demand, &params);
    rc = st_db_exec (self->db, "plan_supply", &params, &self->supply, err);
    st_params_clear (&params);
    if (rc != ST_OK) {
        free (busy);
        return rc;
    }
    s_columns (self->supply, s_supply_columns, S_SUP_NO_SHOW + 1);
    int32_t rows = PQntuples (self->supply), count = 0;
    self->volunteers = st_calloc ((size_t) rows + 1, sizeof (s_volunteer_t));
    for (int32_t row = 0; row < rows; row++) {
        PGresult *res = self->supply;
        int64_t id = atoll (PQgetvalue (res, row, S_SUP_ID));
        if (bsearch (&id, busy, (size_t) busy_count, sizeof (int64_t), s_compare_ids))
            continue;
        s_volunteer_t *v = &self->volunteers[count++];
        v->id = id;
        v->region = PQgetvalue (res, row, S_SUP_REGION);
        v->lat = s_number (res, row, S_SUP_LAT);
        v->lon = s_number (res, row, S_SUP_LON);
        v->skills = s_intern (&self->words, PQgetvalue (res, row, S_SUP_SKILLS), &self->pool,
                              &self->pool_used, &self->pool_room, &v->skill_count);
        v->categories =
            s_intern (&self->words, PQgetvalue (res, row, S_SUP_CATEGORIES), &self->pool,
                      &self->pool_used, &self->pool_room, &v->category_count);
        v->slots = s_slot_bits (PQgetvalue (res, row, S_SUP_AVAILABILITY));
        v->stars = atoi (PQgetvalue (res, row, S_SUP_STARS));
        v->insured_until = atof (PQgetvalue (res, row, S_SUP_INSURED_UNTIL));
        v->hours = atof (PQgetvalue (res, row, S_SUP_HOURS));
        v->lapsed = atof (PQgetvalue (res, row, S_SUP_LAPSED));
        v->no_show = atof (PQgetvalue (res, row, S_SUP_NO_SHOW));
    }
    free (busy);
    self->volunteer_count = count;
    qsort (self->volunteers, (size_t) count, sizeof (s_volunteer_t), s_by_region);
    s_grid_build (&self->grid, self->volunteers, count);
    return ST_OK;
}

//  Reads the commitments overlapping the demand's windows and points each volunteer at its
//  own (the result is ordered by volunteer).
static st_status_t
s_read_commitments (s_build_t *self, st_error_t *err)
{
    double from = HUGE_VAL, to = -HUGE_VAL;
    for (int row = 0; row < PQntuples (self->demand); row++) {
        from = fmin (from, atof (PQgetvalue (self->demand, row, S_DEM_START)));
        to = fmax (to, atof (PQgetvalue (self->demand, row, S_DEM_END)));
    }
    st_params_t params = {0};
    st_params_double (&params, from);
    st_params_double (&params, to);
    st_status_t rc = st_db_exec (self->db, "plan_commitments", &params, &self->commitments, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    //  Volunteers by id, to find each commitment's volunteer.
    s_volunteer_t **by_id = st_calloc ((size_t) self->volunteer_count + 1, sizeof (void *));
    for (int32_t i = 0; i < self->volunteer_count; i++)
        by_id[i] = &self->volunteers[i];
    qsort (by_id, (size_t) self->volunteer_count, sizeof (void *), s_by_id);
    int rows = PQntuples (self->commitments);
    for (int row = 0; row < rows;) {
        int64_t id = atoll (PQgetvalue (self->commitments, row, 0));
        int first = row;
        while (row < rows && atoll (PQgetvalue (self->commitments, row, 0)) == id)
            row++;
        s_volunteer_t key = {.id = id}, *keyp = &key;
        s_volunteer_t **found =
            bsearch (&keyp, by_id, (size_t) self->volunteer_count, sizeof (void *), s_by_id);
        if (found) {
            (*found)->commitments = first;
            (*found)->commitment_count = row - first;
        }
    }
    free (by_id);
    return ST_OK;
}

static st_status_t
s_read_offered (s_build_t *self, st_error_t *err)
{
    int rows = PQntuples (self->demand);
    char **ids = st_calloc ((size_t) rows + 1, sizeof (char *));
    for (int row = 0; row < rows; row++)
        ids[row] = PQgetvalue (self->demand, row, S_DEM_ID);
    st_params_t params = {0};
    st_params_text_array (&params, ids, (size_t) rows);
    free (ids);
    st_status_t rc = st_db_exec (self->db, "plan_offered", &params, &self->offered, err);
    st_params_clear (&params);
    return rc;
}

//  True when volunteer `id` appears among rows [first, last) of plan_offered (ordered by
//  volunteer within a request).
static bool
s_was_offered (PGresult *offered, int first, int last, int64_t id)
{
    while (first < last) {
        int mid = first + (last - first) / 2;
        int64_t at = atoll (PQgetvalue (offered, mid, 1));
        if (at == id)
            return true;
        if (at < id)
            first = mid + 1;
        else
            last = mid;
    }
    return false;
}

//  A request's needs, read once from its demand row.
typedef struct {
    const char *area;
    size_t area_length;
    uint32_t slot; //  the slots its window touches (bits, as a volunteer's)
    int32_t *skills;
    int32_t skill_count;
    int32_t category;
    double lat, lon, start, end;
    int32_t min_stars;
    bool insurance;
    const char *region;
} s_need_t;

static bool
s_fits (s_build_t *self, const s_need_t *need, const s_volunteer_t *v)
{
    if (!(v->slots & need->slot) || v->stars < need->min_stars
        || (need->insurance && v->insured_until < need->end))
        return false;
    for (int32_t i = 0; i < need->skill_count; i++) {
        bool has = false;
        for (int32_t k = 0; k < v->skill_count && !has; k++)
            has = self->pool[v->skills + k] == need->skills[i];
        if (!has)
            return false;
    }
    if (v->category_count > 0) {
        bool named = false;
        for (int32_t k = 0; k < v->category_count && !named; k++)
            named = self->pool[v->categories + k] == need->category;
        if (!named)
            return false;
    }
    for (int32_t k = 0; k < v->commitment_count; k++) {
        int row = v->commitments + k;
        if (atof (PQgetvalue (self->commitments, row, 1)) < need->end
            && atof (PQgetvalue (self->commitments, row, 2)) > need->start)
            return false;
    }
    return true;
}

//  The candidates of one request so far: the `limit` nearest that fit, as a heap.
typedef struct {
    s_near_t *heap;
    int32_t size, limit;
    int offered_first, offered_last; //  the request's rows of plan_offered
    int32_t area_first, area_last;   //  the volunteers of its area (sorted by region)
} s_found_t;

//  Keeps volunteer `i` when it lies in the request's area, fits, was never offered the request
//  and is nearer than the farthest kept.
static void
s_consider (s_build_t *self, const s_need_t *need, s_found_t *found, int32_t i)
{
    const s_volunteer_t *v = &self->volunteers[i];
    //  In the area: within its run of the volunteers sorted by region (a string comparison
    //  here was 40 % of a county-wide round).
    if (i < found->area_first || i >= found->area_last || !s_fits (self, need, v)
        || s_was_offered (self->offered, found->offered_first, found->offered_last, v->id))
        return;
    double metres = s_metres (need->lat, need->lon, v->lat, v->lon);
    s_near_t item = {metres < 0 ? HUGE_VAL : metres, v->id, i, metres};
    s_heap_push (found->heap, &found->size, found->limit, item);
}

//  Every volunteer of the area, one contiguous run of the volunteers sorted by region.
static void
s_walk_area (s_build_t *self, const s_need_t *need, s_found_t *found)
{
    for (int32_t i = found->area_first; i < found->area_last; i++)
        s_consider (self, need, found, i);
}

//  The grid's cells ring by ring around the request's, until a ring can hold nobody nearer
//  than the farthest kept; then the volunteers with no location (farther than anyone).
static void
s_walk_grid (s_build_t *self, const s_need_t *need, s_found_t *found)
{
    const s_grid_t *grid = &self->grid;
    int32_t cx = (int32_t) floor ((need->lon * grid->scale - grid->min_x) / grid->cell_m);
    int32_t cy = (int32_t) floor ((need->lat * S_METRES_PER_DEGREE - grid->min_y) / grid->cell_m);
    int32_t width = grid->width, height = grid->height;
    //  Rings nearer than the grid hold no cell, rings past its farthest cell neither: a
    //  request placed far from every volunteer costs no more than one near them.
    int32_t first =
        S_MAX (0, S_MAX (S_MAX (-cx, cx - (width - 1)), S_MAX (-cy, cy - (height - 1))));
    int32_t last = S_MAX (S_MAX (cx, width - 1 - cx), S_MAX (cy, height - 1 - cy));
    for (int32_t ring = first; ring <= last; ring++) {
        for (int32_t y = S_MAX (cy - ring, 0); y <= S_MIN (cy + ring, height - 1); y++) {
            //  The ring's top and bottom rows whole, of the rows between only its two ends.
            bool edge = y == cy - ring || y == cy + ring;
            for (int32_t x = S_MAX (cx - ring, 0); x <= S_MIN (cx + ring, width - 1); x++) {
                if (!edge && x != cx - ring && x != cx + ring) {
                    if (cx + ring > width - 1)
                        break;
                    x = cx + ring - 1; //  to the right end next
                    continue;
                }
                int32_t cell = y * width + x;
                for (int32_t k = grid->starts[cell]; k < grid->starts[cell + 1]; k++)
                    s_consider (self, need, found, grid->members[k]);
            }
        }
        //  Ring + 1 lies at least ring cells away (less a little for the projection).
        if (found->size == found->limit && found->heap[0].key < ring * grid->cell_m * 0.98)
            return;
    }
    for (int32_t k = 0; k < grid->unplaced_count && found->size < found->limit; k++)
        s_consider (self, need, found, grid->unplaced[k]);
}

//  Whether the grid beats reading the area: the request has a location and its area holds
//  many more volunteers than a few rings would.
#define S_GRID_FROM 4000

static int64_t
s_cost (const match_weights_t *w, const s_need_t *need, const s_volunteer_t *v, double metres)
{
    int64_t cost = metres < 0 ? w->unknown_distance : (int64_t) (metres / w->metres_per_unit);
    if (strcmp (v->region, need->region) != 0)
        cost += w->other_village;
    cost += (int64_t) llround (v->hours * (double) w->per_recent_hour);
    if (v->category_count == 0)
        cost += w->generalist;
    cost += (int64_t) llround (v->lapsed * (double) w->unanswered);
    cost += (int64_t) llround (v->no_show * (double) w->no_show);
    return cost;
}

//  Milliseconds of a monotonic clock, for the plan's figures.
static double
s_trace_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

st_status_t
match_plan_build (st_db_t *db, const match_weights_t *weights, int township_s, int county_s,
                  int limit, int64_t max_demand, match_plan_t *plan, st_error_t *err)
{
    memset (plan, 0, sizeof *plan);
    match_dispatch_store_prepare (db);
    s_build_t self = {.db = db, .weights = weights, .words.ids = zhashx_new ()};
    st_params_t params = {0};
    st_params_int (&params, township_s);
    st_params_int (&params, county_s);
    st_params_int (&params, max_demand);
    double t0 = s_trace_ms ();
    st_status_t rc = st_db_exec (db, "plan_demand", &params, &self.demand, err);
    st_params_clear (&params);
    if (rc == ST_OK)
        s_columns (self.demand, s_demand_columns, S_DEM_INSURANCE + 1);
    int rows = rc == ST_OK ? PQntuples (self.demand) : 0;
    plan->demand_read = rows;
    if (rows > 0) {
        rc = s_read_supply (&self, err);
        if (rc == ST_OK)
            rc = s_read_commitments (&self, err);
        if (rc == ST_OK)
            rc = s_read_offered (&self, err);
    }
    double t1 = s_trace_ms ();
    plan->demand = st_calloc ((size_t) rows + 1, sizeof (match_demand_t));
    plan->volunteers = self.volunteer_count;
    size_t pair_room = 0;
    s_near_t *heap = st_calloc ((size_t) limit + 1, sizeof (s_near_t));
    int offered_row = 0, offered_rows = self.offered ? PQntuples (self.offered) : 0;
    for (int row = 0; row < rows && rc == ST_OK; row++) {
        PGresult *res = self.demand;
        int64_t id = atoll (PQgetvalue (res, row, S_DEM_ID));
        int32_t missing = atoi (PQgetvalue (res, row, S_DEM_MISSING));
        //  This request's offers made already: the next run of plan_offered's rows.
        while (offered_row < offered_rows && atoll (PQgetvalue (self.offered, offered_row, 0)) < id)
            offered_row++;
        int offered_first = offered_row;
        while (offered_row < offered_rows
               && atoll (PQgetvalue (self.offered, offered_row, 0)) == id)
            offered_row++;
        if (missing <= 0)
            continue;
        match_demand_t *demand = &plan->demand[plan->requests];
        demand->id = id;
        demand->missing = missing;
        demand->urgent = PQgetvalue (res, row, S_DEM_URGENT)[0] == 't';
        demand->cared = PQgetvalue (res, row, S_DEM_CARED)[0] == 't';
        demand->penalty = weights->unserved + (demand->urgent ? weights->urgent : 0)
                          + (demand->cared ? weights->cared : 0);
        int32_t request = plan->requests++;

        s_need_t need = {.area = PQgetvalue (res, row, S_DEM_AREA),
                         .region = PQgetvalue (res, row, S_DEM_REGION),
                         .lat = s_number (res, row, S_DEM_LAT),
                         .lon = s_number (res, row, S_DEM_LON),
                         .start = atof (PQgetvalue (res, row, S_DEM_START)),
                         .end = atof (PQgetvalue (res, row, S_DEM_END)),
                         .min_stars = atoi (PQgetvalue (res, row, S_DEM_MIN_STARS)),
                         .insurance = PQgetvalue (res, row, S_DEM_INSURANCE)[0] == 't'};
        need.area_length = strlen (need.area);
        //  Every slot the request's window touches: a volunteer free in any of them fits.
        need.slot = s_slot_bits (PQgetvalue (res, row, S_DEM_SLOT));
        //  A skill nobody has is a number no volunteer holds: interning it is harmless.
        int32_t skills_at = s_intern (&self.words, PQgetvalue (res, row, S_DEM_SKILLS), &self.pool,
                                      &self.pool_used, &self.pool_room, &need.skill_count);
        need.category = s_word (&self.words, PQgetvalue (res, row, S_DEM_CATEGORY));
        need.skills = self.pool + skills_at;
        if (need.slot == 0)
            continue; //  outside every slot volunteers state: nobody is free

        //  The area's volunteers: from the first not below the area's code to the first not
        //  below the code and ':' (past every digit and letter), as plan_supply reads them.
        char past[ST_AREA_PAST];
        snprintf (past, sizeof past, "%s:", need.area);
        s_found_t found = {
            .heap = heap,
            .limit = limit,
            .offered_first = offered_first,
            .offered_last = offered_row,
            .area_first = s_lower_bound (self.volunteers, self.volunteer_count, need.area),
            .area_last = s_lower_bound (self.volunteers, self.volunteer_count, past)};
        int32_t in_area = found.area_last - found.area_first;
        if (in_area > S_GRID_FROM && !isnan (need.lat) && !isnan (need.lon))
            s_walk_grid (&self, &need, &found);
        else
            s_walk_area (&self, &need, &found);
        int32_t size = found.size;
        qsort (heap, (size_t) size, sizeof (s_near_t), s_nearest_first);
        if ((size_t) plan->pair_count + (size_t) size > pair_room) {
            pair_room = pair_room * 2 + (size_t) size + 1024;
            plan->pairs = realloc (plan->pairs, pair_room * sizeof (match_pair_t));
            if (!plan->pairs)
                abort ();
        }
        for (int32_t k = 0; k < size; k++)
            plan->pairs[plan->pair_count++] =
                (match_pair_t){.request = request,
                               .volunteer_id = heap[k].id,
                               .cost = s_cost (weights, &need, &self.volunteers[heap[k].volunteer],
                                               heap[k].metres)};
    }
    plan->read_ms = t1 - t0;
    plan->walk_ms = s_trace_ms () - t1;
    free (heap);
    s_grid_clear (&self.grid);
    free (self.pool);
    free (self.volunteers);
    zhashx_destroy (&self.words.ids);
    PQclear (self.demand);
    PQclear (self.supply);
    PQclear (self.commitments);
    PQclear (self.offered);
    if (rc != ST_OK)
        match_plan_clear (plan);
    return rc;
}

void
match_plan_clear (match_plan_t *plan)
{
    free (plan->demand);
    free (plan->pairs);
    memset (plan, 0, sizeof *plan);
}
