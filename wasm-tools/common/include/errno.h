/* Bootsmith WASI compat: wasi-libc's errno.h plus Linux-only codes some tools name. */
#ifndef BOOTSMITH_ERRNO_H
#define BOOTSMITH_ERRNO_H
#include_next <errno.h>
#ifndef EBADR
#define EBADR EINVAL /* "invalid request descriptor" (Linux only) */
#endif
#endif
