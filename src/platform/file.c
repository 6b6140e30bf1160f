#include "platform/file.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"

static cml_status file_map(const char *path, bool missing_not_found, cml_mapped_file *out,
                           cml_error *err) {
    out->data = NULL;
    out->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cml_fail(err, missing_not_found && errno == ENOENT ? CML_ERR_NOT_FOUND : CML_ERR_IO,
                        "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return cml_fail(err, CML_ERR_IO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return cml_fail(err, CML_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size == 0 || (uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return st.st_size == 0 ? CML_OK : cml_fail(err, CML_ERR_IO, "%s: too large", path);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return cml_fail(err, CML_ERR_IO, "%s: mmap: %s", path, strerror(e));
    out->data = p;
    out->size = (size_t)st.st_size;
    return CML_OK;
}

cml_status cml_file_map(const char *path, cml_mapped_file *out, cml_error *err) {
    return file_map(path, false, out, err);
}

cml_status cml_file_map_lookup(const char *path, cml_mapped_file *out, cml_error *err) {
    return file_map(path, true, out, err);
}

void cml_file_unmap(cml_mapped_file *file) {
    if (file->data) munmap((void *)file->data, file->size);
    file->data = NULL;
    file->size = 0;
}

bool cml_path_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Reads all of an open descriptor of st_size bytes into buf. */
static bool read_all(int fd, uint8_t *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += (size_t)r;
    }
    return true;
}

cml_status cml_file_read(const char *path, const cml_allocator *allocator, void **data,
                         size_t *size, cml_error *err) {
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return cml_fail(err, CML_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    cml_status status = CML_OK;
    if (fstat(fd, &st) != 0) {
        status = cml_fail(err, CML_ERR_IO, "%s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        status = cml_fail(err, CML_ERR_IO, "%s: not a regular file", path);
    } else if (st.st_size > 0) {
        uint8_t *buf = cml_malloc(allocator, (size_t)st.st_size);
        if (!buf) {
            status = cml_fail(err, CML_ERR_NOMEM, "%s: out of memory reading %lld bytes", path,
                              (long long)st.st_size);
        } else if (!read_all(fd, buf, (size_t)st.st_size)) {
            cml_free(allocator, buf);
            status = cml_fail(err, CML_ERR_IO, "%s: read failed (file changed while reading?)", path);
        } else {
            *data = buf;
            *size = (size_t)st.st_size;
        }
    }
    close(fd);
    return status;
}

uint64_t cml_platform_memory_bytes(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0) return 0;
    return (uint64_t)pages * (uint64_t)page;
}

void cml_platform_advise_huge(void *p, size_t size) {
#if defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (!p || size < 2 * huge) return;
    uintptr_t begin = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)p + size) & ~(huge - 1);
    if (end > begin) (void)madvise((void *)begin, end - begin, MADV_HUGEPAGE);
#else
    (void)p;
    (void)size;
#endif
}
