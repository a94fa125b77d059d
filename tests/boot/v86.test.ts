// Boot tier, x86: images built by the engine boot in v86 in Node (the same runner the app uses in
// a Web Worker), and a shell on the serial console answers scripted commands. Uses the pc kit
// when it has been assembled, else Debian's 686 kernel; skipped only when neither is present
// (in CI, where set-up fetches Debian's, a missing kernel fails the first test).
import { describe, expect, it } from 'vitest';
import { openAsBlob } from 'node:fs';
import type { Entry } from '../../workers/model/entry.ts';
import { blankProject } from '../../workers/model/project.ts';
import { buildExt4Output, buildInitramfs, imageEntries } from '../../workers/pipeline.ts';
import { useToolsFromDisk } from '../../workers/wasi/node-tools.ts';
import type { ChunkedFile } from '../../workers/wasi/store.ts';
import { type BootHandle, type BootOptions, BootError, autoMemoryMiB, startBoot } from '../../workers/boot/v86.ts';
import { nodeV86Wasm } from '../../workers/boot/node.ts';
import { SerialShell } from '../../workers/boot/session.ts';
import { MISSING_ASSETS, pcKit, x86Assets } from './v86-assets.ts';

const assets = x86Assets();
const skip = !assets && !process.env.CI;
if (skip) console.warn(`[v86] skipped: ${MISSING_ASSETS}`);
const BOOT_TIMEOUT = 120_000;
const T = 1_700_000_000;

const dir = (path: string, mode = 0o755): Entry => ({ path, type: 'dir', mode, uid: 0, gid: 0, mtime: T });
const text = (path: string, content: string, mode = 0o644): Entry => ({ path, type: 'file', mode, uid: 0, gid: 0, mtime: T, data: new Blob([content]) });

/** A root filesystem with busybox and an /init (a busybox sh script). */
async function rootTree(init: string, extra: Entry[] = []): Promise<Entry[]> {
  return [
    dir('/bin'), dir('/dev'), dir('/etc'), dir('/proc'), dir('/sys'), dir('/tmp', 0o1777),
    { path: '/dev/console', type: 'char', mode: 0o600, uid: 0, gid: 0, mtime: T, major: 5, minor: 1 },
    { path: '/bin/busybox', type: 'file', mode: 0o755, uid: 0, gid: 0, mtime: T, data: await openAsBlob(assets!.busybox) },
    { path: '/bin/sh', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: T, target: 'busybox' },
    text('/init', init, 0o755),
    ...extra,
  ];
}

/** An /init that sets up /proc, /sys and /dev and gives the console a shell. */
const SHELL_INIT = [
  '#!/bin/busybox sh',
  '/bin/busybox mount -t proc proc /proc',
  '/bin/busybox mount -t sysfs sysfs /sys',
  '/bin/busybox mount -t devtmpfs devtmpfs /dev',
  '/bin/busybox --install -s /bin',
  'echo "BOOTSMITH-V86-INIT pid=$$"',
  // cttyhack finds the real console (ttyS0) so that the shell gets job control and Ctrl-C.
  'exec setsid cttyhack sh',
  '',
].join('\n');

async function initramfs(entries: Entry[]): Promise<Blob> {
  const project = { ...blankProject('v86 test', T * 1000), entries };
  const out = await buildInitramfs(project, { sourceDateEpoch: T });
  return out.data as Blob;
}

function bootOptions(extra: Partial<BootOptions>): Promise<BootOptions> {
  return (async () => ({
    wasm: nodeV86Wasm,
    bios: await openAsBlob(assets!.bios),
    kernel: await openAsBlob(assets!.kernel),
    cmdline: assets!.cmdline,
    ...extra,
  }))();
}

function report(name: string, b: BootHandle, extra = '', kernel = assets!.name) {
  // eslint-disable-next-line no-console
  console.log(`[v86] ${kernel}, ${name}: ${(b.elapsedMs() / 1000).toFixed(1)} s, ${(b.instructions() / 1e9).toFixed(2)} G instructions${extra}`);
}

const tail = (b: BootHandle) => `console (last 3000 chars):\n${b.text().slice(-3000)}`;

describe.skipIf(skip)('boot in v86 (Node)', () => {
  it('assets are present (in CI a missing kernel, busybox or BIOS fails here)', () => {
    expect(assets, MISSING_ASSETS).toBeDefined();
  });

  it('an initramfs built by the engine boots to a shell that answers scripted commands', async () => {
    const hello = 'hello from the project\nsecond line';
    const rd = await initramfs(await rootTree(SHELL_INIT, [text('/etc/hello.txt', hello)]));
    const boot = await startBoot(await bootOptions({ initrd: rd }));
    try {
      expect(boot.memoryMiB).toBe(autoMemoryMiB(rd.size));
      expect(boot.memoryMiB).toBeGreaterThan(64 + rd.size / 2 ** 20);
      const shell = new SerialShell(boot, { timeoutMs: 30_000 });
      await shell.ready({ timeoutMs: BOOT_TIMEOUT });
      const kernel = await boot.milestones.kernel;
      const init = await boot.milestones.init;
      report('to a shell', boot, ` (kernel at ${(kernel.ms / 1000).toFixed(1)} s, /init at ${(init.ms / 1000).toFixed(1)} s)`);
      expect(kernel.ms).toBeLessThanOrEqual(init.ms);
      expect(kernel.instructions).toBeGreaterThan(0);
      expect(init.instructions).toBeGreaterThan(kernel.instructions);
      expect(boot.text(), tail(boot)).toContain('BOOTSMITH-V86-INIT pid=1');

      expect(await shell.run('uname -m')).toMatchObject({ output: expect.stringMatching(/^i[3-6]86$/), status: 0 });
      expect((await shell.run('cat /proc/cmdline')).output).toBe(assets!.cmdline);
      expect(await shell.run('echo $((6*7))')).toMatchObject({ output: '42', status: 0 });
      expect(await shell.run('cat /etc/hello.txt')).toMatchObject({ output: hello, status: 0 });
      expect(await shell.run('stat -c %a:%u:%g /bin/busybox /init')).toMatchObject({ output: '755:0:0\n755:0:0' });
      expect(await shell.run('false')).toMatchObject({ output: '', status: 1 });
      expect(await shell.run('ls /nonexistent')).toMatchObject({ output: expect.stringContaining('No such file'), status: 1 });
      // Longer than the 80 columns the line editor wraps at, and a trailing comment.
      const long = 'x'.repeat(150);
      expect(await shell.run(`echo ${long} | wc -c # count`)).toMatchObject({ output: '151', status: 0 });
      // Sleeping waits (an i386 busybox sleeps through the 32-bit time system calls).
      const slept = await shell.run('sleep 1 && echo woke');
      expect(slept).toMatchObject({ output: 'woke', status: 0 });
      expect(slept.ms).toBeGreaterThanOrEqual(900);
      // State persists between commands: it is one shell.
      await shell.run('cd /etc && V=kept');
      expect((await shell.run('echo $PWD $V')).output).toBe('/etc kept');
      // No escape sequences (ESC[6n after each prompt) in what run() returns.
      expect((await shell.run('echo done')).output).toBe('done');
      expect(boot.text()).not.toContain('\x1b');
    } finally {
      await boot.stop();
    }
    expect((await boot.ended).kind).toBe('stopped');
  }, BOOT_TIMEOUT + 60_000);

  it('restart() power-cycles the machine: the kernel boots again and /init runs anew', async () => {
    // PID 1 stays alive reading the console (nothing is typed).
    const init = '#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\necho "BOOTSMITH-BOOT $(/bin/busybox cut -d" " -f1 /proc/uptime)"\nexec /bin/busybox cat\n';
    const boot = await startBoot(await bootOptions({ initrd: await initramfs(await rootTree(init)) }));
    try {
      const first = await boot.waitFor(/BOOTSMITH-BOOT ([\d.]+)/, { timeoutMs: BOOT_TIMEOUT });
      const before = boot.instructions();
      await boot.restart();
      expect(boot.instructions()).toBeLessThan(before);
      const second = await boot.waitFor(/BOOTSMITH-BOOT ([\d.]+)/, { from: first.end, timeoutMs: BOOT_TIMEOUT });
      await boot.milestones.init;
      report('after restart', boot);
      expect(second.index).toBeGreaterThan(first.index);
    } finally {
      await boot.stop();
    }
  }, 2 * BOOT_TIMEOUT + 60_000);

  it('a kernel panic (no /init in the initramfs) is recognised, with the lines that explain it', async () => {
    const entries = (await rootTree('')).filter((e) => e.path !== '/init');
    const boot = await startBoot(await bootOptions({ initrd: await initramfs(entries) }));
    try {
      const end = await Promise.race([boot.ended, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no panic')), BOOT_TIMEOUT))]);
      report('to the panic', boot);
      expect(end.kind, tail(boot)).toBe('panic');
      // No /init: the kernel looks for a root device, which does not exist.
      expect(end.reason).toMatch(/VFS: Unable to mount root fs|No working init found/);
      expect(end.summary).toBe(`kernel panic: ${end.reason}`);
      expect(end.lines.at(-1)).toContain('Kernel panic - not syncing');
      expect(end.instructions).toBeGreaterThan(0);
      await expect(boot.milestones.init).rejects.toBeInstanceOf(BootError);
      await expect(boot.waitFor('NEVER')).rejects.toThrow(/kernel panic/);
    } finally {
      await boot.stop();
    }
  }, BOOT_TIMEOUT + 60_000);

  it('/init exiting is recognised with its exit status', async () => {
    const init = '#!/bin/busybox sh\necho "BOOTSMITH-LEAVING"\nexit 3\n';
    const boot = await startBoot(await bootOptions({ initrd: await initramfs(await rootTree(init)) }));
    try {
      const end = await Promise.race([boot.ended, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no end')), BOOT_TIMEOUT))]);
      report('to /init exiting', boot);
      expect(end.kind, tail(boot)).toBe('init-exit');
      expect(end.status).toBe(3);
      expect(end.summary).toMatch(/\/init exited with status 3/);
      expect(end.lines.join('\n')).toContain('Attempted to kill init! exitcode=0x00000300');
      expect(boot.text()).toContain('BOOTSMITH-LEAVING');
      // It got as far as /init.
      expect((await boot.milestones.init).name).toBe('init');
    } finally {
      await boot.stop();
    }
  }, BOOT_TIMEOUT + 60_000);

  const kit = pcKit();
  it.skipIf(!kit)('an ext4 image built by the engine is the root filesystem on /dev/sda (pc kit kernel)', async () => {
    useToolsFromDisk();
    const init = [
      '#!/bin/busybox sh',
      '/bin/busybox mount -t proc proc /proc',
      '/bin/busybox mount -t sysfs sysfs /sys',
      '/bin/busybox mount -t devtmpfs devtmpfs /dev',
      '/bin/busybox --install -s /bin',
      'echo "BOOTSMITH-DISK-INIT"',
      'exec setsid cttyhack sh',
      '',
    ].join('\n');
    const entries = await rootTree(init, [text('/etc/hello.txt', 'on the disk')]);
    const project = { ...blankProject('v86 disk', T * 1000), entries, ext4: { ...blankProject('x').ext4, enabled: true } };
    const built = await buildExt4Output(project, imageEntries(entries, T), { epoch: T });
    expect(built.check?.clean).toBe(true);
    const disk = built.data as ChunkedFile;
    const cmdline = `${kit!.cmdline} root=/dev/sda rw rootfstype=ext4 rootwait init=/init`;
    const boot = await startBoot(await bootOptions({ kernel: await openAsBlob(kit!.kernel), bios: await openAsBlob(kit!.bios), disk, cmdline }));
    try {
      const shell = new SerialShell(boot);
      await shell.ready({ timeoutMs: BOOT_TIMEOUT });
      report('ext4 root to a shell', boot, '', kit!.name);
      expect((await shell.run('cat /proc/cmdline')).output).toBe(cmdline);
      expect((await shell.run('cat /etc/hello.txt')).output).toBe('on the disk');
      expect((await shell.run("grep ' / ' /proc/mounts")).output).toMatch(/^\/dev\/(root|sda) \/ ext4 rw/);
      expect(await shell.run('echo written > /written && sync && cat /written')).toMatchObject({ output: 'written', status: 0 });
    } finally {
      await boot.stop();
    }
    // The guest wrote into the image in place.
    expect(Buffer.from(disk.toUint8Array()).includes(Buffer.from('written\n'))).toBe(true);
  }, BOOT_TIMEOUT + 60_000);
});

describe('boot options', () => {
  it('refuses too little memory for the initramfs, and a kernel that is not a bzImage', async () => {
    const opts = { wasm: nodeV86Wasm, bios: new Uint8Array(64), cmdline: '' };
    await expect(startBoot({ ...opts, kernel: new Uint8Array(4096) })).rejects.toThrow(/not an x86 bzImage/);
    const bz = new Uint8Array(4096);
    bz.set([0x48, 0x64, 0x72, 0x53], 0x202);
    await expect(startBoot({ ...opts, kernel: bz, initrd: new Uint8Array(8 << 20), memoryMiB: 64 })).rejects.toThrow(/too little memory/);
    await expect(startBoot({ ...opts, wasm: async () => new Uint8Array([1, 2, 3]), kernel: bz })).rejects.toThrow(WebAssembly.CompileError);
    expect(autoMemoryMiB(0)).toBe(128);
    expect(autoMemoryMiB(1 << 20)).toBe(128);
    expect(autoMemoryMiB(40 << 20)).toBeGreaterThanOrEqual(64 + 40 + 4 * 40);
  });
});
