/* Bootsmith WASI compat: wasi-libc's stdlib.h plus mkstemp/mkdtemp (see common/stubs.c). */
#ifndef BOOTSMITH_STDLIB_H
#define BOOTSMITH_STDLIB_H
#include_next <stdlib.h>
#ifdef __cplusplus
extern "C" {
#endif
int mkstemp(char *);
char *mkdtemp(char *);
#ifdef __cplusplus
}
#endif
#endif
