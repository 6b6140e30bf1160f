/*
 * The ExecuTorch Core ML "inmemoryfs" image: a directory tree flattened into
 * one byte blob (the CoreMLBackend delegate payload).
 *
 *   offset 0        file data (each file at the offset its node records;
 *                   gaps allowed)
 *   ...             optional zero padding
 *   ...             index JSON, bytes REVERSED (last non-NUL byte is '{')
 *   ...             optional trailing 0x00 bytes
 *
 * Index: {"nodes": [{"name", "kind" (0 file, 1 dir), "dataRegion":
 * {"offset", "size"}, "children": {name: index}}, ...]}, post-order: every
 * child index is smaller than its parent's and the last node is the root.
 * See shared/reference/coreml-delegate.md section 5.
 *
 * cml_imfs_parse verifies everything before returning: the index brace span,
 * JSON syntax, node fields, child < parent, child indices in range, no node
 * reachable twice, no duplicate names in a directory, names non-empty,
 * without '/', NUL, and not "." or "..", every file region inside the data
 * part (before the index). Afterwards every node's data/size is in bounds.
 *
 * File bytes point into the caller's blob (no copies): the blob must outlive
 * the cml_imfs. File data has no particular alignment.
 */
#ifndef CML_COREML_INMEMORYFS_H
#define CML_COREML_INMEMORYFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cml.h"
#include "core/status.h"

typedef enum cml_imfs_kind {
    CML_IMFS_FILE = 0,
    CML_IMFS_DIR = 1,
} cml_imfs_kind;

#define CML_IMFS_NO_PARENT UINT32_MAX

typedef struct cml_imfs_node {
    const char *name;        /* NUL-terminated basename (root: the tree's name) */
    size_t name_len;
    cml_imfs_kind kind;
    uint32_t index;          /* position in cml_imfs.nodes */
    uint32_t parent;         /* CML_IMFS_NO_PARENT for the root and for nodes
                                no directory reaches */
    /* Files: the bytes, in the blob; data is never NULL (size may be 0). */
    const uint8_t *data;
    uint64_t offset;
    uint64_t size;
    /* Directories: child node indices, sorted by name (bytewise). */
    const uint32_t *children;
    uint32_t nchildren;
} cml_imfs_node;

typedef struct cml_imfs {
    const uint8_t *blob;
    size_t blob_size;
    size_t data_size;        /* bytes before the reversed index JSON */
    size_t index_size;       /* length of the index JSON */
    cml_imfs_node *nodes;
    uint32_t nnodes;
    const cml_imfs_node *root; /* nodes[nnodes - 1], a directory */
    void *storage;
    const cml_allocator *allocator;
} cml_imfs;

/**
 * Parses and verifies an inmemoryfs image.
 * @param allocator NULL for the C heap (also used for the transient parse
 *        tree).
 * @return CML_OK; CML_ERR_CORRUPT with a message starting "inmemoryfs" that
 *         names the node and field; CML_ERR_NOMEM.
 */
cml_status cml_imfs_parse(const uint8_t *blob, size_t size, const cml_allocator *allocator,
                          cml_imfs *out, cml_error *err);

/** Frees what cml_imfs_parse allocated. Safe on a zeroed struct. */
void cml_imfs_free(cml_imfs *fs);

/** The child of directory dir named name[0, len), or NULL. */
const cml_imfs_node *cml_imfs_child(const cml_imfs *fs, const cml_imfs_node *dir,
                                    const char *name, size_t len);

/**
 * Looks up a '/'-separated path relative to dir (NULL = the root), e.g.
 * "model.mlpackage/Data/com.apple.CoreML/model.mlmodel". Empty components
 * (leading, trailing or doubled '/') are ignored; "" returns dir itself.
 * Returns NULL when not found or when a non-final component is a file.
 */
const cml_imfs_node *cml_imfs_lookup(const cml_imfs *fs, const cml_imfs_node *dir,
                                     const char *path);

/** Callback for cml_imfs_walk. path is the node's path relative to the
 *  walk's start, starting with the start node's own name ("lowered_module",
 *  "lowered_module/metadata.json", ...); it is only valid during the call.
 *  A status other than CML_OK stops the walk and is returned. */
typedef cml_status (*cml_imfs_visit_fn)(void *ctx, const cml_imfs *fs,
                                        const cml_imfs_node *node, const char *path,
                                        cml_error *err);

/**
 * Visits start (NULL = the root) and everything below it in pre-order,
 * directories before their contents, children in name order. Paths longer
 * than 4095 bytes fail with CML_ERR_CORRUPT.
 */
cml_status cml_imfs_walk(const cml_imfs *fs, const cml_imfs_node *start, cml_imfs_visit_fn fn,
                         void *ctx, cml_error *err);

/** True when name[0, len) is acceptable as a file or directory name: not
 *  empty, no '/', no NUL, not "." or "..". */
bool cml_imfs_name_ok(const char *name, size_t len);

#endif
