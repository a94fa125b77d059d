/* Bootsmith WASI compat: wasi-libc's fcntl.h plus the record-lock commands; WASI has no locks,
 * so wasi-libc's fcntl() rejects them with EINVAL and callers carry on unlocked. */
#ifndef BOOTSMITH_FCNTL_H
#define BOOTSMITH_FCNTL_H
#include_next <fcntl.h>
#ifndef F_SETLK
#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
#endif
#ifndef F_RDLCK
#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#endif
#endif
