/* Image ops: upsample_bilinear2d.vec_out and _upsample_bilinear2d_aa.out
 * (output size and scale factors, align_corners both ways, up and down,
 * NCHW and channels-last), grid_sampler_2d.out (every interpolation and
 * padding mode, align_corners both ways, out-of-range and NaN coordinates),
 * pixel_shuffle / pixel_unshuffle, over every dtype upstream accepts, and
 * rejection at prepare.
 *
 * The float references below were computed with PyTorch 2.13 eager
 * (torch.ops.aten.* on float32; the .venv-fixtures toolchain) and pasted here;
 * the other float dtypes are checked against them with their precision, the
 * integer dtypes against the float64 result of the same op on the same
 * integer values, truncated as a C++ cast does. */
#include "test_aten_num_util.h"

/* Input: sin(0.37 * arange(30)) * 3 as [1, 2, 3, 5]. */
static const double UB_SIZE_AC0[] = {0, 0.619912267, 1.35285151, 2.02286386, 2.49731541, 2.81590176, 2.98764253, 1.80239105, 1.85838342, 1.85488605, 1.74115682, 1.4591012, 1.09895456, 0.769188643, 1.20632529, 0.855745196, 0.394595772, -0.100939453, -0.586716354, -1.02718937, -1.35540581, -1.58950853, -2.05378962, -2.54125547, -2.88939285, -2.95819783, -2.85381532, -2.67794275, -2.00771904, -1.46945703, -0.755416274, 0.0204438046, 0.794327736, 1.50418115, 2.03791428, 0.932183206, 1.23878229, 1.56523514, 1.80649412, 1.87310982, 1.82953012, 1.73589551, 1.88070357, 1.74896407, 1.52047789, 1.19627404, 0.756419539, 0.282895118, -0.113882095, 0.521668434, -0.108972259, -0.874769092, -1.6068095, -2.18351245, -2.62017918, -2.89482594};
static const double UB_SCALE_AC0[] = {0.2324671, 1.68785763, 2.7085638, 1.50520396, 1.7759887, 1.58575928, 2.02101469, 1.1008786, -0.108160585, -1.00668836, -1.95208371, -2.39262056, -1.80587077, -0.367486238, 1.17059791, 0.476552129, 1.27519441, 1.74456084, 2.3466754, 2.22476411, 1.52401543, 0.69747752, -0.547678649, -1.65401661};
static const double AA_DOWN_AC0[] = {1.29260492, 1.79808223, 1.75344265, -0.209053591, -1.17973769, -1.78948486, 0.0556705259, 1.05922794, 1.73871863, 1.08861458, 0.0727833956, -0.9653157};
static const double AA_UP_AC0[] = {0, 0.361615509, 0.964307964, 1.50174308, 2.02286386, 2.39188194, 2.72049022, 2.88746047, 2.98764253, 1.15353036, 1.30461574, 1.55642462, 1.71157968, 1.84257138, 1.83501673, 1.79995739, 1.65487885, 1.56783187, 2.88382578, 2.71911597, 2.44459963, 2.02633452, 1.57213259, 0.999719024, 0.419158369, -0.193993285, -0.561883748, 0.199824542, -0.0285577569, -0.409195036, -0.760638535, -1.1047833, -1.3658576, -1.60325038, -1.74591863, -1.83151948, -1.58950853, -1.86033916, -2.31172371, -2.61861944, -2.88939285, -2.94290781, -2.95152211, -2.78053498, -2.67794275, -2.00771904, -1.69373286, -1.17042243, -0.583002925, 0.0204438046, 0.622353733, 1.20766258, 1.72657025, 2.03791428, -0.126181409, 0.101317219, 0.480481774, 0.826181948, 1.16351604, 1.41336346, 1.63895011, 1.76749527, 1.84462237, 2.69612455, 2.79389191, 2.95683765, 2.93995905, 2.87812424, 2.59987783, 2.28588128, 1.82888293, 1.5546844, 1.39145064, 1.20983315, 0.907137573, 0.553516209, 0.187163368, -0.193263471, -0.566206515, -0.909216821, -1.11502254, 0.521668434, 0.153794676, -0.459328234, -1.03744471, -1.6068095, -2.0553565, -2.46759725, -2.73461556, -2.89482617};
static const double UB_SIZE_AC1[] = {0, 0.723230958, 1.39751887, 2.02286386, 2.46568537, 2.78727841, 2.98764253, 1.92255056, 1.94401443, 1.87728965, 1.72237635, 1.41205275, 1.04502451, 0.621291578, 1.39271414, 0.992547214, 0.556628227, 0.0849572495, -0.394379318, -0.845110774, -1.26723683, -1.58950853, -2.13117003, -2.56446481, -2.88939285, -2.9536109, -2.88312721, -2.67794275, -2.00771904, -1.37974668, -0.703692377, 0.0204438046, 0.742735445, 1.41522563, 2.03791428, 1.12817681, 1.46785748, 1.73365319, 1.92556417, 1.94373095, 1.87379658, 1.71576107, 1.97130573, 1.85641301, 1.66035998, 1.38314605, 0.981130362, 0.543919623, 0.0715140551, 0.521668434, -0.214079037, -0.923571706, -1.6068095, -2.14506555, -2.57440448, -2.89482617};
static const double UB_SCALE_AC1[] = {0, 2.02286386, 2.98764253, 1.92255056, 1.72237635, 0.621291578, 1.39271414, 0.0849572495, -1.26723683, -1.58950853, -2.88939285, -2.67794275, -2.00771904, 0.0204438046, 2.03791428, 1.12817681, 1.92556417, 1.71576107, 1.97130573, 1.38314605, 0.0715140551, 0.521668434, -1.6068095, -2.89482617};
static const double AA_DOWN_AC1[] = {1.08462, 1.00733149, 0.732104838, -0.971395254, -1.87332082, -2.13765669, 0.620748699, 1.04333174, 1.13136435, 0.520421088, -0.822157502, -1.64091754};
static const double AA_UP_AC1[] = {0, 0.271211594, 0.813634753, 1.31935072, 1.78835952, 2.18892193, 2.52103806, 2.76223278, 2.91250587, 0.720956445, 0.893482089, 1.23853326, 1.53583944, 1.78540051, 1.97032809, 2.09062219, 2.13814211, 2.11288786, 2.16286945, 2.1380229, 2.08833027, 1.96881688, 1.7794826, 1.53314042, 1.22979057, 0.889961123, 0.513652265, 1.76549232, 1.62206209, 1.33520222, 1.00801706, 0.640506506, 0.257541299, -0.140878439, -0.527790904, -0.903195977, -0.471174955, -0.654400349, -1.02085102, -1.34656024, -1.63152766, -1.85646927, -2.02138472, -2.11511374, -2.13765669, -2.00771904, -1.77222943, -1.3012501, -0.794209361, -0.251107275, 0.291303128, 0.83302182, 1.33738947, 1.80440593, -0.831758142, -0.636809647, -0.246912301, 0.144743323, 0.538156986, 0.906705737, 1.25038934, 1.54595006, 1.79338777, 1.52016366, 1.6340301, 1.86176336, 2.02264857, 2.11668563, 2.13751078, 2.08512425, 1.96307123, 1.77135158, 2.1525104, 2.13852811, 2.11056399, 2.01165915, 1.84181356, 1.61252117, 1.32378185, 0.995135903, 0.626583159, 1.06528246, 0.876684844, 0.499489725, 0.1117751, -0.286459059, -0.668263257, -1.03363776, -1.35785592, -1.64091754};
static const double GS_GRID[] = {-1.20000005, -1, -0.5, 0.300000012, 0, 0, 0.769999981, -0.899999976, 1, 1, 1.29999995, 0.449999988, NAN, 0.200000003, -0.25, 1.60000002};
static const double GS_REF[3][3][2][16] = {
{
{
{0, 0.392781198, 1.57213259, 1.92731607, -0.669485688, 0, NAN, 0, 0, 1.46613455, 2.87812424, 1.27911019, -0.723706543, 0, NAN, 0},
{0, 0.952187479, 1.57213259, 2.55903268, -2.67794275, -0.605644286, NAN, -1.05827892, -1.20463121, 1.9180131, 2.87812424, 1.64074099, -2.89482617, -0.179038286, NAN, -0.437752545},
},
{
{0, 0.392781198, 1.57213259, 2.96510148, -2.67794275, -1.99022377, 1.54182529, -2.58477259, -2.00771904, 1.46613455, 2.87812424, 1.96786177, -2.89482617, -1.44873559, 2.04378748, -0.966274023},
{0, 0.952187479, 1.57213259, 2.55903268, -2.67794275, -1.51411045, 1.98915875, -2.64569664, -2.00771904, 1.9180131, 2.87812424, 1.64074099, -2.89482617, -0.447595537, 2.26123309, -1.09438109},
},
{
{1.29323766e-07, 0.392781198, 1.57213259, 2.96510172, -2.67794275, -1.95248806, 1.54182529, -0.717620373, -2.00771904, 1.46613455, 2.87812424, 1.96786201, -2.89482617, -1.30079341, 2.04378748, 0.599310458},
{0.433938652, 0.952187479, 1.57213259, 2.55903268, -2.67794275, -1.23299837, 1.98915875, 0.130269587, -1.63093555, 1.9180131, 2.87812424, 1.64074099, -2.89482617, -0.0463679768, 2.26123309, 1.32251251},
},
},
{
{
{0, 2.38969636, 1.57213259, 2.98764253, -2.67794275, 0, 0, 0, 0, 2.98942685, 2.87812424, 2.03791428, -2.89482617, 0, 0, 0},
{0, 2.38969636, 1.57213259, 2.98764253, -2.67794275, 0, 0, 0, -2.00771904, 2.98942685, 2.87812424, 2.03791428, -2.89482617, 0, 0, 0},
},
{
{0, 2.38969636, 1.57213259, 2.98764253, -2.67794275, -2.67794275, 2.88382578, -2.40200067, -2.00771904, 2.98942685, 2.87812424, 2.03791428, -2.89482617, -2.89482617, 2.69612455, -0.581952751},
{0, 2.38969636, 1.57213259, 2.98764253, -2.67794275, -0.561883748, 2.88382578, -2.88939285, -2.00771904, 2.98942685, 2.87812424, 2.03791428, -2.89482617, 1.5546844, 2.69612455, -1.6068095},
},
{
{0, 2.38969636, 1.57213259, 2.98764253, -2.67794275, -2.67794275, 2.88382578, -2.40200067, -2.00771904, 2.98942685, 2.87812424, 2.03791428, -2.89482617, -2.89482617, 2.69612455, -0.581952751},
{0, 2.38969636, 1.57213259, 2.98764253, -2.67794275, 0.541788697, 2.88382578, 1.57213259, -2.00771904, 2.98942685, 2.87812424, 2.03791428, -2.89482617, 2.37728095, 2.69612455, 2.87812424},
},
},
{
{
{-6.44585327e-08, 0.522759736, 1.57213259, 2.48247147, -0.741843581, 0.265575796, NAN, 0.287339121, -3.44477854e-07, 2.03540087, 2.87812424, 1.43523896, -0.951801479, 0.198437288, NAN, 0.110083126},
{-0.11716371, 1.08317876, 1.57213259, 3.14293838, -2.67794275, -0.852625728, NAN, -1.39415085, -1.33045506, 2.41259909, 2.87812424, 2.07192826, -2.89482617, -0.340051413, NAN, -0.732783139},
},
{
{-0.270358562, 0.666459978, 1.57213259, 3.3571372, -2.83506393, -2.22064328, NAN, -2.66054749, -2.44870353, 1.97482407, 2.87812424, 2.02839875, -3.35402179, -1.55998397, NAN, -1.0192883},
{-0.11716371, 1.19667339, 1.57213259, 2.6753118, -2.67794275, -1.90808511, NAN, -3.0544064, -2.1094501, 2.44009638, 2.87812424, 1.75179601, -2.89482617, -0.53061074, NAN, -1.41954052},
},
{
{-0.540718853, 0.666459978, 1.57213259, 3.56445265, -2.96737432, -2.19218516, NAN, -0.766119361, -2.8896904, 1.97482407, 2.87812424, 2.05130458, -3.80720592, -1.43418384, NAN, 0.809134662},
{0.236219496, 0.970265508, 1.57213259, 2.88722563, -2.67794275, -1.84545863, NAN, -0.103773586, -1.82217705, 2.27134848, 2.87812424, 1.83081937, -2.89482617, -0.486424118, NAN, 1.49101949},
},
},
};

/* _upsample_bilinear2d_aa(x, [2, 7], False, 0.6, 1.5): the given scales
 * set the sampling ratio (torch eager). */
static const double AA_SCALES[] = {1.23592532, 1.4399966, 1.67500532, 1.79875576, 1.79868591, 1.71746838, 1.51662731, -0.31141308, -0.672178745, -1.12989902, -1.51771712, -1.79626584, -1.99377608, -2.05743861, 0.00821382552, 0.340195298, 0.767674744, 1.14966619, 1.44739401, 1.67982256, 1.8006171, 1.14294159, 0.790691495, 0.311134428, -0.198093191, -0.685300469, -1.14159048, -1.52714825};

static double g_x[30];

static void init_x(void) {
    for (int i = 0; i < 30; i++) g_x[i] = (double)(sinf(0.37f * (float)i) * 3.0f);
}

/* Runs upsample (aa or not) on dtype dt; the out tensor is returned. */
static cml_evalue *run_ub(tenv *e, cml_dtype dt, bool aa, const double *xv, bool use_size,
                          int64_t oh, int64_t ow, bool ac, cml_status *st) {
    cml_evalue *x = tn_tensor(e, dt, 4, S(1, 2, 3, 5), xv);
    cml_evalue *o = tn_out(e, dt, 4, 2 * 10 * 10);
    if (aa) {
        *st = CALL(e, "aten::_upsample_bilinear2d_aa.out", x, IL(e, oh, ow), tv_bool(e, ac),
                   tv_null(e), tv_null(e), o, o);
    } else if (use_size) {
        *st = CALL(e, "aten::upsample_bilinear2d.vec_out", x, IL(e, oh, ow), tv_bool(e, ac),
                   tv_null(e), o, o);
    } else {
        *st = CALL(e, "aten::upsample_bilinear2d.vec_out", x, tv_null(e), tv_bool(e, ac),
                   tn_double_list(e, 2, (double[]){1.5, 0.7}), o, o);
    }
    return o;
}

typedef struct ub_case {
    bool aa, use_size;
    int64_t oh, ow;
    const double *ref[2]; /* align_corners false, true */
} ub_case;

static const ub_case UB_CASES[] = {
    {false, true, 4, 7, {UB_SIZE_AC0, UB_SIZE_AC1}},
    {false, false, 4, 3, {UB_SCALE_AC0, UB_SCALE_AC1}},
    {true, true, 2, 3, {AA_DOWN_AC0, AA_DOWN_AC1}},
    {true, true, 5, 9, {AA_UP_AC0, AA_UP_AC1}},
};

static void test_upsample_floats(void) {
    for (int c = 0; c < 4; c++)
        for (int ac = 0; ac < 2; ac++)
            for (int k = 0; k < TN_COUNT(TN_FLOATS); k++) {
                static tenv e;
                tv_init(&e);
                const ub_case *uc = &UB_CASES[c];
                cml_dtype dt = TN_FLOATS[k];
                cml_status st;
                cml_evalue *o = run_ub(&e, dt, uc->aa, g_x, uc->use_size, uc->oh, uc->ow, ac, &st);
                CHECK_MSG(st == CML_OK, "case %d: %s", c, e.err.msg);
                CHECK(tv_shape_is(T(o), 4, S(1, 2, uc->oh, uc->ow)));
                CHECK_MSG(tn_check("upsample", T(o), uc->ref[ac], 2 * uc->oh * uc->ow, tn_tol(dt)),
                          "case %d ac %d", c, ac);
                tv_free(&e);
            }
}

/* Integer dtypes: the float64 result of the same integer input, truncated. */
static void test_upsample_ints(void) {
    double xi[30];
    for (int i = 0; i < 30; i++) xi[i] = (double)((i * 7) % 11);
    for (int c = 0; c < 4; c++)
        for (int ac = 0; ac < 2; ac++) {
            static tenv e;
            tv_init(&e);
            const ub_case *uc = &UB_CASES[c];
            cml_status st;
            cml_evalue *r = run_ub(&e, CML_DTYPE_FLOAT64, uc->aa, xi, uc->use_size, uc->oh, uc->ow, ac, &st);
            CHECK(st == CML_OK);
            int64_t n = cml_tensor_numel(T(r));
            double ref[200];
            for (int64_t i = 0; i < n; i++) ref[i] = trunc(tn_get(T(r), i));
            for (int k = 0; k < TN_COUNT(TN_INTS); k++) {
                cml_evalue *o = run_ub(&e, TN_INTS[k], uc->aa, xi, uc->use_size, uc->oh, uc->ow, ac, &st);
                CHECK_MSG(st == CML_OK, "%s", e.err.msg);
                CHECK_MSG(tn_check("upsample int", T(o), ref, n, 0), "case %d ac %d", c, ac);
            }
            tv_free(&e);
        }
}

/* Channels-last in and out give the same values as NCHW. */
static void test_upsample_channels_last(void) {
    static tenv e;
    tv_init(&e);
    cml_evalue *x = tn_tensor(&e, CML_DTYPE_FLOAT32, 4, S(1, 2, 3, 5), NULL);
    cml_evalue *o = tv_tensor(&e, CML_DTYPE_FLOAT32, 4, S(1, 2, 4, 7));
    static const uint8_t nhwc[4] = {0, 2, 3, 1};
    memcpy(T(x)->dim_order, nhwc, 4);
    memcpy(T(o)->dim_order, nhwc, 4);
    for (int c = 0; c < 2; c++)
        for (int hw = 0; hw < 15; hw++) F(x)[hw * 2 + c] = (float)g_x[c * 15 + hw];
    CHECK(CALL(&e, "aten::upsample_bilinear2d.vec_out", x, IL(&e, 4, 7), tv_bool(&e, false),
               tv_null(&e), o, o) == CML_OK);
    bool ok = true;
    for (int c = 0; c < 2; c++)
        for (int hw = 0; hw < 28; hw++) ok = ok && fabs(F(o)[hw * 2 + c] - UB_SIZE_AC0[c * 28 + hw]) < 1e-5;
    CHECK(ok);
    /* mixed dim orders are rejected */
    cml_evalue *o2 = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 4, 7);
    CHECK(PREP(&e, "aten::upsample_bilinear2d.vec_out", x, IL(&e, 4, 7), tv_bool(&e, false),
               tv_null(&e), o2, o2) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

/* Identity size copies exactly; 1-pixel outputs with align_corners read the corner. */
static void test_upsample_edges(void) {
    static tenv e;
    tv_init(&e);
    cml_status st;
    cml_evalue *o = run_ub(&e, CML_DTYPE_FLOAT32, false, g_x, true, 3, 5, false, &st);
    CHECK(st == CML_OK && tn_check("identity", T(o), g_x, 30, 0));
    o = run_ub(&e, CML_DTYPE_FLOAT32, false, g_x, true, 1, 1, true, &st);
    CHECK(st == CML_OK && F(o)[0] == (float)g_x[0] && F(o)[1] == (float)g_x[15]);
    cml_evalue *x = tn_tensor(&e, CML_DTYPE_FLOAT32, 4, S(1, 2, 3, 5), g_x);
    o = tn_out(&e, CML_DTYPE_FLOAT32, 4, 28);
    CHECK(CALL(&e, "aten::_upsample_bilinear2d_aa.out", x, IL(&e, 2, 7), tv_bool(&e, false), tv_double(&e, 0.6),
               tv_double(&e, 1.5), o, o) == CML_OK);
    CHECK(tn_check("aa scales", T(o), AA_SCALES, 28, 2e-5));
    tv_free(&e);
}

static void test_upsample_reject(void) {
    static tenv e;
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 3, 5), *o = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 4, 7);
    const char *ub = "aten::upsample_bilinear2d.vec_out";
    /* both output_size and scale_factors, then neither */
    CHECK(PREP(&e, ub, x, IL(&e, 4, 7), tv_bool(&e, false), tn_double_list(&e, 2, (double[]){2, 2}), o, o) ==
          CML_ERR_INVALID_ARG);
    CHECK(tn_msg_names(&e, ub));
    CHECK(PREP(&e, ub, x, tv_null(&e), tv_bool(&e, false), tv_null(&e), o, o) == CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, ub, x, tv_null(&e), tv_bool(&e, false), tn_double_list(&e, 2, (double[]){-1, 2}), o, o) ==
          CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, ub, x, IL(&e, 4, 0), tv_bool(&e, false), tv_null(&e), o, o) == CML_ERR_INVALID_ARG);
    cml_evalue *ob = TS(&e, CML_DTYPE_BOOL, 1, 2, 4, 7), *xb = TS(&e, CML_DTYPE_BOOL, 1, 2, 3, 5);
    CHECK(PREP(&e, ub, xb, IL(&e, 4, 7), tv_bool(&e, false), tv_null(&e), ob, ob) == CML_ERR_UNSUPPORTED);
    CHECK(tn_msg_names(&e, ub));
    CHECK(PREP(&e, ub, x, IL(&e, 4, 7), tv_bool(&e, false), tv_null(&e), ob, ob) == CML_ERR_UNSUPPORTED);
    cml_evalue *x3 = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 5);
    CHECK(PREP(&e, ub, x3, IL(&e, 4, 7), tv_bool(&e, false), tv_null(&e), o, o) == CML_ERR_INVALID_ARG);
    const char *aa = "aten::_upsample_bilinear2d_aa.out";
    CHECK(PREP(&e, aa, x, IL(&e, 4), tv_bool(&e, false), tv_null(&e), tv_null(&e), o, o) == CML_ERR_INVALID_ARG);
    CHECK(tn_msg_names(&e, aa));
    /* an output too small for the requested size fails at run */
    cml_evalue *small = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 2, 2);
    CHECK(CALL(&e, ub, x, IL(&e, 4, 7), tv_bool(&e, false), tv_null(&e), small, small) == CML_ERR_SHAPE);
    tv_free(&e);
}

static void test_grid_sampler(void) {
    for (int mode = 0; mode < 3; mode++)
        for (int pad = 0; pad < 3; pad++)
            for (int ac = 0; ac < 2; ac++)
                for (int k = 0; k < TN_COUNT(TN_FLOATS); k++) {
                    static tenv e;
                    tv_init(&e);
                    cml_dtype dt = TN_FLOATS[k];
                    cml_evalue *x = tn_tensor(&e, dt, 4, S(1, 2, 3, 5), g_x);
                    cml_evalue *g = tn_tensor(&e, dt, 4, S(1, 2, 4, 2), GS_GRID);
                    cml_evalue *o = tn_out(&e, dt, 4, 64);
                    cml_status st = CALL(&e, "aten::grid_sampler_2d.out", x, g, tv_int(&e, mode),
                                         tv_int(&e, pad), tv_bool(&e, ac), o, o);
                    CHECK_MSG(st == CML_OK, "%s", e.err.msg);
                    CHECK(tv_shape_is(T(o), 4, S(1, 2, 2, 4)));
                    double tol = tn_tol(dt) * (dt == CML_DTYPE_FLOAT32 || dt == CML_DTYPE_FLOAT64 ? 1 : 3);
                    if (dt == CML_DTYPE_FLOAT64) tol = 2e-6; /* the reference is float32 */
                    CHECK_MSG(tn_check("grid_sampler", T(o), GS_REF[mode][pad][ac], 16, tol),
                              "mode %d pad %d ac %d", mode, pad, ac);
                    tv_free(&e);
                }
}

/* Integer dtypes: integer grid coordinates (-1, 0, 1 and outside). */
static void test_grid_sampler_ints(void) {
    double xi[30], gi[16] = {-1, -1, 0, 0, 1, 1, -1, 1, 2, 0, 0, -3, 1, 0, 0, 1};
    for (int i = 0; i < 30; i++) xi[i] = (double)((i * 7) % 11);
    for (int mode = 0; mode < 3; mode++)
        for (int pad = 0; pad < 3; pad++) {
            static tenv e;
            tv_init(&e);
            double ref[16];
            for (int k = -1; k < TN_COUNT(TN_INTS); k++) {
                cml_dtype dt = k < 0 ? CML_DTYPE_FLOAT64 : TN_INTS[k];
                if (dt == CML_DTYPE_UINT8) continue; /* negative coordinates */
                cml_evalue *x = tn_tensor(&e, dt, 4, S(1, 2, 3, 5), xi);
                cml_evalue *g = tn_tensor(&e, dt, 4, S(1, 2, 4, 2), gi);
                cml_evalue *o = tn_out(&e, dt, 4, 64);
                CHECK(CALL(&e, "aten::grid_sampler_2d.out", x, g, tv_int(&e, mode), tv_int(&e, pad),
                           tv_bool(&e, true), o, o) == CML_OK);
                if (k < 0) {
                    for (int i = 0; i < 16; i++) ref[i] = trunc(tn_get(T(o), i));
                } else {
                    CHECK_MSG(tn_check("grid int", T(o), ref, 16, 0), "mode %d pad %d", mode, pad);
                }
            }
            tv_free(&e);
        }
}

static void test_grid_sampler_reject(void) {
    static tenv e;
    tv_init(&e);
    const char *gs = "aten::grid_sampler_2d.out";
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 3, 5), *g = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 4, 2);
    cml_evalue *o = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 2, 4);
    CHECK(PREP(&e, gs, x, g, tv_int(&e, 3), tv_int(&e, 0), tv_bool(&e, false), o, o) == CML_ERR_INVALID_ARG);
    CHECK(tn_msg_names(&e, gs));
    CHECK(PREP(&e, gs, x, g, tv_int(&e, 0), tv_int(&e, -1), tv_bool(&e, false), o, o) == CML_ERR_INVALID_ARG);
    cml_evalue *g3 = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 4, 3), *g2 = TS(&e, CML_DTYPE_FLOAT32, 2, 2, 4, 2);
    CHECK(PREP(&e, gs, x, g3, tv_int(&e, 0), tv_int(&e, 0), tv_bool(&e, false), o, o) == CML_ERR_SHAPE);
    CHECK(PREP(&e, gs, x, g2, tv_int(&e, 0), tv_int(&e, 0), tv_bool(&e, false), o, o) == CML_ERR_SHAPE);
    cml_evalue *gh = TS(&e, CML_DTYPE_FLOAT16, 1, 2, 4, 2);
    CHECK(PREP(&e, gs, x, gh, tv_int(&e, 0), tv_int(&e, 0), tv_bool(&e, false), o, o) == CML_ERR_UNSUPPORTED);
    cml_evalue *xb = TS(&e, CML_DTYPE_BOOL, 1, 2, 3, 5), *gb = TS(&e, CML_DTYPE_BOOL, 1, 2, 4, 2);
    cml_evalue *ob = TS(&e, CML_DTYPE_BOOL, 1, 2, 2, 4);
    CHECK(PREP(&e, gs, xb, gb, tv_int(&e, 0), tv_int(&e, 0), tv_bool(&e, false), ob, ob) == CML_ERR_UNSUPPORTED);
    cml_evalue *x3 = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 5);
    CHECK(PREP(&e, gs, x3, g, tv_int(&e, 0), tv_int(&e, 0), tv_bool(&e, false), o, o) == CML_ERR_INVALID_ARG);
    /* an empty image cannot be sampled */
    cml_evalue *xe = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 0, 5);
    CHECK(CALL(&e, gs, xe, g, tv_int(&e, 0), tv_int(&e, 0), tv_bool(&e, false), o, o) == CML_ERR_SHAPE);
    tv_free(&e);
}

/* Naive pixel shuffle reference on a flat [N, C, H, W] index space. */
static void test_pixel_shuffle(void) {
    const cml_dtype dts[] = {CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT16, CML_DTYPE_INT64, CML_DTYPE_BOOL,
                             CML_DTYPE_UINT8, CML_DTYPE_FLOAT64};
    for (int k = 0; k < 6; k++) {
        static tenv e;
        tv_init(&e);
        cml_dtype dt = dts[k];
        int64_t N = 2, r = 3, C = 2, H = 2, W = 3; /* input [N, C*r*r, H, W] */
        double xv[2 * 18 * 6], ref[2 * 18 * 6];
        for (int i = 0; i < 216; i++) xv[i] = dt == CML_DTYPE_BOOL ? (i % 3 == 0) : (double)(i % 97);
        for (int64_t n = 0; n < N; n++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t oh = 0; oh < H * r; oh++)
                    for (int64_t ow = 0; ow < W * r; ow++) {
                        int64_t ic = c * r * r + (oh % r) * r + (ow % r);
                        int64_t src = ((n * C * r * r + ic) * H + oh / r) * W + ow / r;
                        int64_t dst = ((n * C + c) * H * r + oh) * W * r + ow;
                        ref[dst] = xv[src];
                    }
        cml_evalue *x = tn_tensor(&e, dt, 4, S(N, C * r * r, H, W), xv);
        cml_evalue *o = tn_out(&e, dt, 4, 216);
        CHECK_MSG(CALL(&e, "aten::pixel_shuffle.out", x, tv_int(&e, r), o, o) == CML_OK, "%s", e.err.msg);
        CHECK(tv_shape_is(T(o), 4, S(N, C, H * r, W * r)));
        CHECK(tn_check("pixel_shuffle", T(o), ref, 216, 0));
        cml_evalue *back = tn_out(&e, dt, 4, 216);
        CHECK(CALL(&e, "aten::pixel_unshuffle.out", o, tv_int(&e, r), back, back) == CML_OK);
        CHECK(tv_shape_is(T(back), 4, S(N, C * r * r, H, W)));
        CHECK(tn_check("pixel_unshuffle", T(back), xv, 216, 0));
        tv_free(&e);
    }
    /* rank 3 and rank 5 */
    static tenv e;
    tv_init(&e);
    double xv[16];
    for (int i = 0; i < 16; i++) xv[i] = i;
    cml_evalue *x = tn_tensor(&e, CML_DTYPE_FLOAT32, 3, S(4, 2, 2), xv), *o = tn_out(&e, CML_DTYPE_FLOAT32, 3, 16);
    CHECK(CALL(&e, "aten::pixel_shuffle.out", x, tv_int(&e, 2), o, o) == CML_OK);
    CHECK(tv_shape_is(T(o), 3, S(1, 4, 4)));
    /* row 0: (c0,h0,w0) (c1,h0,w0) (c0,h0,w1) (c1,h0,w1) */
    CHECK(F(o)[0] == 0 && F(o)[1] == 4 && F(o)[2] == 1 && F(o)[3] == 5 && F(o)[4] == 8);
    cml_evalue *x5 = tn_tensor(&e, CML_DTYPE_FLOAT32, 5, S(1, 1, 4, 2, 2), xv), *o5 = tn_out(&e, CML_DTYPE_FLOAT32, 5, 16);
    CHECK(CALL(&e, "aten::pixel_shuffle.out", x5, tv_int(&e, 2), o5, o5) == CML_OK);
    CHECK(tn_check("rank5", T(o5), (double[]){0, 4, 1, 5, 8, 12, 9, 13, 2, 6, 3, 7, 10, 14, 11, 15}, 16, 0));
    tv_free(&e);
}

static void test_pixel_reject(void) {
    static tenv e;
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 1, 6, 2, 3), *o = TS(&e, CML_DTYPE_FLOAT32, 1, 1, 4, 6);
    CHECK(PREP(&e, "aten::pixel_shuffle.out", x, tv_int(&e, 2), o, o) == CML_ERR_INVALID_ARG);
    CHECK(tn_msg_names(&e, "aten::pixel_shuffle.out"));
    CHECK(PREP(&e, "aten::pixel_shuffle.out", x, tv_int(&e, 0), o, o) == CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, "aten::pixel_unshuffle.out", x, tv_int(&e, 2), o, o) == CML_ERR_INVALID_ARG);
    CHECK(tn_msg_names(&e, "aten::pixel_unshuffle.out"));
    cml_evalue *x2 = TS(&e, CML_DTYPE_FLOAT32, 4, 2);
    CHECK(PREP(&e, "aten::pixel_shuffle.out", x2, tv_int(&e, 1), o, o) == CML_ERR_INVALID_ARG);
    cml_evalue *x4 = TS(&e, CML_DTYPE_FLOAT32, 1, 4, 2, 3), *oi = TS(&e, CML_DTYPE_INT32, 1, 1, 4, 6);
    CHECK(PREP(&e, "aten::pixel_shuffle.out", x4, tv_int(&e, 2), oi, oi) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

int main(void) {
    init_x();
    test_upsample_floats();
    test_upsample_ints();
    test_upsample_channels_last();
    test_upsample_edges();
    test_upsample_reject();
    test_grid_sampler();
    test_grid_sampler_ints();
    test_grid_sampler_reject();
    test_pixel_shuffle();
    test_pixel_reject();
    TEST_MAIN_END();
}
