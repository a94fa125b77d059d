import { describe, expect, it } from 'vitest';
import { boardById } from '../kits/boards.ts';
import {
  consoleDevice, consoles, defaultCmdline, formatArg, formatCmdline, getArg, parseCmdline, readCmdlineForm, setArg, setConsoles,
  writeCmdlineForm,
} from './cmdline.ts';

const pi4 = boardById('pi4b')!;

describe('parseCmdline', () => {
  it('splits at spaces, keeps quoted spaces, and strips the quotes from values', () => {
    const c = parseCmdline('console=tty0  quiet dyndbg="file foo.c +p" "weird=a b" rootwait\n');
    expect(c.args.map((a) => [a.key, a.value])).toEqual([
      ['console', 'tty0'], ['quiet', undefined], ['dyndbg', 'file foo.c +p'], ['weird', 'a b'], ['rootwait', undefined],
    ]);
    expect(c.args[2].raw).toBe('dyndbg="file foo.c +p"');
    expect(c.rest).toBe('\n');
  });

  it('uses the first line only and separates init arguments after --', () => {
    const c = parseCmdline('root=/dev/x -- single foo=1\r\nignored=1\n');
    expect(c.args.map((a) => a.key)).toEqual(['root']);
    expect(c.initArgs.map((a) => a.raw)).toEqual(['single', 'foo=1']);
    expect(c.rest).toBe('\r\nignored=1\n');
  });

  it('round-trips exactly', () => {
    for (const t of ['', '\n', '  a=1   b  \n', 'x -- y\nz', '\uFEFFconsole=tty0 quiet']) expect(formatCmdline(parseCmdline(t))).toBe(t);
  });

  it('takes a key=value with an empty value and a value with "=" in it', () => {
    const c = parseCmdline('a= b=c=d');
    expect(c.args.map((x) => [x.key, x.value])).toEqual([['a', ''], ['b', 'c=d']]);
  });
});

describe('getArg / consoles', () => {
  it('returns the last value, true for flags, undefined when absent', () => {
    const t = 'root=/dev/a quiet root=/dev/b console=tty0 console=ttyS1,115200\n';
    expect(getArg(t, 'root')).toBe('/dev/b');
    expect(getArg(t, 'quiet')).toBe(true);
    expect(getArg(t, 'init')).toBeUndefined();
    expect(consoles(t)).toEqual(['tty0', 'ttyS1,115200']);
    expect(consoleDevice('ttyS1,115200n8')).toBe('ttyS1');
    // Arguments for init don't count.
    expect(getArg('a=1 -- root=/dev/x', 'root')).toBeUndefined();
  });
});

describe('setArg', () => {
  it('replaces in place, adds at the end (before --), removes', () => {
    expect(setArg('console=tty0 root=/dev/a rootwait\n', 'root', '/dev/b')).toBe('console=tty0 root=/dev/b rootwait\n');
    expect(setArg('console=tty0\n', 'root', '/dev/mmcblk0p2')).toBe('console=tty0 root=/dev/mmcblk0p2\n');
    expect(setArg('console=tty0 -- single\n', 'quiet', true)).toBe('console=tty0 quiet -- single\n');
    expect(setArg('console=tty0 root=/dev/a rootwait\n', 'root', undefined)).toBe('console=tty0 rootwait\n');
    expect(setArg('root=/dev/a rootwait\n', 'root', undefined)).toBe('rootwait\n');
    expect(setArg('', 'quiet', true)).toBe('quiet');
    expect(setArg('\n', 'quiet', true)).toBe('quiet\n');
  });

  it('keeps spacing and other lines it does not touch', () => {
    expect(setArg('a=1   b=2  \nsecond line\n', 'c', '3')).toBe('a=1   b=2 c=3  \nsecond line\n');
    expect(setArg('a=1   b=2\n', 'a', '9')).toBe('a=9   b=2\n');
  });

  it('collapses duplicates onto the last one, and quotes values with spaces', () => {
    expect(setArg('root=/a x root=/b y\n', 'root', '/c')).toBe('x root=/c y\n');
    expect(setArg('x\n', 'dyndbg', 'file a.c +p')).toBe('x dyndbg="file a.c +p"\n');
    expect(formatArg('k', '')).toBe('k=""');
    expect(formatArg('k', true)).toBe('k');
  });

  it('keeps a BOM at the start', () => {
    expect(setArg('\uFEFFroot=/a quiet', 'root', undefined)).toBe('\uFEFFquiet');
    expect(setArg('\uFEFFroot=/a quiet', 'root', '/b')).toBe('\uFEFFroot=/b quiet');
  });
});

describe('setConsoles', () => {
  it('replaces every console= where the first one was', () => {
    expect(setConsoles('rdinit=/init console=tty0 quiet console=ttyAMA0,115200\n', ['tty1', 'ttyS1,115200']))
      .toBe('rdinit=/init console=tty1 console=ttyS1,115200 quiet\n');
    expect(setConsoles('quiet\n', ['ttyS1,115200'])).toBe('console=ttyS1,115200 quiet\n');
    expect(setConsoles('console=tty0 quiet\n', [])).toBe('quiet\n');
    expect(setConsoles('', ['tty0'])).toBe('console=tty0');
  });
});

describe('defaultCmdline', () => {
  it('has the screen and the header UART as consoles, and root= only with a root filesystem', () => {
    expect(defaultCmdline(pi4)).toBe('console=tty0 console=ttyS1,115200 rdinit=/init\n');
    expect(defaultCmdline(pi4, { root: 'ext4' })).toBe('console=tty0 console=ttyS1,115200 rdinit=/init root=/dev/mmcblk0p2 rootwait\n');
    expect(defaultCmdline(pi4, { root: 'PARTUUID=1234-02' })).toContain(' root=PARTUUID=1234-02 rootwait');
  });
});

describe('cmdline form', () => {
  const t = 'console=tty0 console=ttyS1,115200 rdinit=/init root=/dev/mmcblk0p2 rootwait\n';

  it('reads consoles, root, flags and the rest', () => {
    expect(readCmdlineForm(t)).toEqual({ consoles: ['tty0', 'ttyS1,115200'], root: '/dev/mmcblk0p2', rootwait: true, quiet: false, extra: 'rdinit=/init' });
    expect(readCmdlineForm('quiet a=1 -- single')).toEqual({ consoles: [], root: undefined, rootwait: false, quiet: true, extra: 'a=1 -- single' });
  });

  it('writes back only what changed', () => {
    const f = readCmdlineForm(t);
    expect(writeCmdlineForm(t, f)).toBe(t);
    expect(writeCmdlineForm(t, { ...f, quiet: true })).toBe(t.replace('\n', ' quiet\n'));
    expect(writeCmdlineForm(t, { ...f, root: undefined, rootwait: false })).toBe('console=tty0 console=ttyS1,115200 rdinit=/init\n');
    expect(writeCmdlineForm(t, { ...f, consoles: ['ttyS1,115200'] })).toBe(t.replace('console=tty0 ', ''));
  });

  it('puts new extra arguments where the old ones were, and init arguments last', () => {
    const f = readCmdlineForm(t);
    expect(writeCmdlineForm(t, { ...f, extra: 'rdinit=/init loglevel=7' }))
      .toBe('console=tty0 console=ttyS1,115200 rdinit=/init loglevel=7 root=/dev/mmcblk0p2 rootwait\n');
    expect(writeCmdlineForm(t, { ...f, extra: 'rdinit=/sbin/init -- single' }))
      .toBe('console=tty0 console=ttyS1,115200 rdinit=/sbin/init root=/dev/mmcblk0p2 rootwait -- single\n');
    expect(writeCmdlineForm(t, { ...f, extra: '' })).toBe('console=tty0 console=ttyS1,115200 root=/dev/mmcblk0p2 rootwait\n');
    expect(writeCmdlineForm('console=tty0\n', { ...readCmdlineForm('console=tty0\n'), extra: 'a=1' })).toBe('console=tty0 a=1\n');
  });
});
