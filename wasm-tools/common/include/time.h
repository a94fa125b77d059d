/* Bootsmith WASI compat: wasi-libc's time.h plus tzset and the zone variables: WASI time is
 * UTC, so tzset() does nothing and the offset is 0. */
#ifndef BOOTSMITH_TIME_H
#define BOOTSMITH_TIME_H
#include_next <time.h>
#ifdef __cplusplus
extern "C" {
#endif
void tzset(void);
extern char *tzname[2];
extern int daylight;
extern long timezone;
#ifdef __cplusplus
}
#endif
#endif
