/* lsandbox.c -- the grader's process-level sandbox: a child per submission with rlimits and a wall clock,
** and inside it a fresh Lua state whose allocator caps memory and whose count hook caps instructions. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <lualib.h>
#include "lbind.h"
#include "lcore.h"

#define SHL_CHILD "stackheap.sandbox_child"

#if defined(__SANITIZE_ADDRESS__)
#define SH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SH_ASAN 1
#endif
#endif

/* ---- inside the child: the limits the runner arms around submission code ---- */

typedef struct limits {
  size_t used, cap;            /* bytes the state holds; cap while armed */
  long long count, budget;     /* instructions since armed; the budget */
  int armed;
  int out_of_memory, out_of_time;  /* sticky until re-armed, each on its own */
  const char *tripped;         /* the first of them: "instructions" or "memory" */
  int fd;                      /* the pipe to the parent */
} limits;

#define HOOK_EVERY 1000

static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  limits *lim = ud;
  size_t old = ptr ? osize : 0;
  void *p;
  if (nsize == 0) {
    free(ptr);
    lim->used -= old;
    return NULL;
  }
  /* Growth past the cap fails, and keeps failing until the runner re-arms:
  ** a memory bomb inside pcall cannot try again. */
  if (lim->armed && nsize > old && (lim->out_of_memory || lim->used + (nsize - old) > lim->cap)) {
    lim->out_of_memory = 1;
    if (lim->tripped == NULL) lim->tripped = "memory";
    return NULL;
  }
  if ((p = realloc(ptr, nsize)) == NULL) return NULL;
  lim->used += nsize - old;
  return p;
}

static limits *getlimits(lua_State *L) {
  void *ud;
  lua_getallocf(L, &ud);
  return ud;
}

/* Every HOOK_EVERY instructions on every thread (threads inherit the hook).
** Once the budget is gone the hook fires at each instruction and raises
** again, so a pcall around an endless loop only catches one of them. */
static void hook(lua_State *L, lua_Debug *ar) {
  limits *lim = getlimits(L);
  (void)ar;
  if (!lim->armed) return;
  lim->count += HOOK_EVERY;
  if (lim->count > lim->budget && !lim->out_of_time) {
    lim->out_of_time = 1;
    if (lim->tripped == NULL) lim->tripped = "instructions";
  }
  if (lim->out_of_time) {
    lua_sethook(L, hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "exceeded the limit of %I instructions", (lua_Integer)lim->budget);
  }
}

/* sandbox.run(instructions, memory_bytes, fn) -> ok, result or error, tripped
** Calls fn under the limits.  Arming and disarming happen here, in C, so
** no Lua instruction of the grader's runs between a tripped limit and the
** disarm (a sticky hook would raise in the grader's own code). */
static int s_run(lua_State *L) {
  limits *lim = getlimits(L);
  lua_Integer n = luaL_checkinteger(L, 1), mem = luaL_checkinteger(L, 2);
  int rc;
  luaL_checktype(L, 3, LUA_TFUNCTION);
  lua_settop(L, 3);
  lim->budget = n;
  lim->count = 0;
  lim->tripped = NULL;
  lim->out_of_memory = lim->out_of_time = 0;
  lim->cap = lim->used + (size_t)(mem > 0 ? mem : 0);
  lim->armed = 1;
  lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_EVERY);
  rc = lua_pcall(L, 0, 1, 0);
  lim->armed = 0;
  lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_EVERY);
  lua_pushboolean(L, rc == LUA_OK);
  lua_insert(L, -2);
  if (lim->tripped) lua_pushstring(L, lim->tripped);
  else lua_pushnil(L);
  return 3;
}

/* sandbox.cpu(seconds): the CPU limit from now (SIGXCPU when it runs out) */
static int s_cpu(lua_State *L) {
  lua_Integer secs = luaL_checkinteger(L, 1);
  struct rusage ru;
  struct rlimit rl;
  getrusage(RUSAGE_SELF, &ru);
  getrlimit(RLIMIT_CPU, &rl);
  /* whole seconds used, rounded up, plus the test's */
  rl.rlim_cur = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
                         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec + 999999) / 1000000 + secs);
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max) rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_CPU, &rl);
  return 0;
}

/* sandbox.emit(line): one line to the parent */
static int s_emit(lua_State *L) {
  limits *lim = getlimits(L);
  size_t n, off = 0;
  const char *s = luaL_checklstring(L, 1, &n);
  while (off < n) {
    ssize_t k = write(lim->fd, s + off, n - off);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return luaL_error(L, "emit: the parent is gone");
    off += (size_t)k;
  }
  while (write(lim->fd, "\n", 1) < 0 && errno == EINTR) {}
  return 0;
}

/* sandbox.memory() -> bytes the state holds */
static int s_memory(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getlimits(L)->used);
  return 1;
}

static void set_limit(int res, lua_Integer v) {
  struct rlimit rl;
  if (v <= 0) return;
  rl.rlim_cur = rl.rlim_max = (rlim_t)v;
  setrlimit(res, &rl);
}

static int child_main(lua_State *parent, int fd) {
  static limits lim;           /* the child's own copy of the process: no sharing */
  static const luaL_Reg api[] = {
    { "run", s_run }, { "cpu", s_cpu }, { "emit", s_emit },
    { "memory", s_memory }, { NULL, NULL }
  };
  lua_State *L;
  const char *module = lua_tostring(parent, -4), *arg = lua_tostring(parent, -3),
             *path = lua_tostring(parent, -2), *cpath = lua_tostring(parent, -1);
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) { dup2(null, 0); dup2(null, 1); close(null); }
  memset(&lim, 0, sizeof lim);
  lim.fd = fd;
  if ((L = lua_newstate(l_alloc, &lim)) == NULL) return 3;
  lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_EVERY);   /* before any thread exists */
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_stackheap_core);
  lua_setfield(L, -2, "stackheap.core");
  lua_pop(L, 1);
  lua_getglobal(L, "package");
  lua_pushstring(L, path); lua_setfield(L, -2, "path");
  lua_pushstring(L, cpath); lua_setfield(L, -2, "cpath");
  lua_pop(L, 1);
  lua_getglobal(L, "require");
  lua_pushstring(L, module);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) goto fail;
  lua_getfield(L, -1, "main");
  lua_pushstring(L, arg);
  luaL_newlib(L, api);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) goto fail;
  return 0;
fail:
  /* The runner itself failed (a bug, or a limit it could not contain):
  ** one line the parent reads as the reason, newlines flattened. */
  lim.armed = 0;
  {
    const char *msg = lua_tostring(L, -1);
    char line[1024];
    size_t i, n = (size_t)snprintf(line, sizeof line - 1, "fatal %s", msg ? msg : "(no message)");
    if (n > sizeof line - 2) n = sizeof line - 2;
    for (i = 0; i < n; i++) if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
    line[n++] = '\n';
    if (write(fd, line, n) < 0) return 2;
  }
  return 2;
}

/* ---- in the parent: children and their output ---- */

typedef struct child {
  pid_t pid;
  int fd;                      /* read end; -1 at end of file */
  int status, reaped;
} child;

/* core.sandbox.spawn{module = NAME, arg = STRING, cpu = s, as = bytes,
**   fsize = bytes} -> child.  The child runs require(NAME).main(arg, sandbox)
** in a fresh Lua state and _exits; what it emits arrives line by line. */
static int l_spawn(lua_State *L) {
  int fds[2];
  pid_t pid;
  child *c;
  lua_Integer cpu, as, fsize;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "cpu"); cpu = luaL_optinteger(L, -1, 0); lua_pop(L, 1);
  lua_getfield(L, 1, "as"); as = luaL_optinteger(L, -1, 0); lua_pop(L, 1);
  lua_getfield(L, 1, "fsize"); fsize = luaL_optinteger(L, -1, 1 << 20); lua_pop(L, 1);
  lua_settop(L, 1);
  lua_getfield(L, 1, "module"); luaL_checkstring(L, 2);
  lua_getfield(L, 1, "arg"); luaL_checkstring(L, 3);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  lua_getfield(L, -2, "cpath");
  lua_remove(L, -3);
  if (!lua_isstring(L, -2) || !lua_isstring(L, -1)) return luaL_error(L, "spawn: no package.path");
  c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  c->fd = -1;
  luaL_setmetatable(L, SHL_CHILD);
  lua_insert(L, 2);            /* the child below module, arg, path, cpath */
  if (pipe(fds) != 0) return luaL_error(L, "spawn: pipe: %s", strerror(errno));
  fflush(NULL);                /* nothing buffered is written twice */
  pid = fork();
  if (pid < 0) {
    close(fds[0]); close(fds[1]);
    return luaL_error(L, "spawn: fork: %s", strerror(errno));
  }
  if (pid == 0) {
    struct rlimit none = { 0, 0 };
    close(fds[0]);
    setrlimit(RLIMIT_CORE, &none);
    if (cpu > 0) {
      struct rlimit rl;
      rl.rlim_cur = (rlim_t)cpu;
      rl.rlim_max = RLIM_INFINITY;   /* the runner moves the soft limit per test */
      setrlimit(RLIMIT_CPU, &rl);
    }
#ifndef SH_ASAN
    set_limit(RLIMIT_AS, as);  /* AddressSanitizer reserves terabytes: no AS limit there */
#else
    (void)as;
#endif
    set_limit(RLIMIT_FSIZE, fsize);
    _exit(child_main(L, fds[1]));
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  c->pid = pid;
  c->fd = fds[0];
  lua_settop(L, 2);
  return 1;
}

static child *tochild(lua_State *L, int i) {
  return luaL_checkudata(L, i, SHL_CHILD);
}

/* child:read() -> bytes available now ("" when none yet), or nil at end of file */
static int c_read(lua_State *L) {
  child *c = tochild(L, 1);
  char buf[65536];
  ssize_t n;
  luaL_Buffer b;
  if (c->fd < 0) { lua_pushnil(L); return 1; }
  luaL_buffinit(L, &b);
  for (;;) {
    n = read(c->fd, buf, sizeof buf);
    if (n > 0) { luaL_addlstring(&b, buf, (size_t)n); continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    close(c->fd);              /* end of file, or an error that ends it */
    c->fd = -1;
    break;
  }
  luaL_pushresult(&b);
  if (c->fd < 0 && lua_rawlen(L, -1) == 0) { lua_pushnil(L); return 1; }
  return 1;
}

/* child:kill(): SIGKILL (the wall clock ran out) */
static int c_kill(lua_State *L) {
  child *c = tochild(L, 1);
  if (!c->reaped && c->pid > 0) kill(c->pid, SIGKILL);
  return 0;
}

static const char *signame(int s) {
  switch (s) {
  case SIGKILL: return "SIGKILL";
  case SIGXCPU: return "SIGXCPU";
  case SIGXFSZ: return "SIGXFSZ";
  case SIGSEGV: return "SIGSEGV";
  case SIGABRT: return "SIGABRT";
  case SIGBUS: return "SIGBUS";
  case SIGFPE: return "SIGFPE";
  case SIGILL: return "SIGILL";
  case SIGPIPE: return "SIGPIPE";
  default: return "a signal";
  }
}

/* child:wait() -> "exit", code | "signal", name  (blocks until it ends) */
static int c_wait(lua_State *L) {
  child *c = tochild(L, 1);
  if (!c->reaped) {
    while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR) {}
    c->reaped = 1;
  }
  if (WIFSIGNALED(c->status)) {
    lua_pushliteral(L, "signal");
    lua_pushstring(L, signame(WTERMSIG(c->status)));
  } else {
    lua_pushliteral(L, "exit");
    lua_pushinteger(L, WEXITSTATUS(c->status));
  }
  return 2;
}

static int c_gc(lua_State *L) {
  child *c = tochild(L, 1);
  if (c->fd >= 0) { close(c->fd); c->fd = -1; }
  if (!c->reaped && c->pid > 0) {
    kill(c->pid, SIGKILL);
    while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR) {}
    c->reaped = 1;
  }
  return 0;
}

/* core.sandbox.poll({child...}, timeout_ms): waits until one of them has
** output or ended, or the time is up */
static int l_poll(lua_State *L) {
  struct pollfd fds[256];
  int n = 0, i, len, ms = (int)luaL_checkinteger(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  len = (int)luaL_len(L, 1);
  for (i = 1; i <= len && n < 256; i++) {
    child *c;
    lua_geti(L, 1, i);
    c = tochild(L, -1);
    lua_pop(L, 1);
    if (c->fd < 0) continue;
    fds[n].fd = c->fd;
    fds[n].events = POLLIN;
    fds[n].revents = 0;
    n++;
  }
  if (n > 0) while (poll(fds, (nfds_t)n, ms) < 0 && errno == EINTR) {}
  return 0;
}

/* core.sandbox.now() -> monotonic seconds (the wall clock's deadlines only) */
static int l_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

/* core.sandbox.cpus() -> processors online (--jobs's default) */
static int l_cpus(lua_State *L) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  lua_pushinteger(L, n > 0 ? n : 1);
  return 1;
}

void shL_open_sandbox(lua_State *L) {
  static const luaL_Reg child_methods[] = {
    { "read", c_read }, { "kill", c_kill }, { "wait", c_wait }, { NULL, NULL }
  };
  static const luaL_Reg funcs[] = {
    { "spawn", l_spawn }, { "poll", l_poll }, { "now", l_now }, { "cpus", l_cpus },
    { NULL, NULL }
  };
  shL_class(L, SHL_CHILD, child_methods, c_gc);   /* closing one kills and reaps it */
  luaL_newlib(L, funcs);
  lua_setfield(L, -2, "sandbox");
}
