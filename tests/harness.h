/* A tiny test harness: CHECK records a failure and continues; each test
 * binary ends with TEST_MAIN_END, which prints "N passed, N failed" and
 * returns non-zero on any failure. */
#ifndef CML_TEST_HARNESS_H
#define CML_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>

static int test_passed_ = 0;
static int test_failed_ = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (cond) {                                                              \
            test_passed_++;                                                      \
        } else {                                                                 \
            test_failed_++;                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

#define CHECK_MSG(cond, ...)                                                     \
    do {                                                                         \
        if (cond) {                                                              \
            test_passed_++;                                                      \
        } else {                                                                 \
            test_failed_++;                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fprintf(stderr, "\n");                                               \
        }                                                                        \
    } while (0)

#define CHECK_NEAR(a, b, tol) CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol), "%g vs %g", (double)(a), (double)(b))

#define TEST_MAIN_END()                                                          \
    do {                                                                         \
        printf("%d passed, %d failed\n", test_passed_, test_failed_);            \
        return test_failed_ ? 1 : 0;                                             \
    } while (0)

#endif
