/*
 * A process with a known VMA layout, for `vmaudit inspect` tests. Compiled
 * at test time with `cc -static -pthread` (test/helpers/layout_worker.ts):
 * a static binary has no shared libraries, so its layout is small and fixed.
 *
 *   layout_worker ANON PROTNONE FILE_MAPS SHARED THREADS PATH
 *
 * - ANON one-page anonymous private r--p mappings, one-page holes between;
 * - PROTNONE one-page anonymous ---p mappings, holes between and a hole above,
 *   so none sits right below a writable mapping (that would read as a guard);
 * - FILE_MAPS one-page private mappings of PATH (all at offset 0: adjacent
 *   ones cannot merge, their file offsets are not contiguous);
 * - SHARED one-page anonymous shared mappings (each its own shmem object);
 * - THREADS threads blocked in read(): glibc gives each a stack and a guard
 *   page below it.
 * Prints "ready" and waits until stdin closes.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int pipe_fds[2];

static void *blocked(void *arg) {
  char c;
  (void)arg;
  while (read(pipe_fds[0], &c, 1) < 0) {
  }
  return NULL;
}

static void holes(long n, int prot, long page) {
  if (n == 0) return;
  char *p = mmap(NULL, (size_t)(2 * n * page), prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  /* Keep pages 0, 2, 4, ...; the top page (2n-1) stays a hole. */
  for (long i = 1; i < 2 * n; i += 2) munmap(p + i * page, (size_t)page);
}

int main(int argc, char **argv) {
  if (argc != 7) { fprintf(stderr, "usage: ANON PROTNONE FILE_MAPS SHARED THREADS PATH\n"); return 2; }
  long page = sysconf(_SC_PAGESIZE);
  long anon = atol(argv[1]), protnone = atol(argv[2]), files = atol(argv[3]);
  long shared = atol(argv[4]), threads = atol(argv[5]);
  holes(anon, PROT_READ, page);
  holes(protnone, PROT_NONE, page);
  if (files > 0) {
    int fd = open(argv[6], O_RDONLY);
    if (fd < 0) { perror("open"); return 1; }
    for (long i = 0; i < files; i++)
      if (mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED) { perror("mmap file"); return 1; }
    close(fd);
  }
  for (long i = 0; i < shared; i++)
    if (mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) { perror("mmap shared"); return 1; }
  if (pipe(pipe_fds) != 0) { perror("pipe"); return 1; }
  for (long i = 0; i < threads; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, blocked, NULL) != 0) { perror("pthread_create"); return 1; }
  }
  printf("ready\n");
  fflush(stdout);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {
  }
  return 0;
}
