/* File-system helpers: directory creation and read-only mapping. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

bool cli_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cli_mkdirs(const char *cmd, const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return cli_error(cmd, "bad directory path '%s'", path);
    memcpy(buf, path, n + 1);
    /* Create each prefix in turn; existing directories are fine. */
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return cli_error(cmd, "cannot create directory %s: %s", buf, strerror(errno));
        buf[i] = c;
    }
    if (!cli_is_dir(path)) return cli_error(cmd, "%s exists and is not a directory", path);
    return CLI_OK;
}

int cli_map_file(const char *cmd, const char *path, cli_mapped *out) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return cli_error(cmd, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cli_error(cmd, "%s is not a regular file", path);
    }
    if (st.st_size == 0) { /* mmap rejects length 0; an empty file is just empty */
        close(fd);
        return CLI_OK;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return cli_error(cmd, "cannot map %s: %s", path, strerror(e));
    out->data = p;
    out->size = (size_t)st.st_size;
    return CLI_OK;
}

void cli_unmap_file(cli_mapped *m) {
    if (m->data) munmap((void *)m->data, m->size);
    memset(m, 0, sizeof *m);
}
