import { describe, expect, it } from 'vitest';
import { BOARDS, boardById } from '../kits/boards.ts';
import {
  CONFIG_LINE_MAX, classifyFilter, defaultConfigTxt, effectiveSettings, formatConfigTxt, parseConfigTxt, parseInitramfsValue,
  readConfigForm, setInitramfs, setSetting, writeConfigForm,
} from './config.ts';

const pi3 = boardById('pi3b')!;
const pi4 = boardById('pi4b')!;
const zero2 = boardById('pizero2w')!;
const eff = (text: string, board = pi4) => effectiveSettings(parseConfigTxt(text), board);

describe('parseConfigTxt', () => {
  it('keeps every byte: comments, blanks, unknown keys, CRLF, a BOM and no final newline', () => {
    const texts = [
      '',
      '\n',
      '# hello\r\n\r\narm_64bit=1\r\n[pi4]\r\nweird line here\r\nkernel=x',
      '\uFEFFenable_uart=1\n  [all]  \n\tdtoverlay=vc4-kms-v3d\n#end',
      'initramfs initrd.img followkernel\ninclude extra.txt\ninitramfs=bad\n',
    ];
    for (const t of texts) expect(formatConfigTxt(parseConfigTxt(t))).toBe(t);
  });

  it('classifies lines and splits sections at filters', () => {
    const cfg = parseConfigTxt('# c\narm_64bit=1\n[pi4]\nkernel=k4\n[all]\ninitramfs a.gz followkernel\ndtoverlay disable-bt\n[broken\n');
    expect(cfg.lines.map((l) => l.kind)).toEqual(['comment', 'setting', 'filter', 'setting', 'filter', 'initramfs', 'setting', 'invalid']);
    expect(cfg.lines[1]).toMatchObject({ key: 'arm_64bit', value: '1', section: 0 });
    expect(cfg.lines[3]).toMatchObject({ key: 'kernel', value: 'k4', section: 1 });
    expect(cfg.lines[5]).toMatchObject({ key: 'initramfs', value: 'a.gz followkernel' });
    expect(cfg.lines[6]).toMatchObject({ key: 'dtoverlay', value: 'disable-bt' });
    expect(cfg.sections.map((s) => [s.filter, s.unconditional])).toEqual([[undefined, true], ['pi4', false], ['all', true]]);
    expect(cfg.bom).toBe(false);
    expect(parseConfigTxt('\uFEFFa=1').bom).toBe(true);
    expect(parseConfigTxt('\uFEFFa=1').lines[0]).toMatchObject({ key: 'a', value: '1' });
  });

  it('treats "initramfs=file" as a slip, not a setting', () => {
    expect(parseConfigTxt('initramfs=initrd.gz').lines[0]).toMatchObject({ kind: 'invalid', key: 'initramfs' });
  });

  it('splits initramfs values into files and address', () => {
    expect(parseInitramfsValue('a.gz,b.gz followkernel')).toEqual({ files: ['a.gz', 'b.gz'], address: 'followkernel' });
    expect(parseInitramfsValue('a.gz 0x00800000')).toEqual({ files: ['a.gz'], address: '0x00800000' });
    expect(parseInitramfsValue('a.gz')).toEqual({ files: ['a.gz'], address: undefined });
  });
});

describe('filters', () => {
  it('knows the documented filters and calls the rest unknown', () => {
    expect(classifyFilter('pi4', { filters: ['pi4'], boardType: 0x11 })).toMatchObject({ type: 'model', cond: 'yes', known: true });
    expect(classifyFilter('PI3', { filters: ['pi4'], boardType: 0x11 })).toMatchObject({ type: 'model', cond: 'no' });
    expect(classifyFilter('board-type=0x11', { filters: ['pi4'], boardType: 0x11 }).cond).toBe('yes');
    expect(classifyFilter('board-type=0x8', { filters: ['pi4'], boardType: 0x11 }).cond).toBe('no');
    expect(classifyFilter('none').cond).toBe('no');
    expect(classifyFilter('EDID=DEL-DELL_U2422H')).toMatchObject({ type: 'edid', cond: 'maybe' });
    expect(classifyFilter('gpio4=1')).toMatchObject({ type: 'gpio4', cond: 'maybe' });
    expect(classifyFilter('0x12345678')).toMatchObject({ type: 'serial', cond: 'maybe' });
    expect(classifyFilter('HDMI:1').cond).toBe('yes');
    expect(classifyFilter('pi9000')).toMatchObject({ known: false, cond: 'maybe' });
  });
});

describe('effectiveSettings', () => {
  it('applies [pi4] on a Pi 4 only, and [all] resets', () => {
    const t = 'kernel=a\n[pi3]\nkernel=b\n[pi4]\nkernel=c\n[all]\narm_64bit=1\n';
    expect(eff(t, pi4).get('kernel')).toMatchObject({ value: 'c', line: 5, certain: true, maybeUnset: false });
    expect(eff(t, pi4).get('arm_64bit')).toMatchObject({ value: '1', certain: true });
    // [pi4] after [pi3] replaces it (same filter type): a Pi 3 stops at line 3.
    expect(eff(t, pi3).get('kernel')).toMatchObject({ value: 'b', certain: true });
  });

  it('treats a Pi 3 kit as a 3 Model B or a 3 Model B+ ([pi3+] may apply)', () => {
    const e = eff('[pi3]\nkernel=b\n[pi3+]\nkernel=plus\n[all]\n', pi3).get('kernel')!;
    expect(e.value).toBe('plus');
    expect(e.certain).toBe(false);
    expect(e.possible.map((p) => p.value)).toEqual(['b', 'plus']);
    expect(e.maybeUnset).toBe(false);
    // Only under [pi3+]: a 3 Model B leaves it unset.
    const only = eff('[pi3+]\nenable_uart=1\n', pi3).get('enable_uart')!;
    expect(only).toMatchObject({ value: '1', certain: false, maybeUnset: true });
  });

  it('gives a Zero 2 W the [pi0], [pi0w] and [pi02] sections but not [pi3]', () => {
    const e = eff('[pi3]\na=3\n[pi0]\nb=0\n[pi0w]\nc=w\n[pi02]\nd=02\n[all]\n', zero2);
    expect(e.has('a')).toBe(false);
    expect([...e.keys()].sort()).toEqual(['b', 'c', 'd']);
    for (const v of e.values()) expect(v.certain).toBe(true);
  });

  it('skips [none] until [all]', () => {
    const e = eff('[none]\nkernel=off\n[all]\narm_64bit=1\n');
    expect(e.has('kernel')).toBe(false);
    expect(e.get('arm_64bit')?.certain).toBe(true);
  });

  it('combines filters of different types and counts unknown ones as "may apply"', () => {
    const e = eff('kernel=a\n[EDID=X]\n[pi4]\nkernel=b\n[all]\n[pi9000]\nkernel=c\n');
    const k = e.get('kernel')!;
    expect(k.possible.map((p) => p.value)).toEqual(['a', 'b', 'c']);
    expect(k.value).toBe('c');
    expect(k.certain).toBe(false);
    // EDID + [pi3] on a Pi 4: the [pi3] part rules it out whatever the monitor.
    expect(eff('[EDID=X]\n[pi3]\nkernel=b\n').has('kernel')).toBe(false);
  });

  it('uses the last value, keeps every dtoverlay/dtparam, and reads board-type filters', () => {
    const e = eff('enable_uart=0\nenable_uart=1\ndtoverlay=a\ndtparam=audio=on\ndtoverlay=b,x=1\n[board-type=0x11]\ngpu_mem=16\n');
    expect(e.get('enable_uart')).toMatchObject({ value: '1', line: 2, certain: true });
    expect(e.get('dtoverlay')!.all.map((a) => a.value)).toEqual(['a', 'b,x=1']);
    expect(e.get('dtparam')!.all.map((a) => a.value)).toEqual(['audio=on']);
    expect(e.get('gpu_mem')?.certain).toBe(true);
    expect(eff('[board-type=0x11]\ngpu_mem=16\n', pi3).has('gpu_mem')).toBe(false);
  });

  it('reads the initramfs line and included files when given', () => {
    const cfg = parseConfigTxt('initramfs a.gz followkernel\ninclude extra.txt\n[pi3]\ninclude pi3.txt\n');
    const e = effectiveSettings(cfg, pi4, { include: (n) => (n === 'extra.txt' ? 'kernel=fromextra\n[pi4]\nenable_uart=1\n' : 'kernel=pi3only') });
    expect(e.get('initramfs')?.value).toBe('a.gz followkernel');
    expect(e.get('kernel')).toMatchObject({ value: 'fromextra', file: 'extra.txt', line: 1 });
    // The filter inside extra.txt carries on after the include, as a textual include would.
    expect(e.get('enable_uart')).toMatchObject({ value: '1', file: 'extra.txt', line: 3, via: [2] });
  });

  it('orders values from included files by where they were included', () => {
    const cfg = parseConfigTxt('[EDID=X]\ninclude a.txt\n[all]\n[gpio4=1]\nkernel=late\n');
    const e = effectiveSettings(cfg, pi4, { include: () => '#\n#\n#\n#\n#\n#\nkernel=froma\n' }).get('kernel')!;
    expect(e.possible.map((p) => p.value)).toEqual(['froma', 'late']);
    expect(e.value).toBe('late');
  });
});

describe('setSetting', () => {
  it('replaces the last unconditional occurrence and leaves filtered ones alone', () => {
    const t = '# top\nkernel=a\n[pi4]\nkernel=p4\n[all]\nkernel=b\narm_64bit=1\n';
    expect(setSetting(t, 'kernel', 'vmlinuz')).toBe('# top\n[pi4]\nkernel=p4\n[all]\nkernel=vmlinuz\narm_64bit=1\n');
    expect(setSetting(t, 'kernel', undefined)).toBe('# top\n[pi4]\nkernel=p4\n[all]\narm_64bit=1\n');
  });

  it('appends after the last setting of the last unconditional part', () => {
    expect(setSetting('arm_64bit=1\n\n# end\n', 'enable_uart', '1')).toBe('arm_64bit=1\nenable_uart=1\n\n# end\n');
    expect(setSetting('a=1\n[pi4]\nb=2\n[all]\n', 'c', '3')).toBe('a=1\n[pi4]\nb=2\n[all]\nc=3\n');
    // A file ending in a filtered part: the new line goes in the top part, not under [pi4].
    expect(setSetting('a=1\n[pi4]\nb=2\n', 'c', '3')).toBe('a=1\nc=3\n[pi4]\nb=2\n');
    expect(setSetting('# header\n\n# Pi 4 only\n[pi4]\nb=2\n', 'c', '3')).toBe('# header\nc=3\n\n# Pi 4 only\n[pi4]\nb=2\n');
    expect(setSetting('[pi4]\nb=2\n', 'c', '3')).toBe('c=3\n[pi4]\nb=2\n');
    expect(setSetting('', 'c', '3')).toBe('c=3\n');
    expect(setSetting('# only a comment', 'c', '3')).toBe('# only a comment\nc=3');
  });

  it('keeps CRLF line endings and a missing final newline', () => {
    expect(setSetting('a=1\r\nb=2\r\n', 'c', '3')).toBe('a=1\r\nb=2\r\nc=3\r\n');
    expect(setSetting('a=1\nb=2', 'c', '3')).toBe('a=1\nb=2\nc=3');
    expect(setSetting('a=1\nb=2', 'b', undefined)).toBe('a=1');
    expect(setSetting('a=1\nb=2', 'a', undefined)).toBe('b=2');
  });

  it('removes earlier duplicates in the unconditional part', () => {
    expect(setSetting('a=1\nx=0\na=2\n', 'a', '3')).toBe('x=0\na=3\n');
  });

  it('does nothing when removing a key that is not there', () => {
    const t = 'a=1\n[pi4]\nb=2\n';
    expect(setSetting(t, 'b', undefined)).toBe(t);
  });
});

describe('setInitramfs', () => {
  it('keeps the address, adds followkernel by default, mends "initramfs=", removes', () => {
    expect(setInitramfs('initramfs old.gz 0x2700000\n', 'new.gz')).toBe('initramfs new.gz 0x2700000\n');
    expect(setInitramfs('kernel=k\n', 'i.gz')).toBe('kernel=k\ninitramfs i.gz followkernel\n');
    expect(setInitramfs('initramfs=i.gz\n', 'i.gz')).toBe('initramfs i.gz followkernel\n');
    expect(setInitramfs('a=1\ninitramfs i.gz followkernel\n', undefined)).toBe('a=1\n');
    expect(setSetting('kernel=k\n', 'initramfs', 'x.gz followkernel')).toBe('kernel=k\ninitramfs x.gz followkernel\n');
  });
});

describe('config form', () => {
  const kit = defaultConfigTxt(pi3, { kernel: 'vmlinuz', initramfs: 'initramfs.cpio.gz' });

  it('reads the kit default', () => {
    expect(readConfigForm(kit)).toEqual({
      kernel: 'vmlinuz', initramfs: 'initramfs.cpio.gz', followkernel: true, initramfsAddress: undefined,
      arm64: true, uart: true, upstreamKernel: true, deviceTree: undefined,
    });
    expect(readConfigForm('')).toMatchObject({ kernel: undefined, arm64: false, uart: false, followkernel: true });
  });

  it('writes back only what changed', () => {
    const form = readConfigForm(kit);
    expect(writeConfigForm(kit, form)).toBe(kit);
    const k = writeConfigForm(kit, { ...form, kernel: 'Image' });
    expect(k).toBe(kit.replace('kernel=vmlinuz', 'kernel=Image'));
    const u = writeConfigForm(kit, { ...form, uart: false });
    expect(u).toBe(kit.replace('enable_uart=1\n', ''));
    expect(writeConfigForm(kit, { ...form, arm64: false })).toBe(kit.replace('arm_64bit=1', 'arm_64bit=0'));
    expect(writeConfigForm(kit, { ...form, followkernel: false, initramfsAddress: '0x2700000' }))
      .toBe(kit.replace('initramfs initramfs.cpio.gz followkernel', 'initramfs initramfs.cpio.gz 0x2700000'));
    expect(writeConfigForm(kit, { ...form, initramfs: undefined })).toBe(kit.replace('initramfs initramfs.cpio.gz followkernel\n', ''));
    const dt = writeConfigForm(kit, { ...form, deviceTree: 'bcm2837-rpi-3-b.dtb' });
    expect(readConfigForm(dt).deviceTree).toBe('bcm2837-rpi-3-b.dtb');
    expect(dt.split('\n').length).toBe(kit.split('\n').length + 1);
  });

  it('turns switches on in a file that has none', () => {
    const t = writeConfigForm('# mine\n', { followkernel: true, arm64: true, uart: true, upstreamKernel: true, kernel: 'vmlinuz', initramfs: 'i.gz' });
    expect(t).toBe('# mine\nkernel=vmlinuz\narm_64bit=1\nupstream_kernel=1\nenable_uart=1\ninitramfs i.gz followkernel\n');
  });
});

describe('defaultConfigTxt', () => {
  for (const board of BOARDS.filter((b) => b.family === 'pi')) {
    it(`is short-lined and boots Debian's arm64 kernel on the ${board.name}`, () => {
      const t = defaultConfigTxt(board, { kernel: 'vmlinuz', initramfs: 'initramfs.cpio.gz' });
      for (const l of t.split('\n')) expect(l.length).toBeLessThanOrEqual(CONFIG_LINE_MAX);
      const e = effectiveSettings(parseConfigTxt(t), board);
      const v = (k: string) => e.get(k)?.value;
      expect([v('arm_64bit'), v('kernel'), v('initramfs'), v('upstream_kernel'), v('enable_uart')])
        .toEqual(['1', 'vmlinuz', 'initramfs.cpio.gz followkernel', '1', '1']);
      // The firmware picks the mainline DTB by model with upstream_kernel=1: no device_tree=.
      expect(e.has('device_tree')).toBe(false);
      for (const x of e.values()) expect(x.certain).toBe(true);
    });
  }
});
