/* Bootsmith WASI compat: wasi-libc's stdio.h plus popen/pclose (they fail with ENOSYS). */
#ifndef BOOTSMITH_STDIO_H
#define BOOTSMITH_STDIO_H
#include_next <stdio.h>
#ifdef __cplusplus
extern "C" {
#endif
FILE *popen(const char *, const char *);
int pclose(FILE *);
#ifdef __cplusplus
}
#endif
#endif
