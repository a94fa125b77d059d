// Boot tier for the pc kit (x86): QEMU's i440FX PC starts the kit's own SeaBIOS and kernel with an
// initramfs and a disk made by the CLI, as v86 will in the page. The first boot proves the kernel
// has what the kit promises built in (serial console, gzip initramfs, devtmpfs, ata_piix + sd +
// ext4 on /dev/sda, ACPI poweroff); the second boots sdcard.img with the root on its ext4
// partition (/dev/sda2) and mounts the FAT boot partition (vfat, codepage 437, iso8859-1).
// Skipped without the kit or QEMU, except in CI.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTemp, hasCommand, must, mustCli, REPO, tempDir } from '../helpers.ts';
import { HELLO_TEXT, helloProgram } from '../fixtures/programs.ts';

const QEMU = 'qemu-system-i386';
const KITS = process.env.BOOTSMITH_KITS || join(REPO, 'public', 'kits');
const ready = existsSync(join(KITS, 'pc', 'kit.json')) && hasCommand(QEMU) && hasCommand('mcopy') && hasCommand('unzip');
const skip = !ready && !process.env.CI;
const TIMEOUT = 240_000;
const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };

afterAll(cleanupTemp);

interface Boot {
  output: string;
  code: number | null;
  timedOut: boolean;
  seconds: number;
  /** Seconds after QEMU started at which each watched text first appeared. */
  at: Record<string, number>;
}

/** Runs QEMU until it exits by itself (the guest powers off; -no-reboot turns a reboot or panic
 *  into an exit too) or the timeout. */
function qemu(args: string[], watch: string[], timeoutMs = TIMEOUT): Promise<Boot> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const q = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    const at: Record<string, number> = {};
    const timer = setTimeout(() => { timedOut = true; q.kill('SIGKILL'); }, timeoutMs);
    const onData = (d: Buffer) => {
      output += d.toString('utf8');
      for (const w of watch) if (!(w in at) && output.includes(w)) at[w] = (Date.now() - started) / 1000;
    };
    q.stdout.on('data', onData);
    q.stderr.on('data', onData);
    q.on('error', reject);
    q.on('close', (code) => {
      clearTimeout(timer);
      resolve({ output: output.replace(/\r/g, ''), code, timedOut, seconds: (Date.now() - started) / 1000, at });
    });
  });
}

const explain = (b: Boot) => `serial output after ${b.seconds.toFixed(1)} s (last 3000 chars):\n${b.output.slice(-3000)}`;

interface KitFile { part: string; path: string; sha256: string }
const kitFile = (part: string, path: string): string => {
  const kit = JSON.parse(readFileSync(join(KITS, 'pc', 'kit.json'), 'utf8')) as { files: KitFile[] };
  const f = kit.files.find((x) => x.part === part && x.path === path);
  if (!f) throw new Error(`the pc kit has no ${part}/${path}`);
  return join(KITS, 'blobs', f.sha256);
};

/** QEMU's PC with the kit's BIOS, one CPU, the serial port on stdio. */
function pcArgs(dir: string, cmdline: string, disk?: string): string[] {
  return [
    '-M', 'pc', '-accel', 'tcg', '-m', '256', '-nographic', '-monitor', 'none', '-no-reboot',
    '-bios', kitFile('emulator', 'bios.bin'),
    '-kernel', join(dir, 'vmlinuz'), '-initrd', join(dir, 'initramfs.cpio.gz'), '-append', cmdline,
    ...(disk ? ['-drive', `file=${disk},format=raw,if=ide`] : []),
  ];
}

describe.skipIf(skip)('the pc kit boots in QEMU (qemu-system-i386, TCG)', () => {
  it('the kit, QEMU, mtools and unzip are present (in CI a missing one fails here)', () => {
    expect(existsSync(join(KITS, 'pc', 'kit.json')), `${KITS}/pc/kit.json (run: bash kits/build.sh)`).toBe(true);
    expect(hasCommand(QEMU), `${QEMU} (apt-get install qemu-system-x86)`).toBe(true);
  });

  it('a pc project builds just the initramfs by default', async () => {
    const dir = await tempDir('bootsmith-pc-');
    const proj = join(dir, 'p.bootsmith');
    await mustCli(['new', '--board', 'pc', '--start', "/bin/sh -c 'echo hi'", '-o', proj]);
    const out = join(dir, 'out');
    const built = await mustCli(['build', proj, '-o', out], { env: EPOCH });
    expect(built.stdout).toMatch(/initramfs\.cpio\.gz/);
    expect(built.stdout).not.toMatch(/boot\.zip|boot\.vfat|sdcard\.img|rootfs\.ext4/);
  });

  it('the initramfs starts our program, the kernel reads an ext4 disk on /dev/sda, and poweroff switches QEMU off', async () => {
    const dir = await tempDir('bootsmith-pc-');
    const proj = join(dir, 'pc.bootsmith');
    await mustCli(['new', '--board', 'pc', '--start', '/bin/sh /usr/bin/check.sh', '--after', 'poweroff', '--outputs', 'initramfs,zip', '-o', proj]);
    await mustCli(['add', proj, helloProgram('i386'), '/usr/bin/hello', '--mode', '0755']);
    await writeFile(join(dir, 'check.sh'), [
      'echo "PC-UNAME $(uname -r) $(uname -m)"',
      'mkdir -p /mnt/disk && mount -t ext4 -o ro /dev/sda /mnt/disk && echo "PC-EXT4 $(cat /mnt/disk/marker.txt)"',
      'grep -q "tsc=reliable" /proc/cmdline && echo PC-CMDLINE-OK',
      '/usr/bin/hello',
      '',
    ].join('\n'));
    await mustCli(['add', proj, join(dir, 'check.sh'), '/usr/bin/check.sh', '--mode', '0755']);
    const out = join(dir, 'out');
    await mustCli(['build', proj, '-o', out], { env: EPOCH });
    // Boot what the project's boot folder holds: vmlinuz (the kit's) and cmdline.txt.
    await must('unzip', ['-o', '-q', join(out, 'boot.zip'), 'vmlinuz', 'cmdline.txt', 'initramfs.cpio.gz', '-d', dir]);
    expect(readFileSync(join(dir, 'vmlinuz')).equals(readFileSync(kitFile('boot', 'vmlinuz'))), 'vmlinuz is the kit\'s').toBe(true);
    const cmdline = (await readFile(join(dir, 'cmdline.txt'), 'utf8')).split('\n')[0].trim();
    expect(cmdline).toBe('console=ttyS0 tsc=reliable rdinit=/init');
    // A disk made by the engine's ext4 builder (the CLI), attached as the first IDE disk.
    const content = join(dir, 'disk');
    await mkdir(content);
    await writeFile(join(content, 'marker.txt'), 'ext4-on-sda-ok\n');
    await mustCli(['ext4', content, '-o', join(dir, 'disk.ext4'), '--size', '8M'], { env: EPOCH });

    const b = await qemu(pcArgs(dir, cmdline, join(dir, 'disk.ext4')), ['bootsmith: starting', HELLO_TEXT, 'reboot: Power down']);
    console.log(`[pc boot] initramfs + ext4 disk: /init's program at ${b.at['bootsmith: starting']?.toFixed(1)} s, powered off at ${b.at['reboot: Power down']?.toFixed(1)} s, QEMU exited at ${b.seconds.toFixed(1)} s (code ${b.code})`);
    expect(b.timedOut, explain(b)).toBe(false);
    expect(b.output, explain(b)).toMatch(/PC-UNAME 6\.1\.\d+-bootsmith i686/);
    expect(b.output, explain(b)).toContain('PC-EXT4 ext4-on-sda-ok');
    expect(b.output, explain(b)).toContain('PC-CMDLINE-OK');
    expect(b.output, explain(b)).toContain(HELLO_TEXT);
    expect(b.output, explain(b)).toContain('reboot: Power down');
    expect(b.code, 'QEMU exits by itself (ACPI poweroff)').toBe(0);
    expect(b.output).not.toMatch(/Kernel panic|cannot load the kernel module/);
  }, TIMEOUT + 60_000);

  it('sdcard.img with the ext4 root: /init mounts /dev/sda2 and our program runs from it; the FAT boot partition mounts as vfat', async () => {
    const dir = await tempDir('bootsmith-pc-sd-');
    const proj = join(dir, 'sd.bootsmith');
    await mustCli(['new', '--board', 'pc', '--start', '/bin/sh /usr/bin/check.sh', '--after', 'poweroff', '--outputs', 'ext4', '-o', proj]);
    await mustCli(['add', proj, helloProgram('i386'), '/usr/bin/hello', '--mode', '0755']);
    await writeFile(join(dir, 'check.sh'), [
      'echo "PC-ROOT $(grep " / " /proc/mounts | grep -v rootfs)"',
      'mkdir -p /mnt/boot && mount -t vfat -o ro /dev/sda1 /mnt/boot && echo "PC-VFAT $(ls /mnt/boot | tr "\\n" " ")"',
      '/usr/bin/hello',
      '',
    ].join('\n'));
    await mustCli(['add', proj, join(dir, 'check.sh'), '/usr/bin/check.sh', '--mode', '0755']);
    const out = join(dir, 'out');
    const built = await mustCli(['build', proj, '-o', out], { env: EPOCH });
    for (const name of ['sdcard.img', 'rootfs.ext4', 'initramfs.cpio.gz']) expect(existsSync(join(out, name)), `${name}\n${built.stdout}`).toBe(true);
    const img = join(out, 'sdcard.img');
    const table = JSON.parse((await must('sfdisk', ['--json', img])).stdout).partitiontable;
    expect(table.partitions.map((p: { type: string }) => p.type)).toEqual(['c', '83']);
    // Boot what the FAT partition holds, as a loader would.
    const fat = `${img}@@${table.partitions[0].start * 512}`;
    for (const name of ['vmlinuz', 'cmdline.txt', 'initramfs.cpio.gz']) {
      await must('mcopy', ['-n', '-i', fat, `::${name}`, join(dir, name)], { env: { MTOOLS_SKIP_CHECK: '1' } });
    }
    const cmdline = (await readFile(join(dir, 'cmdline.txt'), 'utf8')).split('\n')[0].trim();
    expect(cmdline).toBe('console=ttyS0 tsc=reliable rdinit=/init root=/dev/sda2 rootwait');
    // QEMU takes the image as it is; keep the built one untouched.
    const disk = join(dir, 'disk.img');
    await copyFile(img, disk);

    const b = await qemu(pcArgs(dir, cmdline, disk), ['bootsmith: root file system /dev/sda2', HELLO_TEXT, 'reboot: Power down']);
    console.log(`[pc boot] sdcard.img with ext4 root: root mounted at ${b.at['bootsmith: root file system /dev/sda2']?.toFixed(1)} s, program ran at ${b.at[HELLO_TEXT]?.toFixed(1)} s, QEMU exited at ${b.seconds.toFixed(1)} s (code ${b.code})`);
    expect(b.timedOut, explain(b)).toBe(false);
    expect(b.output, explain(b)).toContain('bootsmith: root file system /dev/sda2');
    expect(b.output, explain(b)).toMatch(/PC-ROOT \/dev\/sda2 \/ ext4 /);
    expect(b.output, explain(b)).toMatch(/PC-VFAT .*cmdline\.txt .*initramfs\.cpio\.gz .*vmlinuz/);
    expect(b.output, explain(b)).toContain(HELLO_TEXT);
    expect(b.code, 'QEMU exits by itself (ACPI poweroff)').toBe(0);
  }, TIMEOUT + 60_000);
});
