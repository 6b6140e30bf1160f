/* make test-arm64's check of the emulator (scripts/qemu-probe.sh): one
 * thread started and joined, the way every thread pool in the suite starts.
 * On some hosts qemu-user hangs inside pthread_create (seen with qemu 7.2 on
 * a 6.18 kernel: the guest spins before the stack mmap); the probe then
 * times out instead of every threaded test hanging. */
#include <pthread.h>
#include <stdio.h>

static void *run(void *arg) { return arg; }

int main(void) {
    pthread_t t;
    int x = 42;
    void *ret = NULL;
    if (pthread_create(&t, NULL, run, &x) != 0 || pthread_join(t, &ret) != 0 || ret != &x) return 1;
    puts("qemu probe: threads ok");
    return 0;
}
