/* Bootsmith WASI compat: wasi-libc's sys/stat.h plus what it leaves out. */
#ifndef BOOTSMITH_SYS_STAT_H
#define BOOTSMITH_SYS_STAT_H
#include_next <sys/stat.h>
/* wasi-libc gives S_IFIFO the value of S_IFSOCK (WASI has no FIFOs), which breaks every
 * `switch (st_mode & S_IFMT)` that lists both. Use Linux's value: WASI never reports it. */
#undef S_IFIFO
#define S_IFIFO 0010000
#ifdef __cplusplus
extern "C" {
#endif
int chmod(const char *, mode_t);
int fchmod(int, mode_t);
int lchmod(const char *, mode_t);
int fchmodat(int, const char *, mode_t, int);
mode_t umask(mode_t);
int mkfifo(const char *, mode_t);
int mknod(const char *, mode_t, dev_t);
int mknodat(int, const char *, mode_t, dev_t);
#ifdef __cplusplus
}
#endif
#endif
