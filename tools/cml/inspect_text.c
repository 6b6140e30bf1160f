/* Renders the `cml inspect` document (see inspect.h) as text. */
#include <string.h>

#include "inspect.h"

static const char *str(const cJSON *o, const char *key) {
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return s ? s : "";
}

static double num(const cJSON *o, const char *key) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(n) ? n->valuedouble : 0;
}

static const cJSON *get(const cJSON *o, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static void print_dims(FILE *f, const cJSON *shape) {
    const cJSON *d;
    int i = 0;
    fputc('[', f);
    cJSON_ArrayForEach(d, shape) fprintf(f, i++ ? ", %.0f" : "%.0f", d->valuedouble);
    fputc(']', f);
}

static void print_io(FILE *f, const char *title, const cJSON *arr) {
    fprintf(f, "    %s (%d):\n", title, cJSON_GetArraySize(arr));
    const cJSON *io;
    cJSON_ArrayForEach(io, arr) {
        const char *name = str(io, "name");
        fprintf(f, "      %.0f%s%s%s: ", num(io, "index"), *name ? " '" : "", name, *name ? "'" : "");
        const cJSON *shape = get(io, "shape");
        if (!shape) { /* a non-tensor plan value */
            fprintf(f, "%s\n", str(io, "kind"));
            continue;
        }
        if (get(io, "shape_text")) { /* a flexible input: what it accepts, and its default */
            fprintf(f, "%s %s (default ", str(io, "dtype"), str(io, "shape_text"));
            print_dims(f, get(io, "default_shape"));
            fprintf(f, ")\n");
            continue;
        }
        fprintf(f, "%s ", str(io, "dtype"));
        print_dims(f, shape);
        fprintf(f, "%s%s\n", cJSON_IsTrue(get(io, "dynamic")) ? " (dynamic; upper bounds)" : "",
                strcmp(str(io, "kind"), "scalar") == 0 ? " (scalar)" : "");
    }
}

static void print_methods(FILE *f, const cJSON *methods) {
    fprintf(f, "methods (%d):\n", cJSON_GetArraySize(methods));
    const cJSON *m;
    cJSON_ArrayForEach(m, methods) {
        fprintf(f, "  %s\n", str(m, "name"));
        if (get(m, "load_error"))
            fprintf(f, "    does not load: %s\n", str(m, "load_error"));
        if (get(m, "inputs")) print_io(f, "inputs", get(m, "inputs"));
        if (get(m, "outputs")) print_io(f, "outputs", get(m, "outputs"));
        const cJSON *dl = get(m, "delegates_loaded"), *d;
        cJSON_ArrayForEach(d, dl) {
            if (cJSON_IsString(d)) fprintf(f, "    delegate: %s\n", d->valuestring);
        }
    }
}

static void print_bytes(FILE *f, const cJSON *o) {
    if (get(o, "value")) fprintf(f, "%s", str(o, "value"));
    else fprintf(f, "<%.0f bytes: %s>", num(o, "size"), str(o, "hex"));
}

/* Compile specs: those the backend reads in words ("settings"), the rest
 * as stored. */
static void print_specs(FILE *f, const cJSON *d) {
    const cJSON *settings = get(d, "settings"), *s, *t;
    cJSON_ArrayForEach(s, settings) fprintf(f, "       %s: %s\n", str(s, "key"), str(s, "text"));
    cJSON_ArrayForEach(s, get(d, "compile_specs")) {
        bool shown = false;
        cJSON_ArrayForEach(t, settings) shown |= strcmp(str(t, "key"), str(s, "key")) == 0;
        if (shown) continue;
        fprintf(f, "       %s = ", str(s, "key"));
        print_bytes(f, s);
        fputc('\n', f);
    }
}

static void print_delegates(FILE *f, const cJSON *dels) {
    fprintf(f, "  delegates (%d):\n", cJSON_GetArraySize(dels));
    const cJSON *d;
    cJSON_ArrayForEach(d, dels) {
        const cJSON *pl = get(d, "payload");
        fprintf(f, "    %.0f: %s, %.0f call%s, payload %.0f bytes (%s %.0f)\n", num(d, "index"),
                str(d, "id"), num(d, "calls"), num(d, "calls") == 1 ? "" : "s", num(pl, "size"),
                str(pl, "location"), num(pl, "index"));
        if (get(pl, "named_data_reference")) {
            fprintf(f, "       references named data: ");
            print_bytes(f, get(pl, "named_data_reference"));
            fputc('\n', f);
        }
        print_specs(f, d);
        if (get(d, "coreml")) cli_inspect_print_coreml(f, get(d, "coreml"), "       ");
    }
}

static void print_plan(FILE *f, const cJSON *p) {
    fprintf(f, "plan '%s': %.0f values, %.0f inputs, %.0f outputs, %.0f chain%s\n", str(p, "name"),
            num(p, "values"), num(p, "inputs"), num(p, "outputs"), num(p, "chains"),
            num(p, "chains") == 1 ? "" : "s");
    const cJSON *in = get(p, "instructions");
    fprintf(f, "  instructions: %.0f kernel calls, %.0f delegate calls, %.0f moves, %.0f jumps, "
               "%.0f frees\n",
            num(in, "kernel_calls"), num(in, "delegate_calls"), num(in, "moves"), num(in, "jumps"),
            num(in, "frees"));
    const cJSON *pm = get(p, "planned_memory"), *a;
    fprintf(f, "  planned memory: %d arena%s, %.0f bytes\n", cJSON_GetArraySize(get(pm, "arenas")),
            cJSON_GetArraySize(get(pm, "arenas")) == 1 ? "" : "s", num(pm, "total"));
    cJSON_ArrayForEach(a, get(pm, "arenas"))
        fprintf(f, "    arena %.0f: %.0f bytes\n", num(a, "id"), num(a, "size"));
    const cJSON *ops = get(p, "operators"), *op;
    fprintf(f, "  operators (%d):\n", cJSON_GetArraySize(ops));
    cJSON_ArrayForEach(op, ops) fprintf(f, "    %6.0f  %s\n", num(op, "calls"), str(op, "name"));
    print_delegates(f, get(p, "delegates"));
}

static void print_pte(FILE *f, const cJSON *pte) {
    const cJSON *h = get(pte, "header"), *s;
    if (cJSON_IsTrue(get(h, "extended_header")))
        fprintf(f, "header: extended header %.0f bytes, program size %.0f, segment base %.0f, "
                   "segment data %.0f, version %.0f\n",
                num(h, "header_length"), num(h, "program_size"), num(h, "segment_base_offset"),
                num(h, "segment_data_size"), num(h, "version"));
    else
        fprintf(f, "header: none (bare flatbuffer, %.0f bytes), version %.0f\n",
                num(h, "program_size"), num(h, "version"));
    fprintf(f, "segments (%d):\n", cJSON_GetArraySize(get(pte, "segments")));
    cJSON_ArrayForEach(s, get(pte, "segments"))
        if (num(s, "size") == 0) fprintf(f, "  %.0f: empty\n", num(s, "index"));
        else fprintf(f, "  %.0f: offset %.0f, size %.0f\n", num(s, "index"), num(s, "offset"),
                     num(s, "size"));
    fprintf(f, "named data (%d):\n", cJSON_GetArraySize(get(pte, "named_data")));
    cJSON_ArrayForEach(s, get(pte, "named_data"))
        fprintf(f, "  %s: segment %.0f, %.0f bytes\n", str(s, "key"), num(s, "segment"), num(s, "size"));
    const cJSON *c = get(pte, "constants");
    fprintf(f, "constants: %s, %.0f slots; mutable data offsets: %.0f\n", str(c, "storage"),
            num(c, "slots"), num(pte, "mutable_data_offsets"));
    cJSON_ArrayForEach(s, get(pte, "plans")) print_plan(f, s);
}

void cli_inspect_print_text(FILE *f, const cJSON *doc) {
    fprintf(f, "model: %s (%s)\n", str(doc, "model"), str(doc, "format"));
    print_methods(f, get(doc, "methods"));
    if (get(doc, "coreml")) cli_inspect_print_coreml(f, get(doc, "coreml"), "");
    const cJSON *pte = get(doc, "pte");
    if (pte) {
        fprintf(f, "file size: %.0f bytes\n", num(pte, "file_size"));
        print_pte(f, pte);
    }
}
