// Boot tier for the Pi kits: the CLI makes a project for a board, adds our static arm64 test
// program, builds, and QEMU's raspi3b boots what the built config.txt and cmdline.txt name, read
// from inside the built FAT image with native mtools. A second test boots sdcard.img with the
// root filesystem on its ext4 partition. QEMU never runs the Pi firmware: the boot-folder checks
// (workers/pi/check.ts, tests/kits/) cover what only the firmware reads.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTemp, hasCommand, must, mustCli, REPO, tempDir } from '../helpers.ts';
import { HELLO_TEXT, helloProgram } from '../fixtures/programs.ts';
import { runUntil, tail } from './qemu.ts';
import { boardById } from '../../workers/kits/boards.ts';

const QEMU = 'qemu-system-aarch64';
const KITS = process.env.BOOTSMITH_KITS || join(REPO, 'public', 'kits');
const ready = existsSync(join(KITS, 'pi3b', 'kit.json')) && hasCommand(QEMU) && hasCommand('mcopy');
const skip = !ready && !process.env.CI;
const TIMEOUT = 240_000;

afterAll(cleanupTemp);

/** config.txt's kernel= and initramfs lines (the [all] part is all our kits write). */
function bootFiles(config: string): { kernel: string; initramfs: string } {
  const kernel = /^kernel=(\S+)/m.exec(config)?.[1] ?? 'kernel8.img';
  const initramfs = /^initramfs\s+(\S+)/m.exec(config)?.[1];
  if (!initramfs) throw new Error(`config.txt names no initramfs:\n${config}`);
  return { kernel, initramfs };
}

/** Copies files out of a FAT image (`img` may be "sdcard.img@@4M" for a partition) with mtools. */
async function fromFat(img: string, name: string, dest: string): Promise<string> {
  await must('mcopy', ['-n', '-i', img, `::${name}`, dest], { env: { MTOOLS_SKIP_CHECK: '1' } });
  return dest;
}

async function bootFromFat(fat: string, dir: string, extra: string[] = []) {
  const config = await readFile(await fromFat(fat, 'config.txt', join(dir, 'config.txt')), 'utf8');
  const cmdline = (await readFile(await fromFat(fat, 'cmdline.txt', join(dir, 'cmdline.txt')), 'utf8')).split('\n')[0].trim();
  const { kernel, initramfs } = bootFiles(config);
  const dtb = boardById('pi3b')!.qemu!.dtb;
  await fromFat(fat, kernel, join(dir, 'kernel'));
  await fromFat(fat, initramfs, join(dir, 'initrd'));
  await fromFat(fat, dtb, join(dir, 'dtb'));
  return { config, cmdline, args: [
    '-M', 'raspi3b', '-accel', 'tcg,thread=single', '-nographic', '-monitor', 'none',
    '-kernel', join(dir, 'kernel'), '-dtb', join(dir, 'dtb'), '-initrd', join(dir, 'initrd'),
    '-append', cmdline, '-serial', 'null', '-serial', 'stdio', ...extra,
  ] };
}

describe.skipIf(skip)('Pi outputs boot in QEMU raspi3b', () => {
  it('the kits, QEMU and mtools are present (in CI a missing one fails here)', () => {
    expect(existsSync(join(KITS, 'pi3b', 'kit.json')), `${KITS}/pi3b/kit.json (run: bash kits/build.sh)`).toBe(true);
    expect(hasCommand(QEMU), `${QEMU} (apt-get install qemu-system-arm)`).toBe(true);
  });

  it('boot.vfat: config.txt and cmdline.txt from the image name a kernel and initramfs that boot and start our program', async () => {
    const dir = await tempDir('bootsmith-pi-');
    const proj = join(dir, 'puzzle.bootsmith');
    await mustCli(['new', '--board', 'pi3b', '--start', '/usr/bin/hello', '--after', 'shell', '--modules', 'spi', '-o', proj]);
    await mustCli(['add', proj, helloProgram('arm64'), '/usr/bin/hello', '--mode', '0755']);
    const out = join(dir, 'out');
    const built = await mustCli(['build', proj, '-o', out], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    for (const name of ['boot.zip', 'boot.vfat', 'sdcard.img', 'initramfs.cpio.gz']) expect(existsSync(join(out, name)), `${name}\n${built.stdout}`).toBe(true);
    const { args, config, cmdline } = await bootFromFat(join(out, 'boot.vfat'), dir);
    expect(config).toMatch(/^arm_64bit=1$/m);
    expect(cmdline).toContain('console=ttyS1');
    const run = await runUntil(QEMU, args, ['bootsmith: starting /usr/bin/hello', HELLO_TEXT, 'exited with status 0'], TIMEOUT);
    console.log(`[pi boot] initramfs from boot.vfat: ${run.seconds.toFixed(1)} s`);
    expect(run.matched, tail(run)).toBe(true);
    // The spi group was chosen: /init loaded it without complaint.
    expect(run.output, tail(run)).not.toMatch(/cannot load the kernel module/);
  }, TIMEOUT + 60_000);

  it('sdcard.img with an ext4 root: the initramfs loads the SD driver, mounts /dev/mmcblk0p2 and our program runs from it', async () => {
    const dir = await tempDir('bootsmith-pi-sd-');
    const proj = join(dir, 'sd.bootsmith');
    await mustCli(['new', '--board', 'pi3b', '--start', '/usr/bin/hello', '--outputs', 'sdcard,ext4', '-o', proj]);
    await mustCli(['add', proj, helloProgram('arm64'), '/usr/bin/hello', '--mode', '0755']);
    const out = join(dir, 'out');
    await mustCli(['build', proj, '-o', out], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    const img = join(out, 'sdcard.img');
    const table = JSON.parse((await must('sfdisk', ['--json', img])).stdout).partitiontable;
    expect(table.partitions.map((p: { type: string }) => p.type)).toEqual(['c', '83']);
    const bootStart = table.partitions[0].start * 512;
    const { args, cmdline } = await bootFromFat(`${img}@@${bootStart}`, dir, ['-drive', `if=sd,format=raw,file=${img}`]);
    expect(cmdline).toContain('root=/dev/mmcblk0p2');
    const run = await runUntil(QEMU, args, ['bootsmith: root file system /dev/mmcblk0p2', HELLO_TEXT], TIMEOUT);
    console.log(`[pi boot] sdcard.img with ext4 root: ${run.seconds.toFixed(1)} s`);
    expect(run.matched, tail(run)).toBe(true);
  }, TIMEOUT + 60_000);
});
