/* record.c -- the preload library of `stackheap record`: glibc's mtrace(3) on in every process.
** Loaded with libc_malloc_debug.so.0, whose mtrace() it calls; each process, forked or exec'd, logs to its own file. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mcheck.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory the files go to, and the descriptor mtrace's stream writes
** through; nothing here may allocate once tracing is on, or it is traced. */
static char dir[4096];
static int trace_fd = -1;

/* "<dir>/mtrace.<pid>.<parent pid>": the parent lets `record` find the root. */
static void name(char *buf, size_t cap) {
  snprintf(buf, cap, "%s/mtrace.%ld.%ld", dir, (long)getpid(), (long)getppid());
}

/* mtrace keeps its FILE to itself; find its descriptor by the file's inode,
** probing descriptors rather than reading /proc (which would allocate). */
static int find_fd(const char *path) {
  struct stat want, st;
  int fd;
  if (stat(path, &want) != 0) return -1;
  for (fd = 3; fd < 4096; fd++)
    if (fstat(fd, &st) == 0 && st.st_ino == want.st_ino && st.st_dev == want.st_dev) return fd;
  return -1;
}

/* Before a fork: nothing of the parent's may sit in the stream's buffer, or
** the child would write it again. */
static void before_fork(void) {
  fflush(NULL);
}

/* In a forked child: the inherited stream now writes to the child's own
** file (an exec'd program starts a fresh one under the same name). */
static void in_child(void) {
  char path[sizeof dir + 64];
  int fd;
  if (trace_fd < 0) return;
  name(path, sizeof path);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, "= Start\n", 8) == 8) dup3(fd, trace_fd, O_CLOEXEC);
  close(fd);
}

__attribute__((constructor)) static void start(void) {
  const char *d = getenv("STACKHEAP_RECORD_DIR");
  char path[sizeof dir + 64];
  if (d == NULL || d[0] == '\0' || strlen(d) >= sizeof dir) return;
  strcpy(dir, d);
  name(path, sizeof path);
  /* mtrace() reads its file name from the environment; the program must not
  ** see the variable afterwards. */
  if (setenv("MALLOC_TRACE", path, 1) != 0) return;
  mtrace();
  unsetenv("MALLOC_TRACE");
  trace_fd = find_fd(path);
  pthread_atfork(before_fork, NULL, in_child);
}
