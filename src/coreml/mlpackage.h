/*
 * An .mlpackage — a directory on disk (standalone model) or the
 * "model.mlpackage" subtree of an inmemoryfs image (delegate payload) —
 * opened, resolved and decoded:
 *
 *   Manifest.json        fileFormatVersion <= 1.0.0; rootModelIdentifier ->
 *                        itemInfoEntries[id].path -> Data/<path>
 *   Data/<path>          model.mlmodel: CoreML.Specification.Model protobuf,
 *                        decoded with protobuf-c (nesting depth bounded
 *                        first); type must be mlProgram (502), spec >= 6
 *   @model_path/...      BlobFileValue files, relative to the directory
 *                        holding model.mlmodel (normally weights/weight.bin)
 *
 * Structural checks at open: a Program is present with at least one
 * function, no duplicate function names, every function's opset names one of
 * its block_specializations; the description's functions (multifunction) or
 * "main" (single function) exist in the program; defaultFunctionName is
 * valid. Op-level validation is the MIL layer's job.
 *
 * On disk, files are mmap'ed read-only; in an image, they point into the
 * image (which must outlive the package). Both are unaligned in general.
 * Everything stays valid until cml_mlpackage_close; the struct itself may
 * be moved or copied (once: close one copy). Not thread-safe while
 * files are being opened (cml_mlpackage_read / cml_mlpackage_blob); after
 * load, reading the decoded model is.
 */
#ifndef CML_COREML_MLPACKAGE_H
#define CML_COREML_MLPACKAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coreml.pb-c.h"

#include "cml.h"
#include "core/status.h"
#include "coreml/inmemoryfs.h"
#include "coreml/milblob.h"
#include "platform/file.h"

typedef Cml__Coreml__Model cml_pb_model;
typedef Cml__Coreml__MILSpec__Program cml_pb_program;
typedef Cml__Coreml__MILSpec__Function cml_pb_function;
typedef Cml__Coreml__MILSpec__Block cml_pb_block;
typedef Cml__Coreml__FeatureDescription cml_pb_feature;

#define CML_MLPACKAGE_MAX_FILES 16
/* Deepest message nesting accepted in model.mlmodel (protobuf-c recurses). */
#define CML_MLPACKAGE_MAX_PB_DEPTH 100

typedef enum cml_mlpackage_source {
    CML_MLPACKAGE_DIR = 1,      /* a directory on disk */
    CML_MLPACKAGE_IMFS = 2,     /* a subtree of an inmemoryfs image */
} cml_mlpackage_source;

/* A file opened through the package (cached until close). */
typedef struct cml_mlpackage_file {
    char *relpath;              /* relative to the package root */
    const uint8_t *data;        /* never NULL */
    size_t size;
    cml_mapped_file map;        /* the mapping (disk), else {NULL, 0} */
    bool is_blob;               /* blob header verified into `blob` */
    cml_milblob blob;
} cml_mlpackage_file;

typedef struct cml_mlpackage {
    cml_mlpackage_source source;
    char *dir;                          /* DIR: the package path */
    cml_imfs fs;                        /* IMFS: non-owning copy of the image's table */
    const cml_imfs_node *node;          /*       and the package directory node */
    char *model_relpath;                /* "Data/com.apple.CoreML/model.mlmodel" */
    char *model_dir;                    /* "Data/com.apple.CoreML" (@model_path) */
    const uint8_t *model_bytes;
    size_t model_size;
    cml_pb_model *model;                /* decoded, type_case == 502 */
    void *pb_arena;                     /* chunks holding everything in model */
    const cml_pb_program *program;      /* model->mlprogram */
    int32_t spec_version;
    cml_mlpackage_file *files;          /* CML_MLPACKAGE_MAX_FILES slots (heap) */
    uint32_t nfiles;
    const cml_allocator *allocator;     /* also used by protobuf-c */
} cml_mlpackage;

/**
 * Opens an .mlpackage directory. A compiled .mlmodelc bundle is refused with
 * CML_ERR_UNSUPPORTED.
 * @return CML_OK, CML_ERR_IO (unreadable), CML_ERR_CORRUPT ("Manifest.json:
 *         ...", "model.mlmodel: ..."), CML_ERR_UNSUPPORTED, CML_ERR_NOMEM.
 */
/* The Core ML Model.Type name of field number (e.g. 500 -> "neuralNetwork"),
 * or NULL. */
const char *cml_mlmodel_type_name(uint32_t number);

cml_status cml_mlpackage_open_dir(const char *path, const cml_allocator *allocator,
                                  cml_mlpackage *out, cml_error *err);

/** Opens the package rooted at directory node `pkg` of image fs. The image
 *  (its blob and node table) must outlive the package; the cml_imfs struct
 *  itself need not. */
cml_status cml_mlpackage_open_imfs(const cml_imfs *fs, const cml_imfs_node *pkg,
                                   const cml_allocator *allocator, cml_mlpackage *out,
                                   cml_error *err);

/** Unmaps and frees everything. Safe on a zeroed struct. */
void cml_mlpackage_close(cml_mlpackage *pkg);

/**
 * Opens a regular file by path relative to the package root
 * ("Data/com.apple.CoreML/weights/weight.bin"); '..' components and absolute
 * paths are refused. Cached: a second call returns the same bytes.
 * @return CML_OK, CML_ERR_NOT_FOUND, CML_ERR_IO, CML_ERR_CORRUPT.
 */
cml_status cml_mlpackage_read(cml_mlpackage *pkg, const char *relpath, const uint8_t **data,
                              size_t *size, cml_error *err);

/**
 * Resolves a BlobFileValue.fileName ("@model_path/weights/weight.bin";
 * the prefix is required) and opens it as a MIL blob file (header checked
 * once). The reader stays valid until close.
 */
cml_status cml_mlpackage_blob(cml_mlpackage *pkg, const char *file_name,
                              const cml_milblob **out, cml_error *err);

/* ----------------------------------------------------- program helpers */

/** Program function by name, or NULL. */
const cml_pb_function *cml_mlprogram_function(const cml_pb_program *program, const char *name);

/** The function body: block_specializations[opset] (verified at open). */
const cml_pb_block *cml_mlprogram_block(const cml_pb_function *function);

/** The function to run by default: description.defaultFunctionName when the
 *  model is multifunction, else "main". Never NULL after a successful open. */
const char *cml_mlpackage_default_function(const cml_mlpackage *pkg);

/* The model interface of one function (pointers into the decoded model). */
typedef struct cml_mlmodel_io {
    const char *function;
    cml_pb_feature *const *inputs;
    size_t ninputs;
    cml_pb_feature *const *outputs;
    size_t noutputs;
    cml_pb_feature *const *states;
    size_t nstates;
} cml_mlmodel_io;

/**
 * The description of function `name` (NULL = default): the matching
 * description.functions entry for multifunction models, else the top-level
 * input/output/state lists (name must then be "main" or NULL). Every feature
 * is checked to have a non-empty name and a type.
 * @return CML_OK, CML_ERR_NOT_FOUND, CML_ERR_CORRUPT.
 */
cml_status cml_mlpackage_interface(const cml_mlpackage *pkg, const char *name,
                                   cml_mlmodel_io *out, cml_error *err);

/** The feature named name in list[0, n), or NULL. */
const cml_pb_feature *cml_mlmodel_find_feature(cml_pb_feature *const *list, size_t n,
                                               const char *name);

#endif
