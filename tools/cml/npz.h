/*
 * NumPy .npz archives (np.savez / np.savez_compressed): a zip file whose
 * members are .npy files named "<key>.npy".
 *
 * Read from memory (the CLI maps the file). Only the central directory is
 * trusted for member sizes (NumPy's zip64 local headers carry 0xffffffff
 * there); every offset and size is bounds-checked against the buffer, and
 * each member's CRC-32 is verified. Members must be stored (method 0) or,
 * when built with zlib (CML_CLI_HAVE_ZLIB), deflated (method 8). Refused
 * with a message: multi-disk and zip64-end-record archives (over 65535
 * members or 4 GiB), encrypted members, other compression methods, members
 * not named *.npy, duplicate names.
 */
#ifndef CML_TOOLS_NPZ_H
#define CML_TOOLS_NPZ_H

#include <stddef.h>
#include <stdint.h>

#include "npy.h"

#define CLI_NPZ_NAME_MAX 256

typedef struct cli_npz_member {
    char name[CLI_NPZ_NAME_MAX]; /* the key: the member name without ".npy" */
    uint16_t method;             /* 0 stored, 8 deflated */
    uint32_t crc;
    uint64_t csize, usize;       /* compressed / uncompressed bytes */
    uint64_t local_off;          /* offset of the local file header */
} cli_npz_member;

typedef struct cli_npz {
    cli_npz_member *members; /* malloc'd, in central-directory order */
    size_t count;
} cli_npz;

/* Reads the central directory of the zip in buf[0..len). Returns 0, or -1
 * with a reason in err (out zeroed). */
int cli_npz_open(const uint8_t *buf, size_t len, cli_npz *out, char *err, size_t errsz);

/* Extracts member m (from cli_npz_open on the same buffer) and parses it as
 * .npy into out. Returns 0, or -1 with "member 'key': reason" in err. */
int cli_npz_read(const uint8_t *buf, size_t len, const cli_npz_member *m, cml_npy *out,
                 char *err, size_t errsz);

/* Index of the member with key name, or -1. */
long cli_npz_find(const cli_npz *z, const char *name);

void cli_npz_close(cli_npz *z);

/* CRC-32 (ISO-HDLC, as zip uses) of n bytes. */
uint32_t cli_crc32(const uint8_t *p, size_t n);

#endif
