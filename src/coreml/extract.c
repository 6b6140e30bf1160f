/* `cml extract` and inmemoryfs unflattening; see extract.h. */
#ifndef _GNU_SOURCE
#define _XOPEN_SOURCE 700 /* nftw */
#endif
#include "coreml/extract.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "coreml/metadata.h"
#include "coreml/payload.h"

#define EXTRACT_MAX_PATH 4096

static cml_status mkdir_one(const char *path, cml_error *err) {
    if (mkdir(path, 0777) == 0) return CML_OK;
    int e = errno;
    struct stat st;
    if (e == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return CML_OK;
    return cml_fail(err, CML_ERR_IO, "%s: cannot create directory: %s", path,
                    e == EEXIST ? "exists and is not a directory" : strerror(e));
}

cml_status cml_mkdir_p(const char *path, cml_error *err) {
    char buf[EXTRACT_MAX_PATH];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf)
        return cml_fail(err, CML_ERR_INVALID_ARG, "invalid directory path '%.200s'", path);
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i < len; i++) {
        if (buf[i] != '/' || buf[i - 1] == '/') continue;
        buf[i] = '\0';
        CML_TRY(mkdir_one(buf, err));
        buf[i] = '/';
    }
    return mkdir_one(buf, err);
}

static cml_status write_file(const char *path, const uint8_t *data, uint64_t size,
                             cml_error *err) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) return cml_fail(err, CML_ERR_IO, "%s: %s", path, strerror(errno));
    uint64_t done = 0;
    while (done < size) {
        size_t chunk = size - done > (1u << 30) ? (1u << 30) : (size_t)(size - done);
        ssize_t w = write(fd, data + done, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return cml_fail(err, CML_ERR_IO, "%s: write failed: %s", path,
                            w < 0 ? strerror(e) : "no progress");
        }
        done += (uint64_t)w;
    }
    if (close(fd) != 0) return cml_fail(err, CML_ERR_IO, "%s: %s", path, strerror(errno));
    return CML_OK;
}

typedef struct unflatten_ctx {
    const char *dir;
} unflatten_ctx;

static cml_status unflatten_visit(void *vctx, const cml_imfs *fs, const cml_imfs_node *node,
                                  const char *path, cml_error *err) {
    (void)fs;
    const unflatten_ctx *ctx = vctx;
    char full[EXTRACT_MAX_PATH];
    int n = snprintf(full, sizeof full, "%s/%s", ctx->dir, path);
    if (n < 0 || (size_t)n >= sizeof full)
        return cml_fail(err, CML_ERR_IO, "path too long: %.200s/%.200s", ctx->dir, path);
    if (node->kind == CML_IMFS_DIR) return mkdir_one(full, err);
    return write_file(full, node->data, node->size, err);
}

cml_status cml_imfs_unflatten(const cml_imfs *fs, const char *dir, cml_error *err) {
    unflatten_ctx ctx = {dir};
    return cml_imfs_walk(fs, NULL, unflatten_visit, &ctx, err);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

/* rm -rf path (symlinks are removed, not followed); absent is fine. */
static cml_status remove_tree(const char *path, cml_error *err) {
    struct stat st;
    if (lstat(path, &st) != 0) return CML_OK;
    if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return cml_fail(err, CML_ERR_IO, "%s: cannot remove the previous extraction: %s", path,
                        strerror(errno));
    return CML_OK;
}

typedef struct key_set {
    const char **keys;
    size_t n, cap;
} key_set;

static bool key_seen(const key_set *s, const char *key) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->keys[i], key) == 0) return true;
    return false;
}

/* Writes one payload image to out_dir/name. */
static cml_status extract_one(const uint8_t *image, size_t size, const char *out_dir,
                              const char *name, FILE *log, cml_error *err) {
    char path[EXTRACT_MAX_PATH];
    int n = snprintf(path, sizeof path, "%s/%s", out_dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return cml_fail(err, CML_ERR_IO, "path too long: %.200s/%.200s", out_dir, name);
    cml_imfs fs;
    CML_TRY(cml_imfs_parse(image, size, NULL, &fs, err));
    cml_status st = remove_tree(path, err);
    if (st == CML_OK) st = mkdir_one(path, err);
    if (st == CML_OK) st = cml_imfs_unflatten(&fs, path, err);
    cml_imfs_free(&fs);
    if (st == CML_OK && log) fprintf(log, "Core ML models are extracted and saved to path = %s\n",
                                     path);
    return st;
}

static cml_status extract_delegate(const cml_pte_program *prog, const cml_pte_delegate *d,
                                   const char *out_dir, FILE *log, key_set *seen,
                                   unsigned *index, cml_error *err) {
    const uint8_t *image;
    size_t size;
    cml_cmjr_ref ref;
    CML_TRY(cml_coreml_payload_resolve(prog, d->data, d->size, NULL, &image, &size, &ref, err));
    char name[64];
    const char *dir_name = name;
    cml_status st = CML_OK;
    if (ref.key) {
        if (key_seen(seen, ref.key)) {
            cml_cmjr_free(&ref);
            return CML_OK;
        }
        if (!cml_imfs_name_ok(ref.key, strlen(ref.key))) {
            st = cml_fail(err, CML_ERR_CORRUPT, "CMJR reference: key '%.200s' is not a safe "
                          "directory name", ref.key);
            cml_cmjr_free(&ref);
            return st;
        }
        if (seen->n == seen->cap) {
            size_t cap = seen->cap ? seen->cap * 2 : 8;
            const char **keys = cml_calloc(NULL, cap, sizeof *keys);
            if (!keys) {
                cml_cmjr_free(&ref);
                return cml_fail(err, CML_ERR_NOMEM, "extract: out of memory");
            }
            if (seen->n) memcpy(keys, seen->keys, seen->n * sizeof *keys);
            cml_free(NULL, seen->keys);
            seen->keys = keys;
            seen->cap = cap;
        }
        seen->keys[seen->n++] = ref.key; /* owned by the set from here */
        dir_name = ref.key;
        ref.key = NULL;
    } else {
        snprintf(name, sizeof name, "model_%u", *index);
    }
    cml_cmjr_free(&ref);
    st = extract_one(image, size, out_dir, dir_name, log, err);
    if (st == CML_OK) (*index)++;
    return st;
}

cml_status cml_coreml_extract(const cml_pte_program *prog, const char *out_dir, FILE *log,
                              cml_error *err) {
    size_t ncoreml = 0;
    for (uint32_t p = 0; p < prog->nplans; p++)
        for (uint32_t i = 0; i < prog->plans[p].ndelegates; i++) {
            const cml_pte_delegate *d = &prog->plans[p].delegates[i];
            if (d->id.len == strlen(CML_COREML_BACKEND_ID) &&
                memcmp(d->id.ptr, CML_COREML_BACKEND_ID, d->id.len) == 0)
                ncoreml++;
        }
    if (ncoreml == 0) {
        if (log) fprintf(log, "The model isn't delegated to Core ML.\n");
        return CML_OK;
    }
    char dir[EXTRACT_MAX_PATH];
    size_t len = strlen(out_dir);
    while (len > 1 && out_dir[len - 1] == '/') len--;
    if (len == 0 || len >= sizeof dir)
        return cml_fail(err, CML_ERR_INVALID_ARG, "invalid output directory '%.200s'", out_dir);
    memcpy(dir, out_dir, len);
    dir[len] = '\0';
    CML_TRY(cml_mkdir_p(dir, err));
    key_set seen = {0};
    unsigned index = 1;
    cml_status st = CML_OK;
    for (uint32_t p = 0; p < prog->nplans && st == CML_OK; p++)
        for (uint32_t i = 0; i < prog->plans[p].ndelegates && st == CML_OK; i++) {
            const cml_pte_delegate *d = &prog->plans[p].delegates[i];
            if (d->id.len != strlen(CML_COREML_BACKEND_ID) ||
                memcmp(d->id.ptr, CML_COREML_BACKEND_ID, d->id.len) != 0)
                continue;
            st = extract_delegate(prog, d, dir, log, &seen, &index, err);
            if (st != CML_OK)
                cml_error_prefix(err, "plan '%.100s' delegate %u: ", prog->plans[p].name.ptr, i);
        }
    for (size_t k = 0; k < seen.n; k++) cml_free(NULL, (void *)seen.keys[k]);
    cml_free(NULL, seen.keys);
    return st;
}
