/*  mcf_mem.h — the solver library's one allocator: out of memory aborts, it is not an error
    this code can recover from. Internal to st_mcf.  */
#ifndef MCF_MEM_H_INCLUDED
#define MCF_MEM_H_INCLUDED

#include <stddef.h>

//  Zeroed memory for `count` items of `size` bytes, or abort.
void *mcf_alloc (size_t count, size_t size);

//  Grows or shrinks a block to `count` items of `size` bytes, or abort.
void *mcf_realloc (void *block, size_t count, size_t size);

#endif
