/*  fuzz_main.c — a driver for libFuzzer targets where libFuzzer is not available (gcc, ctest):
    runs every file of a corpus, then deterministic pseudo-random mutations of them

        fuzz_decode_replay CORPUS [MUTATIONS [SEED]]

    CORPUS is a directory (every regular file in it, in name order) or one file, to replay a
    crash. MUTATIONS defaults to 100000, SEED to 1: the same arguments run the same inputs, so a
    failure is reproducible from its iteration number. Mutations are stacked one to eight deep
    on a corpus entry or on an earlier mutant: bit flips, byte inserts and deletes, msgpack
    length and count fields bumped, truncation, repeated and spliced chunks. Every input is
    handed to the target in a buffer of exactly its size, so ASan and Valgrind see over-reads.
*/
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define S_MAX_INPUT  (4u << 20) //  larger corpus files are refused
#define S_MAX_MUTANT (1u << 20) //  mutants do not grow past this
#define S_RING       64         //  earlier mutants kept to mutate further

typedef struct {
    uint8_t *data;
    size_t size;
} s_input_t;

static uint64_t s_state;

//  splitmix64: small, fast, and the same on every platform
static uint64_t
s_random (void)
{
    uint64_t z = (s_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t
s_below (size_t n)
{
    return n ? (size_t) (s_random () % n) : 0;
}

static int
s_read_file (const char *path, s_input_t *input)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return -1;
    input->data = malloc (S_MAX_INPUT + 1);
    input->size = fread (input->data, 1, S_MAX_INPUT + 1, file);
    fclose (file);
    if (input->size > S_MAX_INPUT) {
        fprintf (stderr, "fuzz_main: %s is larger than %u bytes\n", path, S_MAX_INPUT);
        free (input->data);
        return -1;
    }
    return 0;
}

static int
s_compare_names (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

//  Loads CORPUS (a directory or one file) into a malloc'd array; returns its length or -1
static long
s_load_corpus (const char *path, s_input_t **inputs)
{
    struct stat st;
    if (stat (path, &st)) {
        fprintf (stderr, "fuzz_main: could not read %s: %s\n", path, strerror (errno));
        return -1;
    }
    if (S_ISREG (st.st_mode)) {
        *inputs = malloc (sizeof **inputs);
        return s_read_file (path, *inputs) ? -1 : 1;
    }
    DIR *dir = opendir (path);
    if (!dir) {
        fprintf (stderr, "fuzz_main: could not open %s: %s\n", path, strerror (errno));
        return -1;
    }
    char **names = NULL;
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (entry->d_name[0] == '.')
            continue;
        names = realloc (names, (count + 1) * sizeof *names);
        size_t size = strlen (path) + strlen (entry->d_name) + 2;
        names[count] = malloc (size);
        snprintf (names[count], size, "%s/%s", path, entry->d_name);
        count++;
    }
    closedir (dir);
    qsort (names, count, sizeof *names, s_compare_names);
    *inputs = malloc ((count ? count : 1) * sizeof **inputs);
    long loaded = 0;
    for (size_t i = 0; i < count; i++) {
        if (stat (names[i], &st) == 0 && S_ISREG (st.st_mode)) {
            if (s_read_file (names[i], &(*inputs)[loaded]))
                return -1;
            loaded++;
        }
        free (names[i]);
    }
    free (names);
    return loaded;
}

//  Runs one input from a buffer of exactly its size
static void
s_run (const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc (size ? size : 1);
    memcpy (copy, data, size);
    LLVMFuzzerTestOneInput (size ? copy : NULL, size);
    free (copy);
}

//  Adds `delta` to the big-endian number of `width` bytes at p
static void
s_bump (uint8_t *p, int width, int64_t delta)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v = (v << 8) | p[i];
    v += (uint64_t) delta;
    for (int i = width - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t) v;
}

//  Changes the length or count of a msgpack header found from a random position: by one
//  either way, to zero, to the largest value of its width, or by a random amount
static void
s_mutate_length (uint8_t *buf, size_t size)
{
    size_t start = s_below (size);
    for (size_t k = 0; k < size; k++) {
        size_t at = (start + k) % size;
        uint8_t b = buf[at];
        int width = 0;
        if (b >= 0x80 && b <= 0xbf) {
            //  fixmap, fixarray, fixstr: the low bits are the count
            uint8_t mask = b >= 0xa0 ? 0x1f : 0x0f;
            uint8_t low = b & mask;
            switch (s_below (4)) {
            case 0:
                low++;
                break;
            case 1:
                low--;
                break;
            case 2:
                low = 0;
                break;
            default:
                low = mask;
                break;
            }
            buf[at] = (uint8_t) ((b & (uint8_t) ~mask) | (low & mask));
            return;
        }
        if (b == 0xc4 || b == 0xc7 || b == 0xd9)
            width = 1;
        else if (b == 0xc5 || b == 0xc8 || b == 0xda || b == 0xdc || b == 0xde)
            width = 2;
        else if (b == 0xc6 || b == 0xc9 || b == 0xdb || b == 0xdd || b == 0xdf)
            width = 4;
        if (width && at + 1 + (size_t) width <= size) {
            uint8_t *p = buf + at + 1;
            switch (s_below (5)) {
            case 0:
                s_bump (p, width, 1);
                break;
            case 1:
                s_bump (p, width, -1);
                break;
            case 2:
                memset (p, 0, (size_t) width);
                break;
            case 3:
                memset (p, 0xff, (size_t) width);
                break;
            default:
                s_bump (p, width, (int64_t) s_below (512) - 256);
                break;
            }
            return;
        }
    }
}

//  Applies one mutation in place; buf has room for S_MAX_MUTANT bytes
static void
s_mutate (uint8_t *buf, size_t *size, const s_input_t *corpus, long corpus_count)
{
    static const uint8_t interesting[] = {0x00, 0x01, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x9f, 0xa0,
                                          0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xca, 0xcb, 0xcf,
                                          0xd3, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};
    size_t n = *size;
    switch (s_below (9)) {
    case 0: //  flip a bit
        if (n)
            buf[s_below (n)] ^= (uint8_t) (1u << s_below (8));
        break;
    case 1: //  set a byte to a msgpack tag or a boundary value
        if (n)
            buf[s_below (n)] = interesting[s_below (sizeof interesting)];
        break;
    case 2: { //  insert one to four bytes
        size_t count = 1 + s_below (4), at = s_below (n + 1);
        if (n + count > S_MAX_MUTANT)
            break;
        memmove (buf + at + count, buf + at, n - at);
        for (size_t i = 0; i < count; i++)
            buf[at + i] =
                s_below (2) ? (uint8_t) s_random () : interesting[s_below (sizeof interesting)];
        *size = n + count;
        break;
    }
    case 3: { //  delete one to eight bytes
        if (!n)
            break;
        size_t at = s_below (n), count = 1 + s_below (8);
        if (count > n - at)
            count = n - at;
        memmove (buf + at, buf + at + count, n - at - count);
        *size = n - count;
        break;
    }
    case 4:
    case 5: //  bump a length or count field (twice as likely: it is what decoders must doubt)
        if (n)
            s_mutate_length (buf, n);
        break;
    case 6: //  truncate
        *size = s_below (n + 1);
        break;
    case 7: { //  repeat a chunk: duplicate keys, deeper nesting, longer lists
        if (!n)
            break;
        size_t from = s_below (n), count = 1 + s_below (n - from);
        size_t at = s_below (n + 1);
        if (n + count > S_MAX_MUTANT)
            break;
        uint8_t *chunk = malloc (count);
        memcpy (chunk, buf + from, count);
        memmove (buf + at + count, buf + at, n - at);
        memcpy (buf + at, chunk, count);
        free (chunk);
        *size = n + count;
        break;
    }
    default: { //  splice: our head, another corpus entry's tail
        const s_input_t *other = &corpus[s_below ((size_t) corpus_count)];
        size_t head = s_below (n + 1), from = s_below (other->size + 1);
        size_t tail = other->size - from;
        if (head + tail > S_MAX_MUTANT)
            break;
        memcpy (buf + head, other->data + from, tail);
        *size = head + tail;
        break;
    }
    }
}

int
main (int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf (stderr, "usage: %s CORPUS [MUTATIONS [SEED]]\n", argv[0]);
        return 2;
    }
    unsigned long long mutations = argc > 2 ? strtoull (argv[2], NULL, 10) : 100000;
    s_state = argc > 3 ? strtoull (argv[3], NULL, 10) : 1;

    s_input_t *corpus;
    long corpus_count = s_load_corpus (argv[1], &corpus);
    if (corpus_count < 0)
        return 2;
    if (corpus_count == 0) {
        //  An empty corpus would make this a test that cannot fail
        fprintf (stderr, "fuzz_main: %s holds no files\n", argv[1]);
        return 2;
    }
    struct timespec started, ended;
    clock_gettime (CLOCK_MONOTONIC, &started);
    for (long i = 0; i < corpus_count; i++)
        s_run (corpus[i].data, corpus[i].size);

    s_input_t ring[S_RING] = {{0}};
    uint8_t *buf = malloc (S_MAX_MUTANT);
    unsigned long long bytes = 0;
    for (unsigned long long iteration = 0; iteration < mutations; iteration++) {
        //  Half from the corpus, half from earlier mutants, so mutations can walk further
        const s_input_t *base = &corpus[s_below ((size_t) corpus_count)];
        if (s_below (2)) {
            const s_input_t *earlier = &ring[s_below (S_RING)];
            if (earlier->data)
                base = earlier;
        }
        size_t size = base->size < S_MAX_MUTANT ? base->size : S_MAX_MUTANT;
        memcpy (buf, base->data, size);
        size_t depth = 1 + s_below (8);
        for (size_t i = 0; i < depth; i++)
            s_mutate (buf, &size, corpus, corpus_count);
        s_run (buf, size);
        bytes += size;

        s_input_t *slot = &ring[iteration % S_RING];
        free (slot->data);
        slot->data = malloc (size ? size : 1);
        memcpy (slot->data, buf, size);
        slot->size = size;
    }
    clock_gettime (CLOCK_MONOTONIC, &ended);
    double seconds =
        (double) (ended.tv_sec - started.tv_sec) + (double) (ended.tv_nsec - started.tv_nsec) / 1e9;
    printf ("fuzz_main: %ld corpus files and %llu mutations (%llu bytes) in %.2f s, "
            "%.0f inputs/s, no failure\n",
            corpus_count, mutations, bytes, seconds,
            seconds > 0 ? (double) ((unsigned long long) corpus_count + mutations) / seconds : 0.0);

    for (size_t i = 0; i < S_RING; i++)
        free (ring[i].data);
    free (buf);
    for (long i = 0; i < corpus_count; i++)
        free (corpus[i].data);
    free (corpus);
    return 0;
}
