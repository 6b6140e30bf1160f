/* `cml run`: bind inputs, execute (once per --call group), print and save
 * outputs. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run_extra.h"
#include "profile.h"

static const char run_help[] =
    "usage: cml run MODEL [options]\n"
    "\n"
    "Runs a method of MODEL (.pte file or .mlpackage directory) and prints each\n"
    "output's dtype, shape and first 8 values.\n"
    "\n"
    "options:\n"
    "  --method NAME          method to run (default: forward, or the only one)\n"
    "  -i, --input [NAME=]FILE\n"
    "                         an input, by name (NAME=) or in positional order;\n"
    "                         repeat for each input. FILE is a .npy, an .npz or raw\n"
    "                         binary data (see \"input files\" below).\n"
    "                         Without any, every input gets seeded random values of\n"
    "                         its dtype and shape (floats in [-1, 1), integers in\n"
    "                         [0, 10), random bools; flexible inputs at their default\n"
    "                         shape, see `cml inspect`)\n"
    "  --call                 starts the next group of --input files: the method runs\n"
    "                         once per group, in order, in one process, so state\n"
    "                         carries over (an empty group gets random inputs)\n"
    "  -o, --output-dir DIR   write DIR/output_<i>.npy (created if needed); with more\n"
    "                         than one group, group k (from 1) writes\n"
    "                         DIR/call<k>/output_<i>.npy. Without it nothing is written\n"
    "  --threads N            worker threads (default 0: one per online CPU)\n"
    "  --compute-units U      all | cpu_only | cpu_and_gpu | cpu_and_ne; overrides\n"
    "                         the model's compile spec\n"
    "  --reset-state          zero the method's state (Core ML states, mutable\n"
    "                         buffers) once, before the first execution\n"
    "  --seed N               seed for the random inputs (default 0)\n"
    CLI_RUN_EXTRA_HELP
    CLI_PROFILE_OPTIONS_HELP
    CLI_INPUT_OPTIONS_HELP
    "  -h, --help             show this help\n"
    "\n"
    "exit status: 0 ok, 1 runtime error (including an unreadable input file), 2 usage\n"
    "error (including inputs that do not fit the method: count, names, dtype,\n"
    "shape, raw file size; the expected inputs are listed), 3 an output differs\n"
    "from its --compare file\n"
    CLI_INPUT_FILES_HELP;

typedef struct run_opts {
    const char *model, *method, *out_dir;
    cml_method_params params;
    cli_input_opts in;
    bool reset_state;
    uint64_t seed;
    const char **inputs;  /* all --input paths, in order */
    size_t ninputs;
    size_t *group_start;  /* group k owns inputs[group_start[k] .. group_start[k+1]) */
    size_t ngroups;
    cli_run_extra extra;  /* --compare, --output-names, --json */
    cli_profile prof;     /* --profile, --trace, --etdump */
} run_opts;

/* Returns CLI_OK, CLI_ERR_USAGE, or -1 after printing help (exit 0). */
static int parse(int argc, char **argv, run_opts *o) {
    o->params = (cml_method_params){sizeof o->params, 0, CML_COMPUTE_DEFAULT, 0};
    o->group_start[0] = 0;
    o->ngroups = 1;
    bool options_done = false;
    for (int i = 1; i < argc;) {
        const char *a = argv[i], *v = NULL;
        int r;
        if (options_done || a[0] != '-' || a[1] == '\0') {
            if (o->model) return cli_usage_error("run", "unexpected argument '%s'", a);
            o->model = a;
            i++;
            continue;
        }
        if (cli_is_help(a)) {
            fputs(run_help, stdout);
            return -1;
        }
        if (strcmp(a, "--") == 0) { options_done = true; i++; continue; }
        if (strcmp(a, "--call") == 0) {
            o->group_start[o->ngroups++] = o->ninputs;
            i++;
            continue;
        }
        if (strcmp(a, "--reset-state") == 0) { o->reset_state = true; i++; continue; }
        if ((r = cli_input_option("run", argc, argv, &i, &o->in)) != 0) {
            if (r < 0) return CLI_ERR_USAGE;
        } else if ((r = cli_run_extra_option(argc, argv, &i, &o->extra)) != 0) {
            if (r < 0) return CLI_ERR_USAGE;
        } else if ((r = cli_profile_option("run", argc, argv, &i, &o->prof)) != 0) {
            if (r < 0) return CLI_ERR_USAGE;
        } else if ((r = cli_opt_value("run", argc, argv, &i, "--input", "-i", &v)) != 0) {
            if (r < 0) return CLI_ERR_USAGE;
            o->inputs[o->ninputs++] = v;
        } else if ((r = cli_opt_value("run", argc, argv, &i, "--method", NULL, &v)) != 0) {
            if (r < 0) return CLI_ERR_USAGE;
            o->method = v;
        } else if ((r = cli_opt_value("run", argc, argv, &i, "--output-dir", "-o", &v)) != 0) {
            if (r < 0) return CLI_ERR_USAGE;
            o->out_dir = v;
        } else if ((r = cli_opt_value("run", argc, argv, &i, "--threads", NULL, &v)) != 0) {
            int64_t n;
            if (r < 0 || cli_parse_i64("run", "--threads", v, 0, 4096, &n) != 0) return CLI_ERR_USAGE;
            o->params.num_threads = (int32_t)n;
        } else if ((r = cli_opt_value("run", argc, argv, &i, "--compute-units", NULL, &v)) != 0) {
            if (r < 0 || cli_parse_compute_units("run", v, &o->params.compute_units) != 0)
                return CLI_ERR_USAGE;
        } else if ((r = cli_opt_value("run", argc, argv, &i, "--seed", NULL, &v)) != 0) {
            int64_t n;
            if (r < 0 || cli_parse_i64("run", "--seed", v, 0, INT64_MAX, &n) != 0) return CLI_ERR_USAGE;
            o->seed = (uint64_t)n;
        } else {
            return cli_usage_error("run", "unknown option '%s'", a);
        }
    }
    if (!o->model) return cli_usage_error("run", "missing MODEL");
    o->group_start[o->ngroups] = o->ninputs;
    return CLI_OK;
}

static int run_groups(run_opts *o, cml_method *method) {
    /* Check every group before the first execute, so a typo in the last
     * group does not surface after the earlier calls have run. */
    for (size_t k = 0; k < o->ngroups; k++) {
        int rc = cli_check_inputs("run", method, o->inputs + o->group_start[k],
                                  o->group_start[k + 1] - o->group_start[k], &o->in,
                                  o->ngroups > 1 ? k + 1 : 0);
        if (rc != CLI_OK) return rc;
    }
    uint64_t rng = o->seed;
    for (size_t k = 0; k < o->ngroups; k++) {
        size_t first = o->group_start[k], count = o->group_start[k + 1] - first;
        int rc = cli_set_inputs("run", method, o->inputs + first, count, &o->in, &rng);
        if (rc != CLI_OK) {
            if (o->ngroups > 1) fprintf(stderr, "(in call group %zu)\n", k + 1);
            return rc;
        }
        double t0 = cli_now_ms();
        cml_status st = cml_method_execute(method);
        double exec_ms = cli_now_ms() - t0;
        if (st != CML_OK) {
            if (o->ngroups > 1)
                return cli_error("run", "call %zu: execute failed: %s: %s", k + 1,
                                 cml_status_name(st), cml_method_errmsg(method));
            return cli_error("run", "execute failed: %s: %s", cml_status_name(st),
                             cml_method_errmsg(method));
        }
        rc = cli_profile_collect("run", &o->prof, method);
        if (rc != CLI_OK) return rc;
        char dir[4096];
        const char *out = o->out_dir;
        if (o->ngroups > 1) {
            if (!o->extra.json) printf("call %zu:\n", k + 1);
            if (out) {
                snprintf(dir, sizeof dir, "%s/call%zu", o->out_dir, k + 1);
                out = dir;
            }
        }
        rc = cli_run_extra_after_call(&o->extra, method, out, k, o->inputs + first, count, exec_ms);
        if (rc != CLI_OK) return rc;
    }
    return CLI_OK;
}

int cli_run(int argc, char **argv) {
    run_opts o = {0};
    cli_run_extra_init(&o.extra);
    /* Every argument is at most one input and one group boundary. */
    o.inputs = calloc((size_t)argc + 1, sizeof *o.inputs);
    o.group_start = calloc((size_t)argc + 2, sizeof *o.group_start);
    if (!o.inputs || !o.group_start || cli_input_opts_init(&o.in, argc) != 0) {
        free(o.inputs);
        free(o.group_start);
        cli_input_opts_free(&o.in);
        return cli_error("run", "out of memory");
    }
    int rc = parse(argc, argv, &o);
    if (rc == CLI_OK) {
        cli_model m;
        rc = cli_model_open("run", o.model, o.method, &o.params, &m);
        if (rc == CLI_OK && o.reset_state) {
            cml_status st = cml_method_reset_state(m.method);
            if (st != CML_OK)
                rc = cli_error("run", "reset state: %s: %s", cml_status_name(st),
                               cml_method_errmsg(m.method));
        }
        if (rc == CLI_OK) rc = cli_run_extra_prepare(&o.extra, o.model, o.method, &m, o.ngroups);
        if (rc == CLI_OK) rc = cli_profile_begin("run", &o.prof, m.method);
        if (rc == CLI_OK) rc = run_groups(&o, m.method);
        if (rc == CLI_OK) rc = cli_profile_finish("run", &o.prof);
        rc = cli_run_extra_finish(&o.extra, rc);
        if (m.program) cli_model_close(&m);
    } else if (rc < 0) {
        rc = CLI_OK; /* --help */
    }
    free(o.inputs);
    free(o.group_start);
    cli_input_opts_free(&o.in);
    cli_run_extra_free(&o.extra);
    cli_profile_free(&o.prof);
    return rc;
}
