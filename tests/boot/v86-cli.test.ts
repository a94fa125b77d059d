// `bootsmith boot`: the CLI boots projects and outputs folders headless in v86, with the serial
// console on stdout and stdin forwarded; --expect turns a boot into a check with an exit status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTemp, cli, mustCli, tempDir } from '../helpers.ts';
import { KITS, MISSING_ASSETS, pcKit, x86Assets } from './v86-assets.ts';

const assets = x86Assets();
const skip = !assets && !process.env.CI;
if (skip) console.warn(`[v86 cli] boots skipped: ${MISSING_ASSETS}`);
const BOOT_TIMEOUT_S = 150;
const LONG = (BOOT_TIMEOUT_S + 60) * 1000;

afterAll(cleanupTemp);

/** The kernel, BIOS and command line as overrides (the pc kit may not exist yet). */
const machine = () => ['--kernel', assets!.kernel, '--bios', assets!.bios, '--append', assets!.cmdline];
const bootCli = (args: string[], input?: string) =>
  cli(['boot', ...args], { timeout: LONG, ...(input !== undefined ? { input } : {}) });

/** The last line the CLI wrote to stderr: its one-line reason. */
const reason = (stderr: string) => stderr.trim().split('\n').at(-1) ?? '';

describe('bootsmith boot (no emulator needed)', () => {
  it('documents the quit key and its options', async () => {
    const r = await mustCli(['boot', '--help']);
    expect(r.stdout).toContain('Ctrl-]');
    for (const o of ['--expect', '--timeout', '--memory', '--disk', '--kernel', '--bios', '--append']) expect(r.stdout).toContain(o);
    expect((await mustCli(['--help'])).stdout).toContain('bootsmith boot');
  });

  it('refuses a project with an x86-64 program before booting', async () => {
    const dir = await tempDir('bootsmith-v86-cli-');
    const proj = join(dir, 'p.bootsmith');
    await mustCli(['new', '-o', proj]);
    // The host's own /bin/true: an x86-64 (or ARM) program, which a 32-bit x86 PC cannot run.
    await mustCli(['add', proj, '/bin/true', '/bin/true']);
    const r = await bootCli([proj, '--kernel', '/nonexistent', '--expect', 'x']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^bootsmith boot: Cannot boot .*\/bin\/true is an? (x86-64|64-bit ARM|arm64|.*ARM).* program/);
    expect(r.stdout).toBe('');
  });

  it('refuses a Raspberry Pi project: v86 is a 32-bit PC', async () => {
    if (!existsSync(join(KITS, 'pi3b', 'kit.json'))) return;
    const dir = await tempDir('bootsmith-v86-cli-');
    const proj = join(dir, 'pi.bootsmith');
    await mustCli(['new', '--board', 'pi3b', '-o', proj]);
    const r = await bootCli([proj, '--expect', 'x']);
    expect(r.code).not.toBe(0);
    expect(reason(r.stderr)).toMatch(/Raspberry Pi 3 project; v86 boots 32-bit x86 only/);
  });

  it('says which input it wants', async () => {
    const r = await bootCli(['/nonexistent/out']);
    expect(r.code).not.toBe(0);
    expect(reason(r.stderr)).toBe('bootsmith boot: /nonexistent/out: no such project file or outputs folder');
  });
});

describe.skipIf(skip)('bootsmith boot in v86', () => {
  let dir: string;
  let proj: string;
  let out: string;

  beforeAll(async () => {
    if (!assets) return;
    dir = await tempDir('bootsmith-v86-cli-');
    proj = join(dir, 'shell.bootsmith');
    await mustCli(['new', '--name', 'v86 cli', '-o', proj]);
    await mustCli(['add', proj, assets.busybox, '/bin/busybox', '--mode', '0755']);
    const init = join(dir, 'init.sh');
    await writeFile(init, [
      '#!/bin/busybox sh',
      '/bin/busybox mount -t proc proc /proc',
      '/bin/busybox mount -t devtmpfs devtmpfs /dev',
      '/bin/busybox --install -s /bin',
      'echo "BOOTSMITH-CLI-INIT sum=$((6*7))"',
      'exec setsid cttyhack sh',
      '',
    ].join('\n'));
    await chmod(init, 0o755);
    await mustCli(['add', proj, init, '/init']);
    for (const d of ['/proc', '/dev']) {
      const empty = join(dir, 'empty');
      await mkdir(empty, { recursive: true });
      await mustCli(['add', proj, empty, d]);
    }
    out = join(dir, 'out');
    await mustCli(['build', proj, '-o', out]);
  }, 120_000);

  it('assets are present (in CI a missing kernel fails here)', () => {
    expect(assets, MISSING_ASSETS).toBeDefined();
  });

  it('an outputs folder boots; stdin reaches the shell and --expect ends the boot with status 0', async () => {
    const r = await bootCli([out, ...machine(), '--expect', 'PIPED-42', '--timeout', String(BOOT_TIMEOUT_S)], 'echo PIPED-$((6*7))\n');
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    expect(r.stdout).toContain('BOOTSMITH-CLI-INIT sum=42');
    expect(r.stdout).toContain('PIPED-42');
    expect(r.stderr).toMatch(/"PIPED-42" appeared after [\d.]+ s/);
    expect(r.stderr).toContain(`kernel command line: ${assets!.cmdline}`);
  }, LONG);

  it('a project file is built in memory and booted', async () => {
    const r = await bootCli([proj, ...machine(), '--expect', 'BOOTSMITH-CLI-INIT sum=42', '--timeout', String(BOOT_TIMEOUT_S)]);
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    expect(r.stderr).toMatch(/initramfs\.cpio [\d.]+ (KiB|MiB)/);
  }, LONG);

  it('a kernel panic before the expected text: non-zero, with the panic as the one-line reason', async () => {
    const broken = join(dir, 'noinit');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'list'), `dir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\ndir /bin 0755 0 0\nfile /bin/busybox ${assets!.busybox} 0755 0 0\n`);
    await mustCli(['initramfs', join(broken, 'list'), '-o', join(broken, 'initramfs.cpio.gz')]);
    const r = await bootCli([broken, ...machine(), '--expect', 'BOOTSMITH-NEVER', '--timeout', String(BOOT_TIMEOUT_S)]);
    expect(r.code).toBe(1);
    expect(reason(r.stderr)).toMatch(/^bootsmith boot: kernel panic: (VFS: Unable to mount root fs|No working init found)/);
    expect(r.stdout).toContain('Kernel panic - not syncing');
  }, LONG);

  it('text that never appears: non-zero once --timeout runs out', async () => {
    const r = await bootCli([out, ...machine(), '--expect', 'BOOTSMITH-NEVER', '--timeout', '4']);
    expect(r.code).toBe(1);
    expect(reason(r.stderr)).toBe('bootsmith boot: "BOOTSMITH-NEVER" did not appear within 4 s');
  }, LONG);

  const kit = pcKit();
  it.skipIf(!kit)('a pc kit project boots to its shell; with the ext4 root on, from /dev/sda2', async () => {
    const p = join(dir, 'pc.bootsmith');
    await mustCli(['new', '--board', 'pc', '-o', p]);
    const r = await bootCli([p, '--expect', 'a shell on the console', '--timeout', String(BOOT_TIMEOUT_S)]);
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    expect(r.stderr).toContain('BIOS the pc kit');

    const q = join(dir, 'pc-ext4.bootsmith');
    await mustCli(['new', '--board', 'pc', '--outputs', 'initramfs,ext4', '-o', q]);
    const s = await bootCli([q, '--expect', 'a shell on the console', '--timeout', String(BOOT_TIMEOUT_S)]);
    expect(s.code, s.stderr + s.stdout.slice(-2000)).toBe(0);
    expect(s.stdout).toContain('bootsmith: root file system /dev/sda2');
    expect(s.stderr).toMatch(/disk sdcard\.img/);
  }, 2 * LONG);
});
