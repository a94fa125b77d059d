/* Bootsmith WASI compat: wasi-libc's unistd.h plus the process, pipe and ownership calls it
 * leaves out (they fail with ENOSYS or report root; see common/stubs.c). */
#ifndef BOOTSMITH_UNISTD_H
#define BOOTSMITH_UNISTD_H
#include_next <unistd.h>
#ifdef __cplusplus
extern "C" {
#endif
int pipe(int [2]);
int dup(int);
int dup2(int, int);
int chown(const char *, uid_t, gid_t);
int fchown(int, uid_t, gid_t);
int lchown(const char *, uid_t, gid_t);
pid_t fork(void);
pid_t vfork(void);
int execv(const char *, char *const []);
int execve(const char *, char *const [], char *const []);
int execvp(const char *, char *const []);
int execl(const char *, const char *, ...);
int execlp(const char *, const char *, ...);
pid_t getppid(void);
pid_t getpgrp(void);
pid_t setsid(void);
int setpgid(pid_t, pid_t);
uid_t getuid(void);
uid_t geteuid(void);
gid_t getgid(void);
gid_t getegid(void);
int setuid(uid_t);
int setgid(gid_t);
int seteuid(uid_t);
int setegid(gid_t);
int getgroups(int, gid_t []);
unsigned alarm(unsigned);
int pause(void);
char *ttyname(int);
char *getlogin(void);
void sync(void);
int fchdir(int);
int gethostname(char *, size_t);
int daemon(int, int);
#ifdef __cplusplus
}
#endif
#endif
