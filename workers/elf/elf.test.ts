import { existsSync, openAsBlob } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../model/entry.ts';
import { checkBinaries, inspectElf } from './elf.ts';

// --- a tiny ELF writer: header, program headers, then PT_INTERP, .dynstr and .dynamic, all in one
// PT_LOAD segment mapped at BASE, so DT_STRTAB (an address) maps back to a file offset.

interface Spec {
  bits?: 32 | 64;
  le?: boolean;
  machine: number;
  type?: number; // ET_EXEC 2, ET_DYN 3, ET_REL 1
  flags?: number;
  interp?: string;
  needed?: string[];
  soname?: string;
  runpath?: string;
  pie?: boolean;
  /** Add a PT_DYNAMIC even without needed libraries. */
  dynamic?: boolean;
}

const BASE = 0x10000;

function elf(s: Spec): Uint8Array {
  const b64 = (s.bits ?? 64) === 64;
  const le = s.le ?? true;
  const ehsize = b64 ? 64 : 52, phentsize = b64 ? 56 : 32, dynent = b64 ? 16 : 8;
  const enc = new TextEncoder();
  // .dynstr
  const strs: number[] = [0];
  const strOff = (t: string) => { const o = strs.length; strs.push(...enc.encode(t), 0); return o; };
  const dyn: [number, number][] = [];
  for (const n of s.needed ?? []) dyn.push([1, strOff(n)]);
  if (s.soname) dyn.push([14, strOff(s.soname)]);
  if (s.runpath) dyn.push([29, strOff(s.runpath)]);
  if (s.pie) dyn.push([0x6ffffffb, 0x08000000]);
  const hasDyn = dyn.length > 0 || !!s.dynamic;
  const interp = s.interp !== undefined ? [...enc.encode(s.interp), 0] : undefined;
  const phnum = 1 + (interp ? 1 : 0) + (hasDyn ? 1 : 0);
  const interpOff = ehsize + phnum * phentsize;
  const strtabOff = interpOff + (interp?.length ?? 0);
  const dynOff = (strtabOff + strs.length + 7) & ~7;
  dyn.push([5, BASE + strtabOff], [10, strs.length], [0, 0]);
  const size = dynOff + (hasDyn ? dyn.length * dynent : 0);
  const buf = new Uint8Array(size);
  const v = new DataView(buf.buffer);
  const w = (o: number, n: number) => (b64 ? v.setBigUint64(o, BigInt(n), le) : v.setUint32(o, n, le));
  buf.set([0x7f, 0x45, 0x4c, 0x46, b64 ? 2 : 1, le ? 1 : 2, 1], 0);
  v.setUint16(16, s.type ?? 2, le);
  v.setUint16(18, s.machine, le);
  v.setUint32(20, 1, le);
  w(24, BASE); // e_entry
  w(b64 ? 32 : 28, ehsize); // e_phoff
  v.setUint32(b64 ? 48 : 36, s.flags ?? 0, le);
  v.setUint16(b64 ? 52 : 40, ehsize, le);
  v.setUint16(b64 ? 54 : 42, phentsize, le);
  v.setUint16(b64 ? 56 : 44, phnum, le);
  let ph = ehsize;
  const phdr = (type: number, off: number, filesz: number) => {
    v.setUint32(ph, type, le);
    if (b64) { w(ph + 8, off); w(ph + 16, BASE + off); w(ph + 24, BASE + off); w(ph + 32, filesz); w(ph + 40, filesz); }
    else { w(ph + 4, off); w(ph + 8, BASE + off); w(ph + 12, BASE + off); w(ph + 16, filesz); w(ph + 20, filesz); }
    ph += phentsize;
  };
  phdr(1, 0, size);
  if (interp) { phdr(3, interpOff, interp.length); buf.set(interp, interpOff); }
  buf.set(strs, strtabOff);
  if (hasDyn) {
    phdr(2, dynOff, dyn.length * dynent);
    dyn.forEach(([tag, val], i) => { w(dynOff + i * dynent, tag); w(dynOff + i * dynent + (b64 ? 8 : 4), val); });
  }
  return buf;
}

const blob = (b: Uint8Array) => new Blob([b as BlobPart]);
/** A Blob that counts the bytes read through it. */
function counting(inner: Blob): { blob: Blob; read: () => number } {
  let n = 0;
  const wrap = (b: Blob): Blob => ({
    size: b.size,
    slice: (start?: number, end?: number) => {
      const s = b.slice(start, end);
      n += s.size;
      return s;
    },
  }) as unknown as Blob;
  return { blob: wrap(inner), read: () => n };
}

const AARCH64 = 183, X86_64 = 62, I386 = 3, ARM = 40;
const LD_A64 = '/lib/ld-linux-aarch64.so.1';

describe('inspectElf', () => {
  it('reads a static little-endian aarch64 executable', async () => {
    expect(await inspectElf(blob(elf({ machine: AARCH64 })))).toEqual({
      bits: 64, endian: 'little', machine: 183, arch: 'arm64', type: 'exec', linking: 'static', needed: [], runpath: [],
    });
  });

  it('reads an x86-64 dynamic program: interpreter, needed libraries, runpath', async () => {
    const i = await inspectElf(blob(elf({ machine: X86_64, type: 3, pie: true, interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libfoo.so.1', 'libc.so.6'], runpath: '$ORIGIN/../lib:/opt/x' })));
    expect(i).toMatchObject({ bits: 64, arch: 'x86_64', type: 'dyn', linking: 'dynamic', interpreter: '/lib64/ld-linux-x86-64.so.2', needed: ['libfoo.so.1', 'libc.so.6'], runpath: ['$ORIGIN/../lib', '/opt/x'] });
  });

  it('reads 32-bit i386 and ARM files, with the ARM EABI version', async () => {
    expect(await inspectElf(blob(elf({ bits: 32, machine: I386, interp: '/lib/ld-linux.so.2', needed: ['libc.so.6'] }))))
      .toMatchObject({ bits: 32, arch: 'i386', linking: 'dynamic', interpreter: '/lib/ld-linux.so.2', needed: ['libc.so.6'] });
    expect(await inspectElf(blob(elf({ bits: 32, machine: ARM, flags: 0x05000400 })))).toMatchObject({ bits: 32, arch: 'arm', armEabi: 5, linking: 'static' });
  });

  it('tells static-pie from a shared library, and reads big-endian files', async () => {
    expect((await inspectElf(blob(elf({ machine: AARCH64, type: 3, pie: true }))))!.linking).toBe('static-pie');
    expect((await inspectElf(blob(elf({ machine: AARCH64, type: 3 }))))!.linking).toBe('static-pie');
    expect(await inspectElf(blob(elf({ machine: AARCH64, type: 3, soname: 'libx.so.1', needed: ['libc.so.6'] })))).toMatchObject({ linking: 'library', soname: 'libx.so.1' });
    expect(await inspectElf(blob(elf({ machine: 8, le: false, bits: 32, needed: ['libc.so.6'], interp: '/lib/ld.so.1' }))))
      .toMatchObject({ endian: 'big', arch: 'mips', needed: ['libc.so.6'], interpreter: '/lib/ld.so.1' });
    expect(await inspectElf(blob(elf({ machine: 9999 })))).toMatchObject({ arch: 'machine 9999' });
    expect(await inspectElf(blob(elf({ machine: AARCH64, type: 1 })))).toMatchObject({ type: 'rel', linking: 'none' });
  });

  it('returns undefined for non-ELF and cut-off headers, and never throws on damaged files', async () => {
    expect(await inspectElf(new Blob([]))).toBeUndefined();
    expect(await inspectElf(new Blob(['#!/bin/sh\necho hi\n']))).toBeUndefined();
    const good = elf({ machine: X86_64, interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libc.so.6'] });
    expect(await inspectElf(blob(good.slice(0, 20)))).toBeUndefined();
    // Every truncation and a few corruptions: an answer or undefined, no exception.
    for (let n = 0; n <= good.length; n += 7) await inspectElf(blob(good.slice(0, n)));
    const bad = good.slice();
    new DataView(bad.buffer).setBigUint64(32, 0xffffffffffffn, true); // e_phoff far away
    expect(await inspectElf(blob(bad))).toMatchObject({ arch: 'x86_64', needed: [] });
    const bad2 = good.slice();
    bad2[4] = 7; // invalid class
    expect(await inspectElf(blob(bad2))).toBeUndefined();
  });

  it('reads only the pieces it needs', async () => {
    const big = new Uint8Array(8 * 1024 * 1024);
    big.set(elf({ machine: AARCH64, interp: LD_A64, needed: ['libc.so.6'] }));
    const c = counting(new Blob([big]));
    expect((await inspectElf(c.blob))!.needed).toEqual(['libc.so.6']);
    expect(c.read()).toBeLessThan(1024);
    const text = counting(new Blob([new Uint8Array(8 * 1024 * 1024).fill(65)]));
    expect(await inspectElf(text.blob)).toBeUndefined();
    expect(text.read()).toBe(64);
  });

  it.skipIf(!existsSync('/bin/ls'))('reads this machine\'s /bin/ls (x86-64, dynamic, needs libc.so.6)', async () => {
    const c = counting(await openAsBlob('/bin/ls'));
    const i = (await inspectElf(c.blob))!;
    expect(i).toMatchObject({ bits: 64, arch: 'x86_64', linking: 'dynamic' });
    expect(i.interpreter).toMatch(/ld-linux-x86-64\.so\.2$/);
    expect(i.needed).toContain('libc.so.6');
    expect(c.read()).toBeLessThan(64 * 1024);
  });

  it.skipIf(!existsSync('/sbin/ldconfig'))('reads this machine\'s /sbin/ldconfig (static-pie on Debian)', async () => {
    const i = (await inspectElf(await openAsBlob('/sbin/ldconfig')))!;
    expect(i).toMatchObject({ arch: 'x86_64', needed: [] });
    expect(i.interpreter).toBeUndefined();
    expect(['static', 'static-pie']).toContain(i.linking);
  });
});

// --- checkBinaries

const file = (path: string, data: Uint8Array | string, mode = 0o755): Entry => ({ path, type: 'file', mode, uid: 0, gid: 0, mtime: 0, data: new Blob([data as BlobPart]) });
const dir = (path: string): Entry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0 });
const link = (path: string, target: string): Entry => ({ path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, target });

/** A Debian-style merged-/usr arm64 tree with glibc's loader and libc. */
function debianArm64(): Entry[] {
  const T = '/usr/lib/aarch64-linux-gnu';
  return [
    dir('/usr'), dir('/usr/lib'), dir(T), link('/lib', 'usr/lib'), dir('/bin'), dir('/etc'),
    file(`${T}/ld-linux-aarch64.so.1`, elf({ machine: AARCH64, type: 3, soname: 'ld-linux-aarch64.so.1', dynamic: true })),
    file(`${T}/libc.so.6`, elf({ machine: AARCH64, type: 3, soname: 'libc.so.6', interp: LD_A64, needed: ['ld-linux-aarch64.so.1'] })),
    link('/usr/lib/ld-linux-aarch64.so.1', 'aarch64-linux-gnu/ld-linux-aarch64.so.1'),
  ];
}

describe('checkBinaries', () => {
  it('reports a program for another CPU, with the board and how to rebuild', async () => {
    const ps = await checkBinaries([file('/bin/app', elf({ machine: X86_64 }))], 'arm64', 'Raspberry Pi 4');
    expect(ps).toEqual([{
      severity: 'error', path: '/bin/app',
      message: '/bin/app is an x86-64 program; the Raspberry Pi 4 runs arm64 (aarch64) programs',
      fix: expect.stringContaining('Rebuild it for aarch64-linux'),
    }]);
    const lib = await checkBinaries([file('/lib/libx.so', elf({ machine: X86_64, type: 3, soname: 'libx.so', needed: ['libc.so.6'] }))], 'arm64', 'Raspberry Pi 4');
    expect(lib[0].message).toBe('/lib/libx.so is an x86-64 library; the Raspberry Pi 4 runs arm64 (aarch64) programs');
  });

  it('accepts static arm64 programs on a Pi, and i386 ones on the PC kit', async () => {
    expect(await checkBinaries([file('/bin/app', elf({ machine: AARCH64 }))], 'arm64', 'Raspberry Pi 3')).toEqual([]);
    expect(await checkBinaries([file('/bin/app', elf({ bits: 32, machine: I386 }))], 'i386', 'PC')).toEqual([]);
  });

  it('rejects x86-64 and ARM on the i386 kit (v86 is 32-bit)', async () => {
    const ps = await checkBinaries([file('/bin/a', elf({ machine: X86_64 })), file('/bin/b', elf({ machine: AARCH64 }))], 'i386', 'PC');
    expect(ps.map((p) => [p.severity, p.message])).toEqual([
      ['error', '/bin/a is an x86-64 program; the PC kit runs in v86, which emulates a 32-bit x86 PC and can\'t run 64-bit programs'],
      ['error', '/bin/b is an arm64 (aarch64) program; the PC kit runs i386 (32-bit x86) programs'],
    ]);
    expect(ps[0].fix).toContain('-m32');
  });

  it('warns about 32-bit ARM on arm64 (it runs through CONFIG_COMPAT) and rejects the old ABI', async () => {
    const ps = await checkBinaries([file('/bin/a', elf({ bits: 32, machine: ARM, flags: 0x05000400 })), file('/bin/oabi', elf({ bits: 32, machine: ARM }))], 'arm64', 'Raspberry Pi 3');
    expect(ps.map((p) => [p.severity, p.path])).toEqual([['warning', '/bin/a'], ['error', '/bin/oabi']]);
    expect(ps[0].message).toContain('CONFIG_COMPAT');
    expect(ps[1].message).toContain('old-ABI');
  });

  it('finds the loader and libraries through merged-/usr symlinks', async () => {
    const app = file('/bin/app', elf({ machine: AARCH64, type: 3, pie: true, interp: LD_A64, needed: ['libc.so.6'] }));
    expect(await checkBinaries([...debianArm64(), app], 'arm64', 'Raspberry Pi 4')).toEqual([]);
  });

  it('names a missing loader, missing libraries, and libraries that libraries need', async () => {
    const app = file('/bin/app', elf({ machine: AARCH64, interp: LD_A64, needed: ['libfoo.so.1', 'libc.so.6'] }));
    const ps = await checkBinaries([app], 'arm64', 'Raspberry Pi 4');
    expect(ps).toEqual([{
      severity: 'warning', path: '/bin/app',
      message: '/bin/app is a dynamically linked program and the image lacks its loader /lib/ld-linux-aarch64.so.1, libfoo.so.1 and libc.so.6, so it won\'t start',
      fix: expect.stringContaining('rebuild it statically'),
    }]);
    const foo = file('/usr/lib/libfoo.so.1', elf({ machine: AARCH64, type: 3, soname: 'libfoo.so.1', needed: ['libbar.so.2', 'libc.so.6'] }));
    const ps2 = await checkBinaries([...debianArm64(), app, foo], 'arm64', 'Raspberry Pi 4');
    expect(ps2.map((p) => p.message)).toEqual(['/bin/app is a dynamically linked program and the image lacks libbar.so.2 (needed by libfoo.so.1), so it won\'t start']);
  });

  it('says where a library is when the loader would not look there, and reads ld.so.conf', async () => {
    const app = file('/bin/app', elf({ machine: AARCH64, interp: LD_A64, needed: ['libfoo.so.1', 'libc.so.6'] }));
    const foo = file('/opt/acme/lib/libfoo.so.1', elf({ machine: AARCH64, type: 3, soname: 'libfoo.so.1' }));
    const tree = [...debianArm64(), dir('/opt'), dir('/opt/acme'), dir('/opt/acme/lib'), app, foo];
    const ps = await checkBinaries(tree, 'arm64', 'Raspberry Pi 4');
    expect(ps.map((p) => p.message)).toEqual(['/bin/app is a dynamically linked program and the image lacks libfoo.so.1, which is at /opt/acme/lib/libfoo.so.1 where the loader doesn\'t look, so it won\'t start']);
    const conf = [file('/etc/ld.so.conf', 'include /etc/ld.so.conf.d/*.conf\n', 0o644), dir('/etc/ld.so.conf.d'), file('/etc/ld.so.conf.d/acme.conf', '# acme\n/opt/acme/lib\n', 0o644)];
    expect(await checkBinaries([...tree, ...conf], 'arm64', 'Raspberry Pi 4')).toEqual([]);
  });

  it('follows RUNPATH with $ORIGIN', async () => {
    const app = file('/opt/acme/bin/app', elf({ machine: AARCH64, interp: LD_A64, needed: ['libfoo.so.1'], runpath: '$ORIGIN/../lib' }));
    const foo = file('/opt/acme/lib/libfoo.so.1', elf({ machine: AARCH64, type: 3, soname: 'libfoo.so.1' }));
    expect(await checkBinaries([...debianArm64(), app, foo], 'arm64', 'Raspberry Pi 4')).toEqual([]);
  });

  it('skips kernel modules, relocatable objects and non-ELF files, reading 64 bytes of the latter', async () => {
    const ko = file('/lib/modules/6.1/kernel/x.ko', elf({ machine: X86_64, type: 1 }));
    const o = file('/src/x.o', elf({ machine: X86_64, type: 1 }));
    const koXz = file('/lib/modules/6.1/kernel/y.ko.xz', elf({ machine: X86_64 }));
    const big = counting(new Blob([new Uint8Array(4 * 1024 * 1024).fill(1)]));
    const data: Entry = { ...file('/data.bin', ''), data: big.blob };
    expect(await checkBinaries([ko, o, koXz, data, file('/etc/motd', 'hello', 0o644)], 'arm64', 'Raspberry Pi 4')).toEqual([]);
    expect(big.read()).toBe(64);
  });

  it.skipIf(!existsSync('/bin/ls'))('flags this machine\'s /bin/ls in an i386 image', async () => {
    const ps = await checkBinaries([{ ...file('/bin/ls', ''), data: await openAsBlob('/bin/ls') }], 'i386', 'PC');
    expect(ps.map((p) => p.severity)).toEqual(['error']);
    expect(ps[0].message).toContain('x86-64 program');
  });
});
