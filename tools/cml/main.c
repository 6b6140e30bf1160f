/* cml command-line tool: placeholder entry point until the subcommands land
 * (keeps the build linking now that tools/cml/npy.c exists). */
#include <stdio.h>
#include <string.h>

#include "cml.h"

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("cml %d.%d.%d\n", CML_VERSION_MAJOR, CML_VERSION_MINOR, CML_VERSION_PATCH);
        return 0;
    }
    fprintf(stderr, "usage: cml --version (subcommands are not built yet)\n");
    return 2;
}
