/*
 * Seed helper for `make fuzz`: writes the raw processed bytes of every
 * CoreMLBackend delegate of a .pte (the inmemoryfs image, or a CMJR
 * reference) and every named-data blob, as OUTDIR/<stem>_d<plan>_<n>.bin and
 * OUTDIR/<stem>_n<n>.bin. usage: dump_payloads MODEL.pte OUTDIR STEM
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pte/pte.h"

static int write_file(const char *dir, const char *stem, const char *tag, const uint8_t *data,
                      size_t size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s_%s.bin", dir, stem, tag);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size)) {
        fprintf(stderr, "dump_payloads: cannot write %s\n", path);
        if (f) fclose(f);
        return 1;
    }
    return fclose(f) != 0;
}

static uint8_t *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = n >= 0 ? aligned_alloc(16, ((size_t)n + 16) & ~(size_t)15) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: dump_payloads MODEL.pte OUTDIR STEM\n");
        return 2;
    }
    size_t size;
    uint8_t *data = read_all(argv[1], &size);
    cml_pte_program p;
    cml_error err = {0};
    if (!data || cml_pte_parse(data, size, NULL, &p, &err) != CML_OK) {
        fprintf(stderr, "dump_payloads: %s: %s\n", argv[1], data ? err.msg : "unreadable");
        free(data);
        return 1;
    }
    int rc = 0;
    char tag[64];
    for (uint32_t i = 0; i < p.nplans; i++)
        for (uint32_t k = 0; k < p.plans[i].ndelegates; k++) {
            const cml_pte_delegate *d = &p.plans[i].delegates[k];
            if (strcmp(d->id.ptr, "CoreMLBackend") != 0) continue;
            snprintf(tag, sizeof tag, "d%u_%u", i, k);
            rc |= write_file(argv[2], argv[3], tag, d->data, d->size);
        }
    for (uint32_t i = 0; i < p.nnamed_data; i++) {
        snprintf(tag, sizeof tag, "n%u", i);
        rc |= write_file(argv[2], argv[3], tag, p.named_data[i].data, p.named_data[i].size);
    }
    cml_pte_free(&p);
    free(data);
    return rc;
}
