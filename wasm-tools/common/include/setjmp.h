/* Bootsmith WASI compat: wasm32 without the exception-handling proposal cannot unwind the stack,
 * so setjmp() always returns 0 and longjmp() ends the program (status 8, "operational error" in
 * the fsck family). The tools only longjmp on fatal errors. */
#ifndef BOOTSMITH_SETJMP_H
#define BOOTSMITH_SETJMP_H
#ifdef __cplusplus
extern "C" {
#endif
typedef long jmp_buf[8];
typedef long sigjmp_buf[8];
_Noreturn void bootsmith_longjmp(int val);
#define setjmp(env) ((void)(env), 0)
#define _setjmp(env) setjmp(env)
#define sigsetjmp(env, save) ((void)(save), setjmp(env))
#define longjmp(env, val) ((void)(env), bootsmith_longjmp(val))
#define _longjmp(env, val) longjmp(env, val)
#define siglongjmp(env, val) longjmp(env, val)
#ifdef __cplusplus
}
#endif
#endif
