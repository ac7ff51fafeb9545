/* hello.c — the smallest embedder: shows an installed libstackheap can be
 * found, compiled against and run, through pkg-config and find_package. */
#include <inttypes.h>
#include <stdio.h>

#include <stackheap.h>

int main(void) {
    sh_machine *m;
    if (sh_open(&m, NULL) != SH_OK) {
        fputs("hello: sh_open failed\n", stderr);
        return 1;
    }
    uint64_t a, b;
    if (sh_alloc(m, 24, 0, &a) != SH_OK || sh_alloc(m, 100, 0, &b) != SH_OK) {
        fprintf(stderr, "hello: sh_alloc failed: %s\n", sh_errmsg(m));
        sh_close(m);
        return 1;
    }
    /* Two live blocks must not overlap: the least an allocator promises. */
    if (!(a + 24 <= b || b + 100 <= a)) {
        fprintf(stderr, "hello: blocks overlap: 0x%" PRIx64 " and 0x%" PRIx64 "\n", a, b);
        sh_close(m);
        return 1;
    }
    if (sh_free(m, a) != SH_OK || sh_free(m, b) != SH_OK) {
        fprintf(stderr, "hello: sh_free failed: %s\n", sh_errmsg(m));
        sh_close(m);
        return 1;
    }
    sh_close(m);
    printf("hello from libstackheap %s: alloc 24 -> 0x%" PRIx64 "\n", sh_version(), a);
    return 0;
}
