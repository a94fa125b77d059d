/* Bootsmith WASI compat: the POSIX calls that wasi-libc lacks, for the file-system tools.
 * Processes, pipes and terminals do not exist in WASI: those calls fail with ENOSYS (or ENOTTY,
 * ECHILD). Ownership and permission calls succeed and do nothing, since WASI keeps neither; the
 * ext4 populate step takes exact metadata from a manifest instead (see e2fsprogs/patches). The
 * caller is always root, with no user or group database. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int nosys(void) { errno = ENOSYS; return -1; }

/* setjmp.h */
_Noreturn void bootsmith_longjmp(int val) {
  (void)val;
  fflush(stdout);
  fputs("fatal error: longjmp is not available in WASI; exiting\n", stderr);
  exit(8);
}

/* processes and pipes */
int pipe(int fds[2]) { (void)fds; return nosys(); }
int dup(int fd) { (void)fd; return nosys(); }
int dup2(int fd, int to) {
  if (fd == to) return to;
  return nosys();
}
pid_t fork(void) { return nosys(); }
pid_t vfork(void) { return nosys(); }
int execv(const char *p, char *const a[]) { (void)p; (void)a; return nosys(); }
int execve(const char *p, char *const a[], char *const e[]) { (void)p; (void)a; (void)e; return nosys(); }
int execvp(const char *p, char *const a[]) { (void)p; (void)a; return nosys(); }
int execl(const char *p, const char *a, ...) { (void)p; (void)a; return nosys(); }
int execlp(const char *p, const char *a, ...) { (void)p; (void)a; return nosys(); }
pid_t wait(int *s) { (void)s; errno = ECHILD; return -1; }
pid_t waitpid(pid_t p, int *s, int o) { (void)p; (void)s; (void)o; errno = ECHILD; return -1; }
int system(const char *c) { if (!c) return 0; errno = ENOSYS; return -1; }
FILE *popen(const char *c, const char *m) { (void)c; (void)m; errno = ENOSYS; return NULL; }
int pclose(FILE *f) { if (f) fclose(f); errno = ECHILD; return -1; }
int kill(pid_t p, int s) { (void)p; (void)s; return nosys(); }
pid_t getppid(void) { return 1; }
pid_t getpgrp(void) { return 1; }
pid_t setsid(void) { return nosys(); }
int setpgid(pid_t p, pid_t g) { (void)p; (void)g; return nosys(); }
unsigned alarm(unsigned s) { (void)s; return 0; }
int pause(void) { return nosys(); }
void sync(void) {}
int fchdir(int fd) { (void)fd; return nosys(); }

/* identity: always root */
uid_t getuid(void) { return 0; }
uid_t geteuid(void) { return 0; }
gid_t getgid(void) { return 0; }
gid_t getegid(void) { return 0; }
int setuid(uid_t u) { return u == 0 ? 0 : nosys(); }
int setgid(gid_t g) { return g == 0 ? 0 : nosys(); }
int seteuid(uid_t u) { return u == 0 ? 0 : nosys(); }
int setegid(gid_t g) { return g == 0 ? 0 : nosys(); }
int getgroups(int n, gid_t list[]) { (void)n; (void)list; return 0; }
char *getlogin(void) { return NULL; }
char *ttyname(int fd) { (void)fd; errno = ENOTTY; return NULL; }

/* ownership and permissions: WASI keeps none, so there is nothing to change */
int chown(const char *p, uid_t u, gid_t g) { (void)p; (void)u; (void)g; return 0; }
int fchown(int fd, uid_t u, gid_t g) { (void)fd; (void)u; (void)g; return 0; }
int lchown(const char *p, uid_t u, gid_t g) { (void)p; (void)u; (void)g; return 0; }
int chmod(const char *p, mode_t m) { (void)p; (void)m; return 0; }
int fchmod(int fd, mode_t m) { (void)fd; (void)m; return 0; }
int lchmod(const char *p, mode_t m) { (void)p; (void)m; return 0; }
int fchmodat(int d, const char *p, mode_t m, int f) { (void)d; (void)p; (void)m; (void)f; return 0; }
static mode_t current_umask = 022;
mode_t umask(mode_t m) { mode_t old = current_umask; current_umask = m & 0777; return old; }
int mkfifo(const char *p, mode_t m) { (void)p; (void)m; return nosys(); }
int mknod(const char *p, mode_t m, dev_t d) { (void)p; (void)m; (void)d; return nosys(); }
int mknodat(int fd, const char *p, mode_t m, dev_t d) { (void)fd; (void)p; (void)m; (void)d; return nosys(); }

/* user and group database: empty */
struct passwd *getpwnam(const char *n) { (void)n; return NULL; }
struct passwd *getpwuid(uid_t u) { (void)u; return NULL; }
int getpwnam_r(const char *n, struct passwd *p, char *b, size_t l, struct passwd **r) {
  (void)n; (void)p; (void)b; (void)l; *r = NULL; return 0;
}
int getpwuid_r(uid_t u, struct passwd *p, char *b, size_t l, struct passwd **r) {
  (void)u; (void)p; (void)b; (void)l; *r = NULL; return 0;
}
void setpwent(void) {}
void endpwent(void) {}
struct passwd *getpwent(void) { return NULL; }
struct group *getgrnam(const char *n) { (void)n; return NULL; }
struct group *getgrgid(gid_t g) { (void)g; return NULL; }
int getgrnam_r(const char *n, struct group *g, char *b, size_t l, struct group **r) {
  (void)n; (void)g; (void)b; (void)l; *r = NULL; return 0;
}
int getgrgid_r(gid_t i, struct group *g, char *b, size_t l, struct group **r) {
  (void)i; (void)g; (void)b; (void)l; *r = NULL; return 0;
}

/* terminals: none */
int tcgetattr(int fd, struct termios *t) { (void)fd; (void)t; errno = ENOTTY; return -1; }
int tcsetattr(int fd, int a, const struct termios *t) { (void)fd; (void)a; (void)t; errno = ENOTTY; return -1; }
int tcflush(int fd, int q) { (void)fd; (void)q; errno = ENOTTY; return -1; }
int tcdrain(int fd) { (void)fd; errno = ENOTTY; return -1; }
void cfmakeraw(struct termios *t) { (void)t; }
speed_t cfgetospeed(const struct termios *t) { return t->c_ospeed; }
speed_t cfgetispeed(const struct termios *t) { return t->c_ispeed; }
int cfsetospeed(struct termios *t, speed_t s) { t->c_ospeed = s; return 0; }
int cfsetispeed(struct termios *t, speed_t s) { t->c_ispeed = s; return 0; }

/* signals: recorded, never delivered */
static struct sigaction actions[65];
int sigemptyset(sigset_t *s) { memset(s, 0, sizeof *s); return 0; }
int sigfillset(sigset_t *s) { memset(s, 0xff, sizeof *s); return 0; }
static int sigbit(int sig) { return sig > 0 && sig <= (int)(8 * sizeof(sigset_t)); }
int sigaddset(sigset_t *s, int sig) {
  if (!sigbit(sig)) { errno = EINVAL; return -1; }
  ((unsigned char *)s)[(sig - 1) / 8] |= 1u << ((sig - 1) % 8); return 0;
}
int sigdelset(sigset_t *s, int sig) {
  if (!sigbit(sig)) { errno = EINVAL; return -1; }
  ((unsigned char *)s)[(sig - 1) / 8] &= ~(1u << ((sig - 1) % 8)); return 0;
}
int sigismember(const sigset_t *s, int sig) {
  if (!sigbit(sig)) { errno = EINVAL; return -1; }
  return (((const unsigned char *)s)[(sig - 1) / 8] >> ((sig - 1) % 8)) & 1;
}
int sigprocmask(int how, const sigset_t *set, sigset_t *old) {
  (void)how; (void)set; if (old) sigemptyset(old); return 0;
}
int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  if (sig <= 0 || sig >= 65) { errno = EINVAL; return -1; }
  if (old) *old = actions[sig];
  if (act) actions[sig] = *act;
  return 0;
}

/* temporary files: WASI can create files exclusively, so mkstemp works inside a preopened
 * directory; the names come from a counter mixed with the clock. */
#include <fcntl.h>
#include <time.h>
static int fill_template(char *tmpl, unsigned long n) {
  static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  size_t len = strlen(tmpl), i;
  if (len < 6 || strcmp(tmpl + len - 6, "XXXXXX") != 0) { errno = EINVAL; return -1; }
  for (i = 0; i < 6; i++) { tmpl[len - 6 + i] = letters[n % 62]; n /= 62; }
  return 0;
}
static unsigned long temp_seed(void) {
  static unsigned long counter;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (unsigned long)ts.tv_nsec * 2654435761u + (++counter) * 40503u;
}
int mkstemp(char *tmpl) {
  int tries, fd;
  for (tries = 0; tries < 100; tries++) {
    if (fill_template(tmpl, temp_seed()) < 0) return -1;
    fd = open(tmpl, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd >= 0 || errno != EEXIST) return fd;
    memcpy(tmpl + strlen(tmpl) - 6, "XXXXXX", 6);
  }
  errno = EEXIST;
  return -1;
}
char *mkdtemp(char *tmpl) {
  int tries;
  for (tries = 0; tries < 100; tries++) {
    if (fill_template(tmpl, temp_seed()) < 0) return NULL;
    if (mkdir(tmpl, 0700) == 0) return tmpl;
    if (errno != EEXIST) return NULL;
    memcpy(tmpl + strlen(tmpl) - 6, "XXXXXX", 6);
  }
  errno = EEXIST;
  return NULL;
}

/* time zones: WASI clocks are UTC and there is no zone database */
void tzset(void) {}
char *tzname[2] = {"UTC", "UTC"};
int daylight = 0;
long timezone = 0;

/* host identity and daemons */
int gethostname(char *name, size_t len) {
  static const char host[] = "localhost";
  if (len < sizeof host) { errno = ENAMETOOLONG; return -1; }
  memcpy(name, host, sizeof host);
  return 0;
}
int daemon(int nochdir, int noclose) { (void)nochdir; (void)noclose; return nosys(); }
