/* inmemoryfs image reader (see inmemoryfs.h for the layout).
 *
 * Parse order: find the index span by scanning backwards (which reads the
 * reversed JSON forwards), copy it un-reversed, parse with core/json, then
 * build the node table in one allocation:
 *   [nodes: n x cml_imfs_node][children: total x u32][names]
 * Every rule is checked while filling the table, so lookups and walks need
 * no further checks. */
#include "coreml/inmemoryfs.h"

#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/checked.h"

#define IMFS_MAX_PATH 4096
/* Largest integer a double holds exactly (JSON numbers are held as double). */
#define IMFS_MAX_EXACT 9007199254740992.0

bool cml_imfs_name_ok(const char *name, size_t len) {
    if (len == 0) return false;
    if (memchr(name, '/', len) || memchr(name, '\0', len)) return false;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return false;
    return true;
}

static bool json_u64(const cml_json *item, uint64_t *out) {
    if (!cml_json_is(item, CML_JSON_NUMBER)) return false;
    double d = item->num;
    if (!(d >= 0.0 && d <= IMFS_MAX_EXACT)) return false; /* also rejects NaN */
    uint64_t v = (uint64_t)d;
    if ((double)v != d) return false;
    *out = v;
    return true;
}

/* Finds the reversed index: sets *start (first byte of the span in the blob)
 * and *end (one past its '{'). */
static cml_status find_index(const uint8_t *blob, size_t size, size_t *start, size_t *end,
                             cml_error *err) {
    size_t e = size;
    while (e > 0 && (blob[e - 1] == 0 || blob[e - 1] == ' ' || blob[e - 1] == '\n' ||
                     blob[e - 1] == '\r' || blob[e - 1] == '\t'))
        e--;
    if (e == 0)
        return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: missing (payload of %zu bytes "
                        "holds only NUL/whitespace)", size);
    if (blob[e - 1] != '{')
        return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: missing '{' (last non-NUL byte "
                        "at offset %zu is 0x%02x)", e - 1, blob[e - 1]);
    size_t depth = 0;
    bool in_str = false, esc = false;
    for (size_t i = e; i-- > 0;) {
        uint8_t c = blob[i];
        if (in_str) {
            if (esc) esc = false;
            else if (c == '\\') esc = true;
            else if (c == '"') in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{') {
            depth++;
        } else if (c == '}') {
            if (depth == 0) break; /* unbalanced: cannot happen before the first '{' */
            if (--depth == 0) {
                *start = i;
                *end = e;
                return CML_OK;
            }
        }
    }
    return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: unterminated (no '}' matches the "
                    "'{' at offset %zu)", e - 1);
}

/* Bottom-up merge sort of child indices by node name (n may be large and
 * adversarial, so no quadratic sort). */
static int name_cmp(const cml_imfs_node *nodes, uint32_t a, uint32_t b) {
    size_t la = nodes[a].name_len, lb = nodes[b].name_len;
    int c = memcmp(nodes[a].name, nodes[b].name, la < lb ? la : lb);
    if (c) return c;
    return la < lb ? -1 : la > lb;
}

static void sort_children(const cml_imfs_node *nodes, uint32_t *v, uint32_t *tmp, uint32_t n) {
    for (uint32_t w = 1; w < n; w = w > n / 2 ? n : w * 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * w) {
            uint32_t mid = lo + w < n ? lo + w : n;
            uint32_t hi = mid + w < n ? mid + w : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = name_cmp(nodes, v[j], v[i]) < 0 ? v[j++] : v[i++];
            while (i < mid) tmp[k++] = v[i++];
            while (j < hi) tmp[k++] = v[j++];
        }
        memcpy(v, tmp, (size_t)n * sizeof *v);
    }
}

typedef struct build {
    const cml_imfs *fs;
    const cml_json *nodes_json;
    uint32_t n;
    uint32_t *children;     /* pool */
    char *names;            /* pool */
    uint32_t *tmp;          /* sort scratch */
} build;

/* Pass 1: shapes and sizes. */
static cml_status measure(const cml_json *nodes, uint32_t n, size_t *nchildren, size_t *name_bytes,
                          uint32_t *max_children, cml_error *err) {
    size_t nc = 0, nb = 0;
    uint32_t maxc = 0;
    uint32_t i = 0;
    for (const cml_json *node = nodes->child; node; node = node->next, i++) {
        if (!cml_json_is(node, CML_JSON_OBJECT))
            return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: node %u is not an object", i);
        const cml_json *name = cml_json_get(node, "name");
        if (!cml_json_is(name, CML_JSON_STRING))
            return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: node %u has no string 'name'", i);
        const cml_json *ch = cml_json_get(node, "children");
        uint32_t c = 0;
        if (ch) {
            if (!cml_json_is(ch, CML_JSON_OBJECT))
                return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: node %u 'children' is "
                                "not an object", i);
            for (const cml_json *e = ch->child; e; e = e->next) {
                if (c >= n)
                    return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: node %u has more "
                                    "children than there are nodes", i);
                c++;
            }
        }
        nc += c;
        if (c > maxc) maxc = c;
        size_t len = strlen(name->str);
        if (!cml_add_size(nb, len + 1, &nb))
            return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: names too long");
    }
    (void)n;
    *nchildren = nc;
    *name_bytes = nb;
    *max_children = maxc;
    return CML_OK;
}

/* Pass 2: fill and verify node i. */
static cml_status fill_node(build *b, const cml_json *node, uint32_t i, size_t *child_pos,
                            size_t *name_pos, cml_error *err) {
    cml_imfs_node *nodes = b->fs->nodes;
    cml_imfs_node *nd = &nodes[i];
    const char *name = cml_json_get(node, "name")->str;
    size_t len = strlen(name);
    memcpy(b->names + *name_pos, name, len + 1);
    nd->name = b->names + *name_pos;
    nd->name_len = len;
    *name_pos += len + 1;
    nd->index = i;
    nd->parent = CML_IMFS_NO_PARENT;
    if (!cml_imfs_name_ok(name, len))
        return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: node %u has an unsafe name "
                        "'%.100s' (empty, '.', '..' or containing '/')", i, name);

    uint64_t kind;
    if (!json_u64(cml_json_get(node, "kind"), &kind) || kind > 1)
        return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: node %u '%.100s' has no valid "
                        "'kind' (0 file, 1 directory)", i, name);
    nd->kind = kind ? CML_IMFS_DIR : CML_IMFS_FILE;

    const cml_json *ch = cml_json_get(node, "children");
    if (nd->kind == CML_IMFS_FILE) {
        if (ch && ch->child)
            return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: node %u '%.100s' is a file "
                            "but has children", i, name);
        const cml_json *region = cml_json_get(node, "dataRegion");
        uint64_t off, size;
        if (!cml_json_is(region, CML_JSON_OBJECT) ||
            !json_u64(cml_json_get(region, "offset"), &off) ||
            !json_u64(cml_json_get(region, "size"), &size))
            return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: node %u '%.100s' has no "
                            "valid 'dataRegion' {offset, size}", i, name);
        if (!cml_range_ok(off, size, b->fs->data_size))
            return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: node %u '%.100s' region "
                            "[offset %llu, size %llu] lies outside the data part (%zu bytes)",
                            i, name, (unsigned long long)off, (unsigned long long)size,
                            b->fs->data_size);
        nd->offset = off;
        nd->size = size;
        nd->data = b->fs->blob + off;
        return CML_OK;
    }

    nd->children = b->children + *child_pos;
    uint32_t c = 0;
    for (const cml_json *e = ch ? ch->child : NULL; e; e = e->next, c++) {
        uint64_t idx;
        if (!json_u64(e, &idx))
            return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: node %u child '%.100s' has "
                            "no valid index", i, e->key);
        if (idx >= i)
            return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: node %u child '%.100s' "
                            "index %llu >= parent index %u", i, e->key,
                            (unsigned long long)idx, i);
        cml_imfs_node *child = &nodes[idx];
        if (strcmp(e->key, child->name) != 0)
            return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: node %u child key '%.100s' "
                            "refers to node %llu named '%.100s'", i, e->key,
                            (unsigned long long)idx, child->name);
        if (child->parent != CML_IMFS_NO_PARENT)
            return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: node %llu '%.100s' is "
                            "reachable twice (children of nodes %u and %u)",
                            (unsigned long long)idx, child->name, child->parent, i);
        child->parent = i;
        b->children[*child_pos + c] = (uint32_t)idx;
    }
    nd->nchildren = c;
    *child_pos += c;
    /* Duplicate keys in one object would be two distinct nodes with one name. */
    sort_children(nodes, b->children + (*child_pos - c), b->tmp, c);
    for (uint32_t k = 1; k < c; k++)
        if (name_cmp(nodes, nd->children[k - 1], nd->children[k]) == 0)
            return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: node %u has two children "
                            "named '%.100s'", i, nodes[nd->children[k]].name);
    return CML_OK;
}

static cml_status build_nodes(cml_imfs *fs, const cml_json *nodes_json, uint32_t n, cml_error *err) {
    size_t nchildren = 0, name_bytes = 0;
    uint32_t maxc = 0;
    CML_TRY(measure(nodes_json, n, &nchildren, &name_bytes, &maxc, err));
    size_t node_bytes, child_bytes, tmp_bytes, total;
    if (!cml_mul_size(n, sizeof(cml_imfs_node), &node_bytes) ||
        !cml_mul_size(nchildren, sizeof(uint32_t), &child_bytes) ||
        !cml_mul_size(maxc, sizeof(uint32_t), &tmp_bytes) ||
        !cml_add_size(node_bytes, child_bytes, &total) || !cml_add_size(total, tmp_bytes, &total) ||
        !cml_add_size(total, name_bytes, &total))
        return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: too large");
    uint8_t *mem = cml_calloc(fs->allocator, 1, total);
    if (!mem) return cml_fail(err, CML_ERR_NOMEM, "inmemoryfs: out of memory (%zu bytes)", total);
    fs->storage = mem;
    fs->nodes = (cml_imfs_node *)mem;
    fs->nnodes = n;
    build b = {fs, nodes_json, n, (uint32_t *)(mem + node_bytes),
               (char *)(mem + node_bytes + child_bytes + tmp_bytes),
               (uint32_t *)(mem + node_bytes + child_bytes)};
    size_t child_pos = 0, name_pos = 0;
    uint32_t i = 0;
    for (const cml_json *node = nodes_json->child; node; node = node->next, i++)
        CML_TRY(fill_node(&b, node, i, &child_pos, &name_pos, err));
    const cml_imfs_node *root = &fs->nodes[n - 1];
    if (root->kind != CML_IMFS_DIR)
        return cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: last node %u '%.100s' (the root) "
                        "is not a directory", n - 1, root->name);
    fs->root = root;
    return CML_OK;
}

cml_status cml_imfs_parse(const uint8_t *blob, size_t size, const cml_allocator *allocator,
                          cml_imfs *out, cml_error *err) {
    cml_imfs fs = {0};
    fs.blob = blob;
    fs.blob_size = size;
    fs.allocator = allocator;
    if (!blob && size) return cml_fail(err, CML_ERR_INVALID_ARG, "inmemoryfs: NULL payload");
    size_t start = 0, end = 0;
    CML_TRY(find_index(blob, size, &start, &end, err));
    fs.data_size = start;
    fs.index_size = end - start;

    char *text = cml_malloc(allocator, fs.index_size + 1);
    if (!text) return cml_fail(err, CML_ERR_NOMEM, "inmemoryfs: out of memory");
    for (size_t k = 0; k < fs.index_size; k++) text[k] = (char)blob[end - 1 - k];
    text[fs.index_size] = '\0';
    cml_json_doc doc;
    cml_status st = cml_json_parse(text, fs.index_size, allocator, "inmemoryfs index", &doc, err);
    if (st != CML_OK) goto done;
    const cml_json *nodes = cml_json_get(doc.root, "nodes");
    if (!cml_json_is(nodes, CML_JSON_ARRAY)) {
        st = cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: no 'nodes' array");
        goto done;
    }
    if (nodes->count == 0) {
        st = cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs index: 'nodes' is empty");
        goto done;
    }
    st = build_nodes(&fs, nodes, nodes->count, err);
done:
    cml_json_free(&doc);
    cml_free(allocator, text);
    if (st != CML_OK) {
        cml_imfs_free(&fs);
        return st;
    }
    *out = fs;
    return CML_OK;
}

void cml_imfs_free(cml_imfs *fs) {
    if (!fs) return;
    cml_free(fs->allocator, fs->storage);
    memset(fs, 0, sizeof *fs);
}

const cml_imfs_node *cml_imfs_child(const cml_imfs *fs, const cml_imfs_node *dir,
                                    const char *name, size_t len) {
    if (!fs || !dir || dir->kind != CML_IMFS_DIR) return NULL;
    uint32_t lo = 0, hi = dir->nchildren;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const cml_imfs_node *c = &fs->nodes[dir->children[mid]];
        int cmp = memcmp(c->name, name, c->name_len < len ? c->name_len : len);
        if (cmp == 0) cmp = c->name_len < len ? -1 : c->name_len > len;
        if (cmp == 0) return c;
        if (cmp < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const cml_imfs_node *cml_imfs_lookup(const cml_imfs *fs, const cml_imfs_node *dir,
                                     const char *path) {
    if (!fs || !fs->root || !path) return NULL;
    const cml_imfs_node *cur = dir ? dir : fs->root;
    const char *p = path;
    while (*p) {
        if (*p == '/') {
            p++;
            continue;
        }
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        cur = cml_imfs_child(fs, cur, p, len); /* NULL when cur is a file */
        if (!cur) return NULL;
        p += len;
    }
    return cur;
}

typedef struct walk_frame {
    uint32_t node;
    uint32_t next_child;
    size_t path_len;
} walk_frame;

cml_status cml_imfs_walk(const cml_imfs *fs, const cml_imfs_node *start, cml_imfs_visit_fn fn,
                         void *ctx, cml_error *err) {
    if (!fs || !fs->root) return cml_fail(err, CML_ERR_INVALID_ARG, "inmemoryfs: not parsed");
    if (!start) start = fs->root;
    char path[IMFS_MAX_PATH];
    /* Each level adds at least two path bytes, so the depth is bounded. */
    enum { MAX_DEPTH = IMFS_MAX_PATH / 2 + 1 };
    walk_frame *stack = cml_malloc(fs->allocator, MAX_DEPTH * sizeof *stack);
    if (!stack) return cml_fail(err, CML_ERR_NOMEM, "inmemoryfs walk: out of memory");
    cml_status st = CML_OK;
    size_t depth = 0;
    if (start->name_len >= sizeof path) {
        st = cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs: path too long");
        goto out;
    }
    memcpy(path, start->name, start->name_len + 1);
    st = fn(ctx, fs, start, path, err);
    if (st != CML_OK || start->kind != CML_IMFS_DIR) goto out;
    stack[depth++] = (walk_frame){start->index, 0, start->name_len};
    while (depth > 0) {
        walk_frame *top = &stack[depth - 1];
        const cml_imfs_node *dir = &fs->nodes[top->node];
        if (top->next_child == dir->nchildren) {
            depth--;
            continue;
        }
        const cml_imfs_node *c = &fs->nodes[dir->children[top->next_child++]];
        size_t len = top->path_len + 1 + c->name_len;
        if (len >= sizeof path || depth >= MAX_DEPTH) {
            st = cml_fail(err, CML_ERR_CORRUPT, "inmemoryfs: path below '%.200s' too long",
                          fs->nodes[top->node].name);
            goto out;
        }
        path[top->path_len] = '/';
        memcpy(path + top->path_len + 1, c->name, c->name_len + 1);
        st = fn(ctx, fs, c, path, err);
        if (st != CML_OK) goto out;
        if (c->kind == CML_IMFS_DIR) stack[depth++] = (walk_frame){c->index, 0, len};
    }
out:
    cml_free(fs->allocator, stack);
    return st;
}
