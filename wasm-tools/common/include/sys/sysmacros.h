/* Bootsmith WASI compat: Linux's dev_t encoding (as glibc and musl write it). */
#ifndef BOOTSMITH_SYS_SYSMACROS_H
#define BOOTSMITH_SYS_SYSMACROS_H
#define major(x) ((unsigned)((((x) >> 31 >> 1) & 0xfffff000) | (((x) >> 8) & 0x00000fff)))
#define minor(x) ((unsigned)((((x) >> 12) & 0xffffff00) | ((x) & 0x000000ff)))
#define makedev(x, y) \
  ((((unsigned long long)(x) & 0xfffff000ULL) << 32) | (((unsigned long long)(x) & 0x00000fffULL) << 8) | \
   (((unsigned long long)(y) & 0xffffff00ULL) << 12) | (((unsigned long long)(y) & 0x000000ffULL)))
#endif
