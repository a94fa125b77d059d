// Boot tier: initramfs images made by the CLI boot Debian's i386 kernel in QEMU (TCG) and run our
// /init, which prints markers computed at run time. Skipped only on a machine without QEMU or the
// kernel, and never in CI (CI set): there a missing asset is a failure.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTemp, cli, hasCommand, kernelAssets, mustCli, tempDir } from '../helpers.ts';

const QEMU = 'qemu-system-i386';
const { vmlinuz, busybox, present } = kernelAssets();
const canBoot = present && hasCommand(QEMU);
const skip = !canBoot && !process.env.CI;
const BOOT_TIMEOUT = 180_000;
const APPEND = 'console=ttyS0 quiet panic=-1 cryptomgr.notests noisapnp';

afterAll(cleanupTemp);

interface Boot {
  output: string;
  code: number | null;
  timedOut: boolean;
  seconds: number;
}

/** Boots the kernel with an initrd; returns the serial output once QEMU exits (poweroff, or a
 *  panic with panic=-1 and -no-reboot), a halted machine has said "Power down", or on timeout. */
function boot(initrd: string, timeoutMs = BOOT_TIMEOUT): Promise<Boot> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const q = spawn(QEMU, [
      '-accel', 'tcg', '-nographic', '-no-reboot', '-m', '256',
      '-kernel', vmlinuz, '-initrd', initrd, '-append', APPEND,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    let finished = false;
    const done = (code: number | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(grace);
      resolve({ output: output.replace(/\r/g, ''), code, timedOut, seconds: (Date.now() - started) / 1000 });
    };
    const timer = setTimeout(() => { timedOut = true; q.kill('SIGKILL'); }, timeoutMs);
    let grace: NodeJS.Timeout | undefined;
    const onData = (d: Buffer) => {
      output += d.toString('utf8');
      // a machine that halted instead of powering off keeps QEMU running: stop it shortly after
      if (!grace && /reboot: (Power down|System halted)/.test(output)) grace = setTimeout(() => q.kill('SIGKILL'), 3000);
    };
    q.stdout.on('data', onData);
    q.stderr.on('data', onData);
    q.on('error', reject);
    q.on('close', (code) => done(code));
  });
}

function report(name: string, b: Boot) {
  // eslint-disable-next-line no-console
  console.log(`[boot] ${name}: ${b.seconds.toFixed(1)} s, exit ${b.code}${b.timedOut ? ' (timed out)' : ''}`);
}

function explain(b: Boot): string {
  return `serial output (last 3000 chars):\n${b.output.slice(-3000)}`;
}

describe.skipIf(skip)('boot in QEMU (Debian i386 kernel, TCG)', () => {
  it('assets are present (in CI a missing kernel, busybox or QEMU fails here)', () => {
    expect(present, `kernel and busybox at ${vmlinuz}, ${busybox} (run: bash kits/fetch-x86-debian.sh)`).toBe(true);
    expect(hasCommand(QEMU), `${QEMU} on PATH (apt-get install qemu-system-x86)`).toBe(true);
  });

  it('a project made with new/add/build boots and runs its /init', async () => {
    const dir = await tempDir('bootsmith-boot-');
    const proj = join(dir, 'boot.bootsmith');
    await mustCli(['new', '--name', 'boot test', '-o', proj]);
    await mustCli(['add', proj, busybox, '/bin/busybox', '--mode', '0755']);
    const init = join(dir, 'init.sh');
    await writeFile(init, [
      '#!/bin/busybox sh',
      '# No /dev/console in this image: mount devtmpfs and take the console from there.',
      '/bin/busybox mount -t devtmpfs devtmpfs /dev',
      'exec </dev/console >/dev/console 2>&1',
      '/bin/busybox mount -t proc proc /proc',
      'root=$(/bin/busybox ls / | /bin/busybox tr "\\n" ",")',
      'echo "BOOTSMITH-INIT-OK kernel=$(/bin/busybox uname -r) sum=$((6*7)) root=$root"',
      '/bin/busybox grep -q cryptomgr.notests /proc/cmdline && echo "BOOTSMITH-PROC-OK pid=$$"',
      'echo BOOTSMITH-STAT $(/bin/busybox stat -c "%n:%a:%u:%g" /bin/busybox /init)',
      '/bin/busybox poweroff -f',
      '',
    ].join('\n'));
    await chmod(init, 0o644); // --mode must make it executable
    await mustCli(['add', proj, init, '/init', '--mode', '0755']);
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await mustCli(['add', proj, empty, '/proc']);
    await mustCli(['add', proj, empty, '/dev']);
    const out = join(dir, 'out');
    await mustCli(['build', proj, '-o', out]);

    const b = await boot(join(out, 'initramfs.cpio.gz'));
    report('project', b);
    expect(b.timedOut, explain(b)).toBe(false);
    expect(b.output, explain(b)).toMatch(/BOOTSMITH-INIT-OK kernel=\d+\.\d+\.\d+\S* sum=42 root=bin,dev,init,proc,(root,)?\s/); // the kernel itself makes /root
    expect(b.output, explain(b)).toMatch(/BOOTSMITH-PROC-OK pid=1\b/);
    expect(b.output, explain(b)).toContain('BOOTSMITH-STAT /bin/busybox:755:0:0 /init:755:0:0');
    expect(b.output).not.toMatch(/Kernel panic/);
    expect(b.output).not.toMatch(/Initramfs unpacking failed|unable to open an initial console/i);
  }, BOOT_TIMEOUT + 60_000);

  it('negative control: an /init without execute permission makes the kernel panic (modes reach the kernel)', async () => {
    const dir = await tempDir('bootsmith-boot-');
    await writeFile(join(dir, 'init.sh'), '#!/bin/busybox sh\necho BOOTSMITH-SHOULD-NOT-RUN\n/bin/busybox poweroff -f\n');
    await writeFile(join(dir, 'initramfs.list'), [
      'dir /dev 0755 0 0',
      'nod /dev/console 0600 0 0 c 5 1',
      'dir /bin 0755 0 0',
      `file /bin/busybox ${busybox} 0755 0 0`,
      // no /bin/sh: the kernel falls back to it when /init cannot run, and would wait in a shell
      'file /init init.sh 0644 0 0',
      '',
    ].join('\n'));
    const gz = join(dir, 'noexec.cpio.gz');
    await mustCli(['initramfs', 'initramfs.list', '-o', gz], { cwd: dir });
    const b = await boot(gz);
    report('noexec', b);
    expect(b.timedOut, explain(b)).toBe(false);
    expect(b.output).not.toContain('BOOTSMITH-SHOULD-NOT-RUN');
    expect(b.output, explain(b)).toMatch(/Kernel panic/);
    expect(b.output, explain(b)).toMatch(/No working init found/);
  }, BOOT_TIMEOUT + 60_000);

  it('a list that does not name a file\'s folders: the file still reaches the kernel (or the CLI refuses it)', async () => {
    // The kernel's unpacker drops a file whose parent folder is missing; GNU cpio -d hides that.
    const dir = await tempDir('bootsmith-boot-');
    await writeFile(join(dir, 'init.sh'), '#!/opt/tools/busybox sh\necho BOOTSMITH-PARENTS-OK\n/opt/tools/busybox poweroff -f\n');
    await writeFile(join(dir, 'initramfs.list'), [
      'dir /dev 0755 0 0',
      'nod /dev/console 0600 0 0 c 5 1',
      'file /init init.sh 0755 0 0',
      `file /opt/tools/busybox ${busybox} 0755 0 0`,
      '',
    ].join('\n'));
    const gz = join(dir, 'parents.cpio.gz');
    const r = await cli(['initramfs', 'initramfs.list', '-o', gz], { cwd: dir });
    if (r.code !== 0) {
      expect(r.stderr).toContain('/opt');
      return;
    }
    const b = await boot(gz);
    report('parents', b);
    expect(b.output, explain(b)).toContain('BOOTSMITH-PARENTS-OK');
    expect(b.output, explain(b)).not.toMatch(/Kernel panic/);
  }, BOOT_TIMEOUT + 60_000);

  it('a gen_init_cpio list with /dev/console (nod c 5 1) gives /init a working console', async () => {
    const dir = await tempDir('bootsmith-boot-');
    const init = join(dir, 'init.sh');
    await writeFile(init, [
      '#!/bin/sh',
      '# Our device node is the only console: no devtmpfs, no redirection.',
      'echo "BOOTSMITH-CONSOLE-OK sum=$((6*7))"',
      '/bin/busybox mount -t proc proc /proc',
      'echo "BOOTSMITH-TTY $(/bin/busybox readlink /proc/$$/fd/1)"',
      'echo BOOTSMITH-DEV $(/bin/busybox stat -c "%n:%f:%u:%g:%t:%T" /dev/console /dev/null /dev/vdz)',
      'echo "BOOTSMITH-OWNED $(/bin/busybox stat -c "%a:%u:%g:%s" /owned) $(/bin/busybox cat /owned)"',
      'echo discard >/dev/null && echo BOOTSMITH-NULL-OK',
      '/bin/busybox test -p /run/fifo && echo BOOTSMITH-FIFO-OK',
      '/bin/busybox test -S /run/sock && echo BOOTSMITH-SOCK-OK',
      '/bin/busybox poweroff -f',
      '',
    ].join('\n'));
    await writeFile(join(dir, 'owned'), 'owned');
    const list = join(dir, 'initramfs.list');
    await writeFile(list, [
      'dir /dev 0755 0 0',
      'nod /dev/console 0600 0 0 c 5 1',
      'nod /dev/null 0666 0 0 c 1 3',
      'nod /dev/vdz 0640 0 6 b 8 3',
      'dir /bin 0755 0 0',
      `file /bin/busybox ${busybox} 0755 0 0`,
      'slink /bin/sh busybox 0777 0 0',
      'file /init init.sh 0755 0 0',
      'dir /proc 0755 0 0',
      'file /owned owned 4750 1000 100',
      'dir /run 0755 0 0',
      'pipe /run/fifo 0620 0 0',
      'sock /run/sock 0600 0 0',
      '',
    ].join('\n'));
    const gz = join(dir, 'list.cpio.gz');
    await mustCli(['initramfs', list, '-o', gz], { cwd: dir });

    const b = await boot(gz);
    report('list', b);
    expect(b.timedOut, explain(b)).toBe(false);
    expect(b.output, explain(b)).toMatch(/BOOTSMITH-CONSOLE-OK sum=42/);
    expect(b.output, explain(b)).toContain('BOOTSMITH-TTY /dev/console');
    expect(b.output, explain(b)).toContain('BOOTSMITH-DEV /dev/console:2180:0:0:5:1 /dev/null:21b6:0:0:1:3 /dev/vdz:61a0:0:6:8:3');
    expect(b.output, explain(b)).toContain('BOOTSMITH-OWNED 4750:1000:100:5 owned');
    expect(b.output, explain(b)).toContain('BOOTSMITH-NULL-OK');
    expect(b.output, explain(b)).toContain('BOOTSMITH-FIFO-OK');
    expect(b.output, explain(b)).toContain('BOOTSMITH-SOCK-OK');
    expect(b.output).not.toMatch(/Kernel panic/);
    expect(b.output).not.toMatch(/unable to open an initial console/i);
  }, BOOT_TIMEOUT + 60_000);
});
