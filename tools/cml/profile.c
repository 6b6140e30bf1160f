/* `cml run --profile / --trace`: event collection, the per-op table and the
 * Chrome trace (profile.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "profile.h"

int cli_profile_option(const char *cmd, int argc, char **argv, int *i, cli_profile *p) {
    const char *v = NULL;
    int r;
    if (strcmp(argv[*i], "--profile") == 0) {
        p->table = true;
        (*i)++;
        return 1;
    }
    if ((r = cli_opt_value(cmd, argc, argv, i, "--trace", NULL, &v)) != 0) {
        if (r > 0) p->trace_path = v;
        return r;
    }
    if ((r = cli_opt_value(cmd, argc, argv, i, "--etdump", NULL, &v)) != 0) {
        if (r > 0) p->etdump_path = v;
        return r;
    }
    return 0;
}

bool cli_profile_wanted(const cli_profile *p) {
    return p->table || p->trace_path || p->etdump_path;
}

int cli_profile_begin(const char *cmd, cli_profile *p, cml_method *method) {
    if (!cli_profile_wanted(p)) return CLI_OK;
    cml_status st = cml_method_profile_enable(method, 0);
    if (st != CML_OK)
        return cli_error(cmd, "cannot enable profiling: %s: %s", cml_status_name(st),
                         cml_method_errmsg(method));
    return CLI_OK;
}

int cli_profile_collect(const char *cmd, cli_profile *p, const cml_method *method) {
    if (!cli_profile_wanted(p)) return CLI_OK;
    const cml_profile_event *ev = NULL;
    uint64_t dropped = 0;
    size_t n = cml_method_profile_events(method, &ev, &dropped);
    if (p->nruns == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 4;
        cli_prof_run *runs = realloc(p->runs, cap * sizeof *runs);
        if (!runs) return cli_error(cmd, "out of memory");
        p->runs = runs;
        p->cap = cap;
    }
    cli_prof_run *r = &p->runs[p->nruns];
    r->events = malloc((n ? n : 1) * sizeof *r->events);
    if (!r->events) return cli_error(cmd, "out of memory");
    if (n) memcpy(r->events, ev, n * sizeof *ev);
    r->n = n;
    r->dropped = dropped;
    p->nruns++;
    return CLI_OK;
}

void cli_profile_free(cli_profile *p) {
    for (size_t k = 0; k < p->nruns; k++) free(p->runs[k].events);
    free(p->runs);
    p->runs = NULL;
    p->nruns = p->cap = 0;
}

int cli_profile_finish(const char *cmd, const cli_profile *p) {
    if (p->table) cli_profile_print(stdout, p);
    if (p->trace_path) {
        int rc = cli_profile_write_trace(cmd, p, p->trace_path);
        if (rc != CLI_OK) return rc;
    }
    if (p->etdump_path) return cli_profile_write_etdump(cmd, p, p->etdump_path);
    return CLI_OK;
}

/* ------------------------------------------------------------- table */

/* One table row: every event with the same kind, name, output and (for
 * delegates and their ops) delegate index, over all runs. */
typedef struct prof_row {
    cml_profile_kind kind;
    const char *name, *output;
    int32_t delegate;
    uint64_t count, total_ns;
} prof_row;

static const char *kind_label(cml_profile_kind k) {
    switch (k) {
    case CML_PROFILE_INSTRUCTION: return "instr";
    case CML_PROFILE_DELEGATE: return "delegate";
    case CML_PROFILE_MIL_OP: return "mil op";
    case CML_PROFILE_EXECUTE: return "execute";
    }
    return "?";
}

static bool same_row(const prof_row *r, const cml_profile_event *e) {
    int32_t delegate = e->kind == CML_PROFILE_INSTRUCTION ? -1 : e->delegate;
    const char *out = e->output ? e->output : "";
    return r->kind == e->kind && r->delegate == delegate && strcmp(r->name, e->name) == 0 &&
           strcmp(r->output, out) == 0;
}

static int cmp_rows(const void *a, const void *b) {
    const prof_row *x = a, *y = b;
    if (x->total_ns != y->total_ns) return x->total_ns < y->total_ns ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* Aggregates every event except EXECUTE into rows (*nrows); NULL when out
 * of memory. Linear search per event: tables have hundreds of rows. */
static prof_row *aggregate(const cli_profile *p, size_t *nrows) {
    size_t total = 0, n = 0;
    for (size_t k = 0; k < p->nruns; k++) total += p->runs[k].n;
    prof_row *rows = malloc((total ? total : 1) * sizeof *rows);
    if (!rows) return NULL;
    for (size_t k = 0; k < p->nruns; k++)
        for (size_t i = 0; i < p->runs[k].n; i++) {
            const cml_profile_event *e = &p->runs[k].events[i];
            if (e->kind == CML_PROFILE_EXECUTE) continue;
            size_t r = 0;
            while (r < n && !same_row(&rows[r], e)) r++;
            if (r == n) {
                rows[n++] = (prof_row){e->kind, e->name, e->output ? e->output : "",
                                       e->kind == CML_PROFILE_INSTRUCTION ? -1 : e->delegate, 0, 0};
            }
            rows[r].count++;
            rows[r].total_ns += e->end_ns - e->start_ns;
        }
    qsort(rows, n, sizeof *rows, cmp_rows);
    *nrows = n;
    return rows;
}

typedef struct prof_totals {
    uint64_t execute, top, delegate, mil, dropped;
} prof_totals;

static prof_totals totals_of(const cli_profile *p) {
    prof_totals t = {0};
    for (size_t k = 0; k < p->nruns; k++) {
        t.dropped += p->runs[k].dropped;
        for (size_t i = 0; i < p->runs[k].n; i++) {
            const cml_profile_event *e = &p->runs[k].events[i];
            uint64_t d = e->end_ns - e->start_ns;
            if (e->kind == CML_PROFILE_EXECUTE) t.execute += d;
            if (e->depth == 0) t.top += d;
            if (e->kind == CML_PROFILE_DELEGATE) t.delegate += d;
            if (e->kind == CML_PROFILE_MIL_OP && e->depth == 1) t.mil += d;
        }
    }
    return t;
}

static double pct(uint64_t part, uint64_t whole) {
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void print_row(FILE *f, const prof_row *r, uint64_t execute) {
    char where[32] = "";
    if (r->delegate >= 0) snprintf(where, sizeof where, " [delegate %d]", r->delegate);
    fprintf(f, "  %-8s %7llu %11.3f %11.3f %6.1f%%  %s%s%s%s\n", kind_label(r->kind),
            (unsigned long long)r->count, (double)r->total_ns / 1e6,
            (double)r->total_ns / 1e3 / (double)r->count, pct(r->total_ns, execute), r->name,
            r->output[0] ? " " : "", r->output, where);
}

void cli_profile_print(FILE *f, const cli_profile *p) {
    size_t n = 0;
    prof_row *rows = aggregate(p, &n);
    if (!rows) {
        fprintf(f, "profile: out of memory\n");
        return;
    }
    prof_totals t = totals_of(p);
    fprintf(f, "profile: %zu execute%s, %.3f ms in execute (share = of that time)\n", p->nruns,
            p->nruns == 1 ? "" : "s", (double)t.execute / 1e6);
    fprintf(f, "  %-8s %7s %11s %11s %7s  %s\n", "kind", "count", "total ms", "mean us",
            "share", "name [output] [delegate]");
    for (size_t r = 0; r < n; r++) print_row(f, &rows[r], t.execute);
    fprintf(f, "  total: instructions and delegate calls %.3f ms (%.1f%% of execute); "
            "delegate calls %.3f ms, their ops %.3f ms (%.1f%% of the calls)\n",
            (double)t.top / 1e6, pct(t.top, t.execute), (double)t.delegate / 1e6,
            (double)t.mil / 1e6, pct(t.mil, t.delegate));
    if (t.dropped)
        fprintf(f, "  %llu events did not fit the event storage and are missing\n",
                (unsigned long long)t.dropped);
    free(rows);
}

/* ------------------------------------------------------------- trace */

/* A JSON string literal (names come from the model file). */
static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') fprintf(f, "\\%c", *c);
        else if (*c < 0x20) fprintf(f, "\\u%04x", *c);
        else fputc(*c, f);
    }
    fputc('"', f);
}

static uint64_t first_start(const cli_profile *p) {
    uint64_t t0 = UINT64_MAX;
    for (size_t k = 0; k < p->nruns; k++)
        for (size_t i = 0; i < p->runs[k].n; i++)
            if (p->runs[k].events[i].start_ns < t0) t0 = p->runs[k].events[i].start_ns;
    return t0 == UINT64_MAX ? 0 : t0;
}

static void trace_event(FILE *f, const cml_profile_event *e, size_t run, uint64_t t0, bool first) {
    fprintf(f, "%s\n{\"name\":", first ? "" : ",");
    if (e->kind == CML_PROFILE_MIL_OP && e->output && e->output[0]) {
        /* "linear aten_linear_default": type and output, as in the table */
        size_t len = strlen(e->name) + strlen(e->output) + 2;
        char *both = malloc(len);
        if (both) snprintf(both, len, "%s %s", e->name, e->output);
        json_str(f, both ? both : e->name);
        free(both);
    } else {
        json_str(f, e->name);
    }
    fprintf(f, ",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":1,\"tid\":1,"
            "\"args\":{\"run\":%zu,\"chain\":%d,\"instruction\":%d,\"delegate\":%d,\"depth\":%d",
            kind_label(e->kind), (double)(e->start_ns - t0) / 1e3,
            (double)(e->end_ns - e->start_ns) / 1e3, run, e->chain, e->instruction, e->delegate,
            e->depth);
    if (e->kind == CML_PROFILE_MIL_OP) {
        fprintf(f, ",\"type\":");
        json_str(f, e->name);
        fprintf(f, ",\"output\":");
        json_str(f, e->output ? e->output : "");
        fprintf(f, ",\"debug_handle\":%lld", (long long)e->debug_handle);
    }
    fprintf(f, "}}");
}

int cli_profile_write_trace(const char *cmd, const cli_profile *p, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return cli_error(cmd, "%s: cannot create the trace file", path);
    uint64_t t0 = first_start(p);
    bool first = true;
    fprintf(f, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
    for (size_t k = 0; k < p->nruns; k++)
        for (size_t i = 0; i < p->runs[k].n; i++) {
            trace_event(f, &p->runs[k].events[i], k, t0, first);
            first = false;
        }
    fprintf(f, "\n]}\n");
    if (fclose(f) != 0) return cli_error(cmd, "%s: cannot write the trace file", path);
    return CLI_OK;
}
