/* `cml bench`: load time, latency distribution and peak memory of a method. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "progress.h"

static const char bench_help[] =
    "usage: cml bench MODEL [options]\n"
    "\n"
    "Measures load time (program open + method create), then runs the method on\n"
    "seeded random inputs at each input's default shape (or the given --input\n"
    "files): warmup runs first, then\n"
    "timed runs. Reports median, p90 and min latency in ms, and peak RSS in MB\n"
    "(getrusage ru_maxrss and VmHWM from /proc/self/status). On a terminal, stderr\n"
    "shows the progress (nothing when stderr is redirected).\n"
    "\n"
    "options:\n"
    "  --method NAME          method to run (default: forward, or the only one)\n"
    "  --threads N            worker threads (default 0: one per online CPU)\n"
    "  --compute-units U      all | cpu_only | cpu_and_gpu | cpu_and_ne\n"
    "  --warmup N             untimed runs first (default 3)\n"
    "  --iterations N         timed runs (default 20)\n"
    "  -i, --input [NAME=]FILE\n"
    "                         use this input instead of random values (repeat per\n"
    "                         input; .npy, .npz or raw, as for `cml run`)\n"
    "  --seed N               seed for the random inputs (default 0)\n"
    CLI_INPUT_OPTIONS_HELP
    "  --json                 print the results as one JSON object\n"
    "  -h, --help             show this help\n"
    CLI_INPUT_FILES_HELP;

typedef struct bench_opts {
    const char *model, *method;
    cml_method_params params;
    cli_input_opts in;
    int64_t warmup, iterations;
    uint64_t seed;
    bool json;
    const char **inputs;
    size_t ninputs;
} bench_opts;

static int parse(int argc, char **argv, bench_opts *o) {
    o->params = (cml_method_params){sizeof o->params, 0, CML_COMPUTE_DEFAULT, 0};
    o->warmup = 3;
    o->iterations = 20;
    for (int i = 1; i < argc;) {
        const char *a = argv[i], *v = NULL;
        int64_t n;
        int r;
        if (a[0] != '-' || a[1] == '\0') {
            if (o->model) return cli_usage_error("bench", "unexpected argument '%s'", a);
            o->model = a;
            i++;
        } else if (cli_is_help(a)) {
            fputs(bench_help, stdout);
            return -1;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
            i++;
        } else if ((r = cli_input_option("bench", argc, argv, &i, &o->in)) != 0) {
            if (r < 0) return CLI_ERR_USAGE;
        } else if ((r = cli_opt_value("bench", argc, argv, &i, "--method", NULL, &v)) != 0) {
            if (r < 0) return CLI_ERR_USAGE;
            o->method = v;
        } else if ((r = cli_opt_value("bench", argc, argv, &i, "--input", "-i", &v)) != 0) {
            if (r < 0) return CLI_ERR_USAGE;
            o->inputs[o->ninputs++] = v;
        } else if ((r = cli_opt_value("bench", argc, argv, &i, "--threads", NULL, &v)) != 0) {
            if (r < 0 || cli_parse_i64("bench", "--threads", v, 0, 4096, &n) != 0) return CLI_ERR_USAGE;
            o->params.num_threads = (int32_t)n;
        } else if ((r = cli_opt_value("bench", argc, argv, &i, "--compute-units", NULL, &v)) != 0) {
            if (r < 0 || cli_parse_compute_units("bench", v, &o->params.compute_units) != 0)
                return CLI_ERR_USAGE;
        } else if ((r = cli_opt_value("bench", argc, argv, &i, "--warmup", NULL, &v)) != 0) {
            if (r < 0 || cli_parse_i64("bench", "--warmup", v, 0, 1000000, &o->warmup) != 0)
                return CLI_ERR_USAGE;
        } else if ((r = cli_opt_value("bench", argc, argv, &i, "--iterations", NULL, &v)) != 0) {
            if (r < 0 || cli_parse_i64("bench", "--iterations", v, 1, 10000000, &o->iterations) != 0)
                return CLI_ERR_USAGE;
        } else if ((r = cli_opt_value("bench", argc, argv, &i, "--seed", NULL, &v)) != 0) {
            if (r < 0 || cli_parse_i64("bench", "--seed", v, 0, INT64_MAX, &n) != 0) return CLI_ERR_USAGE;
            o->seed = (uint64_t)n;
        } else {
            return cli_usage_error("bench", "unknown option '%s'", a);
        }
    }
    if (!o->model) return cli_usage_error("bench", "missing MODEL");
    return CLI_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* VmHWM (peak resident set) in kB from /proc/self/status, or -1. */
static long vm_hwm_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

typedef struct bench_result {
    double open_ms, create_ms, median, p90, min, mean;
    double rss_mb, hwm_mb; /* hwm_mb < 0 when /proc is unavailable */
} bench_result;

static void stats(double *t, size_t n, bench_result *r) {
    qsort(t, n, sizeof *t, cmp_double);
    r->min = t[0];
    r->median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    /* Nearest-rank percentile: the smallest sample >= 90% of the samples. */
    size_t k = (n * 9 + 9) / 10;
    r->p90 = t[k ? k - 1 : 0];
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += t[i];
    r->mean = sum / (double)n;
}

static void report_text(const bench_opts *o, const bench_result *r) {
    printf("model:      %s\n", o->model);
    printf("method:     %s\n", o->method ? o->method : "(default)");
    printf("threads:    %d%s\n", (int)o->params.num_threads,
           o->params.num_threads ? "" : " (one per online CPU)");
    printf("load:       %.4g ms (open %.4g ms, method create %.4g ms)\n", r->open_ms + r->create_ms,
           r->open_ms, r->create_ms);
    printf("runs:       %lld warmup, %lld timed\n", (long long)o->warmup, (long long)o->iterations);
    printf("latency:    median %.4g ms, p90 %.4g ms, min %.4g ms (mean %.4g ms)\n", r->median,
           r->p90, r->min, r->mean);
    if (r->hwm_mb >= 0)
        printf("peak RSS:   %.1f MB (ru_maxrss), %.1f MB (VmHWM)\n", r->rss_mb, r->hwm_mb);
    else
        printf("peak RSS:   %.1f MB (ru_maxrss)\n", r->rss_mb);
}

static int report_json(const bench_opts *o, const bench_result *r) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", o->model);
    if (o->method) cJSON_AddStringToObject(j, "method", o->method);
    cJSON_AddNumberToObject(j, "threads", o->params.num_threads);
    cJSON_AddNumberToObject(j, "load_ms", r->open_ms + r->create_ms);
    cJSON_AddNumberToObject(j, "open_ms", r->open_ms);
    cJSON_AddNumberToObject(j, "method_create_ms", r->create_ms);
    cJSON_AddNumberToObject(j, "warmup", (double)o->warmup);
    cJSON_AddNumberToObject(j, "iterations", (double)o->iterations);
    cJSON_AddNumberToObject(j, "median_ms", r->median);
    cJSON_AddNumberToObject(j, "p90_ms", r->p90);
    cJSON_AddNumberToObject(j, "min_ms", r->min);
    cJSON_AddNumberToObject(j, "mean_ms", r->mean);
    cJSON_AddNumberToObject(j, "peak_rss_mb", r->rss_mb);
    if (r->hwm_mb >= 0) cJSON_AddNumberToObject(j, "vm_hwm_mb", r->hwm_mb);
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    if (!s) return cli_error("bench", "out of memory");
    puts(s);
    cJSON_free(s);
    return CLI_OK;
}

static int measure(const bench_opts *o, cli_model *m, bench_result *r) {
    uint64_t rng = o->seed;
    int rc = cli_set_inputs("bench", m->method, o->inputs, o->ninputs, &o->in, &rng);
    if (rc != CLI_OK) return rc;
    double *t = malloc((size_t)o->iterations * sizeof *t);
    if (!t) return cli_error("bench", "out of memory");
    cli_progress pr;
    cli_progress_start(&pr);
    for (int64_t i = 0; i < o->warmup + o->iterations; i++) {
        if (i < o->warmup) cli_progress_update(&pr, "warmup", i + 1, o->warmup);
        else cli_progress_update(&pr, "run", i - o->warmup + 1, o->iterations);
        double t0 = cli_now_ms();
        cml_status st = cml_method_execute(m->method);
        double t1 = cli_now_ms();
        if (st != CML_OK) {
            free(t);
            cli_progress_end(&pr);
            return cli_error("bench", "execute failed: %s: %s", cml_status_name(st),
                             cml_method_errmsg(m->method));
        }
        if (i >= o->warmup) t[i - o->warmup] = t1 - t0;
    }
    cli_progress_end(&pr);
    stats(t, (size_t)o->iterations, r);
    free(t);
    return CLI_OK;
}

int cli_bench(int argc, char **argv) {
    bench_opts o = {0};
    o.inputs = calloc((size_t)argc + 1, sizeof *o.inputs);
    if (!o.inputs || cli_input_opts_init(&o.in, argc) != 0) {
        free(o.inputs);
        cli_input_opts_free(&o.in);
        return cli_error("bench", "out of memory");
    }
    int rc = parse(argc, argv, &o);
    if (rc == CLI_OK) {
        cli_model m;
        rc = cli_model_open("bench", o.model, o.method, &o.params, &m);
        bench_result r = {0};
        if (rc == CLI_OK) {
            r.open_ms = m.open_ms;
            r.create_ms = m.create_ms;
            rc = measure(&o, &m, &r);
        }
        if (rc == CLI_OK) {
            struct rusage ru;
            getrusage(RUSAGE_SELF, &ru);
            r.rss_mb = (double)ru.ru_maxrss / 1024.0; /* Linux reports kB */
            long hwm = vm_hwm_kb();
            r.hwm_mb = hwm >= 0 ? (double)hwm / 1024.0 : -1;
            if (o.json) rc = report_json(&o, &r);
            else report_text(&o, &r);
        }
        if (m.program) cli_model_close(&m);
    } else if (rc < 0) {
        rc = CLI_OK;
    }
    free(o.inputs);
    cli_input_opts_free(&o.in);
    return rc;
}
