/*  mcf_mem.c — the solver library's allocator  */
#include "mcf_mem.h"

#include <stdio.h>
#include <stdlib.h>

void *
mcf_alloc (size_t count, size_t size)
{
    void *block = calloc (count ? count : 1, size);
    if (!block) {
        fprintf (stderr, "mcf: out of memory (%zu x %zu bytes)\n", count, size);
        abort ();
    }
    return block;
}

void *
mcf_realloc (void *block, size_t count, size_t size)
{
    void *grown = realloc (block, (count ? count : 1) * size);
    if (!grown) {
        fprintf (stderr, "mcf: out of memory (%zu x %zu bytes)\n", count, size);
        abort ();
    }
    return grown;
}
