// The CLI's contract: help, exit codes, one-line errors that name the problem and where it is, no
// output file after a failure, and what new/add/build do to a project.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import {
  cleanupTemp, cli, describeTree, extractCpio, hasCommand, must, mustCli, newcHeaders, type RunResult, sha256, sha256File, tempDir,
} from '../helpers.ts';

let work: string;
let small: string; // a small directory input

beforeAll(async () => {
  work = await tempDir();
  small = join(work, 'small');
  await mkdir(join(small, 'etc'), { recursive: true });
  await writeFile(join(small, 'etc', 'a'), 'first file\n');
  await writeFile(join(small, 'etc', 'b'), 'second file\n');
  // incompressible content so a truncated gzip is cut inside the deflate stream
  const noise = new Uint8Array(200_000);
  for (let i = 0, x = 12345; i < noise.length; i++) { x = (x * 1103515245 + 12345) >>> 0; noise[i] = x >>> 24; }
  await writeFile(join(small, 'noise.bin'), noise);
});

afterAll(cleanupTemp);

/** Asserts a clean failure: non-zero exit, exactly one line on stderr that is no stack trace, and
 *  that mentions every expected piece. */
function expectOneLineError(r: RunResult, ...mentions: (string | RegExp)[]): string {
  expect(r.code, `exit code; stderr: ${r.stderr}`).not.toBe(0);
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  expect(lines, 'stderr must be one line').toHaveLength(1);
  const line = lines[0];
  expect(line).not.toMatch(/internal error|\.ts:\d+|^\s*at /);
  expect(line.length).toBeGreaterThan(10);
  for (const m of mentions) {
    if (typeof m === 'string') expect(line).toContain(m);
    else expect(line).toMatch(m);
  }
  return line;
}

/** The numbers a message mentions (decimal, or hex with 0x). */
function numbersIn(line: string): number[] {
  return [...line.matchAll(/0x[0-9a-f]+|\d+/gi)].map((m) => Number(m[0]));
}

describe('help and usage', () => {
  it('--help (and no arguments) prints the usage and exits 0', async () => {
    for (const args of [['--help'], ['-h'], []]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(0);
      for (const cmd of ['initramfs', 'new', 'add', 'build']) expect(r.stdout).toContain(`bootsmith ${cmd}`);
      expect(r.stdout).toContain('SOURCE_DATE_EPOCH');
    }
  });

  for (const cmd of ['initramfs', 'new', 'add', 'build']) {
    it(`${cmd} --help exits 0 and describes ${cmd}`, async () => {
      const r = await cli([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith(`bootsmith ${cmd}`)).toBe(true);
      expect(r.stderr).toBe('');
    });
  }

  it('an unknown command exits non-zero with a one-line reason naming it', async () => {
    const r = await cli(['frobnicate', 'x']);
    expectOneLineError(r, 'frobnicate');
  });

  it('an unknown option exits non-zero with a one-line reason naming it, and writes nothing', async () => {
    const out = join(work, 'unknown-option.cpio.gz');
    const r = await cli(['initramfs', small, '-o', out, '--frobnicate']);
    expectOneLineError(r, '--frobnicate');
    expect(existsSync(out)).toBe(false);
  });

  it('a missing -o and a missing value are one-line errors', async () => {
    expectOneLineError(await cli(['initramfs', small]), /-o/);
    expectOneLineError(await cli(['initramfs', small, '-o']), /-o/);
    expectOneLineError(await cli(['initramfs', '-o', join(work, 'x.gz')]), /input/);
  });

  it('a malformed SOURCE_DATE_EPOCH is a one-line error', async () => {
    const out = join(work, 'bad-sde.cpio.gz');
    const r = await cli(['initramfs', small, '-o', out], { env: { SOURCE_DATE_EPOCH: 'yesterday' } });
    expectOneLineError(r, 'SOURCE_DATE_EPOCH', 'yesterday');
    expect(existsSync(out)).toBe(false);
  });
});

describe('bad input: one clear line, naming where, and no output file', () => {
  async function failsWith(input: string, opts: { cwd?: string }, ...mentions: (string | RegExp)[]): Promise<string> {
    const out = join(work, `out-${Math.random().toString(36).slice(2)}.cpio.gz`);
    const r = await cli(['initramfs', input, '-o', out], opts);
    const line = expectOneLineError(r, ...mentions);
    expect(existsSync(out), 'no output file after a failure').toBe(false);
    return line;
  }

  it('a missing input', async () => {
    await failsWith(join(work, 'no-such-input'), {}, 'no-such-input', /no such|not found|does not exist/i);
  });

  it('a truncated .cpio.gz', async () => {
    const gz = join(work, 'trunc.cpio.gz');
    await mustCli(['initramfs', small, '-o', gz]);
    const size = (await readFile(gz)).length;
    await truncate(gz, Math.floor(size * 0.6));
    await failsWith(gz, {}, /truncat|ends|unexpected end|incomplete/i);
  });

  it('a cpio with a corrupted header field names its byte offset', async () => {
    const plain = join(work, 'corrupt-field.cpio');
    await mustCli(['initramfs', small, '-o', plain, '--no-gzip']);
    const bytes = await readFile(plain);
    const second = newcHeaders(bytes)[1];
    bytes.write('ZZZZ', second.offset + 6 + 8, 'latin1'); // inside the mode field
    await writeFile(plain, bytes);
    const line = await failsWith(plain, {}, /mode|header|hex/i);
    const nums = numbersIn(line);
    expect(nums.some((n) => n >= second.offset && n < second.offset + 110), `an offset within ${second.offset}..${second.offset + 109} in: ${line}`).toBe(true);
  });

  it('a cpio with a corrupted magic names the offset and the entry before it', async () => {
    const plain = join(work, 'corrupt-magic.cpio');
    await mustCli(['initramfs', small, '-o', plain, '--no-gzip']);
    const bytes = await readFile(plain);
    const [first, second] = newcHeaders(bytes);
    bytes.write('123456', second.offset, 'latin1');
    await writeFile(plain, bytes);
    const line = await failsWith(plain, {}, /070701|magic|header/i);
    expect(numbersIn(line)).toContain(second.offset);
    expect(line).toContain(first.name);
  });

  it('a truncated tar names the entry it was reading', async () => {
    const dir = join(work, 'tar-trunc-src');
    await mkdir(dir, { recursive: true });
    const payload = new Uint8Array(10_000).fill(65);
    await writeFile(join(dir, 'payload.bin'), payload);
    const tar = join(work, 'trunc.tar');
    await must('tar', ['-cf', tar, '-C', dir, 'payload.bin']);
    await truncate(tar, 512 + 3000); // inside the file's data
    await failsWith(tar, {}, /truncat|ends|unexpected end|incomplete/i, 'payload.bin');
  });

  it('a truncated tar.gz (cut inside the gzip stream)', async () => {
    const tar = join(work, 'trunc.tar.gz');
    await must('tar', ['-czf', tar, '-C', small, '.']);
    const size = (await readFile(tar)).length;
    await truncate(tar, Math.floor(size / 2));
    await failsWith(tar, {}, /truncat|ends|unexpected end|incomplete/i);
  });

  it('a list with a bad line names the line number', async () => {
    const list = join(work, 'bad-line.list');
    await writeFile(list, ['dir /etc 0755 0 0', 'dir /bin 0755 0 0', 'frob /x 0755 0 0', 'dir /usr 0755 0 0'].join('\n') + '\n');
    await failsWith(list, {}, /line 3\b/, 'frob');
  });

  it('a list with a malformed mode names the line and the value', async () => {
    const list = join(work, 'bad-mode.list');
    await writeFile(list, ['# comment', 'dir /etc 0755 0 0', 'dir /bin 09z5 0 0'].join('\n') + '\n');
    await failsWith(list, {}, /line 3\b/, '09z5');
  });

  it('a list naming a missing file names the file and the line', async () => {
    const list = join(work, 'missing-file.list');
    await writeFile(list, ['dir /bin 0755 0 0', 'file /bin/tool ./does-not-exist.bin 0755 0 0'].join('\n') + '\n');
    await failsWith(list, { cwd: work }, 'does-not-exist.bin', /line 2\b/);
  });

  it('a name over 255 bytes (list input)', async () => {
    const list = join(work, 'long-name.list');
    const name = 'n'.repeat(256);
    await writeFile(list, ['dir /etc 0755 0 0', `dir /etc/${name} 0755 0 0`].join('\n') + '\n');
    await failsWith(list, {}, /255/, /name/i);
  });

  it('a name of exactly 255 bytes is fine', async () => {
    const list = join(work, 'name-255.list');
    const name = 'é'.repeat(127) + 'n'; // 255 bytes of UTF-8
    await writeFile(list, `dir /${name} 0755 0 0\n`);
    const out = join(work, 'name-255.cpio.gz');
    const r = await cli(['initramfs', list, '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const x = await extractCpio(out);
    expect((await describeTree(x)).map((n) => n.path)).toEqual([`/${name}`]);
  });

  it('a path over 4096 bytes (list input)', async () => {
    const list = join(work, 'long-path.list');
    const lines: string[] = [];
    let p = '';
    for (let i = 0; i < 17; i++) { p += '/' + String(i).padStart(2, '0') + 'd'.repeat(248); lines.push(`dir ${p} 0755 0 0`); }
    expect(Buffer.byteLength(p)).toBeGreaterThan(4096);
    await writeFile(list, lines.join('\n') + '\n');
    await failsWith(list, {}, /409[56]/, /path/i);
  });

  it('a device major number out of range (4096)', async () => {
    const list = join(work, 'bad-major.list');
    await writeFile(list, ['dir /dev 0755 0 0', 'nod /dev/x 0600 0 0 c 4096 0'].join('\n') + '\n');
    await failsWith(list, {}, '4096', /major/i);
  });

  it('a device minor number out of range (2^20)', async () => {
    const list = join(work, 'bad-minor.list');
    await writeFile(list, ['dir /dev 0755 0 0', 'nod /dev/x 0600 0 0 b 8 1048576'].join('\n') + '\n');
    await failsWith(list, {}, '1048576', /minor/i);
  });

  it('a duplicate path in a list names the path', async () => {
    const list = join(work, 'dup.list');
    await writeFile(list, ['dir /etc 0755 0 0', 'dir /bin 0755 0 0', 'dir /etc 0700 0 0'].join('\n') + '\n');
    await failsWith(list, {}, '/etc', /twice|more than once|duplicate|already/i);
  });

  it('a directory holding a file name that is not UTF-8 is refused clearly (no internal error)', async () => {
    const dir = join(work, 'not-utf8');
    await mkdir(dir, { recursive: true });
    await writeFile(Buffer.concat([Buffer.from(dir + '/na'), Buffer.from([0xff]), Buffer.from('me')]), 'x');
    await failsWith(dir, {}, /UTF-8|name|encod/i);
  });

  it('a file name with a newline in a directory is kept (cpio names may hold any byte but NUL)', async () => {
    const dir = join(work, 'newline-name');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'new\nline'), 'nl');
    const out = join(work, 'newline.cpio.gz');
    await mustCli(['initramfs', dir, '-o', out]);
    expect((await describeTree(await extractCpio(out))).map((n) => n.path)).toEqual(['/new\nline']);
  });

  it('a file that is no supported format', async () => {
    const junk = join(work, 'junk.bin');
    await writeFile(junk, 'this is just some text, not an archive\n'.repeat(30));
    await failsWith(junk, {}, 'junk.bin', /not a format|not .*(cpio|tar|list|project)/i);
  });

  it.skipIf(!hasCommand('xz'))('an xz-compressed initramfs says it is xz', async () => {
    const plain = join(work, 'for-xz.cpio');
    await mustCli(['initramfs', small, '-o', plain, '--no-gzip']);
    await must('xz', ['-kf', plain]);
    await failsWith(plain + '.xz', {}, /xz/);
  });
});

describe('project files: new, add, build', () => {
  it('a file that is not a project file is refused by add and build, naming it', async () => {
    const text = join(work, 'notes.txt');
    await writeFile(text, 'just notes\n');
    const before = sha256(await readFile(text));
    expectOneLineError(await cli(['add', text, join(small, 'etc', 'a'), '/etc/a']), 'notes.txt', /project/i);
    expect(sha256(await readFile(text))).toBe(before); // left untouched
    const outDir = join(work, 'not-a-project-out');
    expectOneLineError(await cli(['build', text, '-o', outDir]), 'notes.txt', /project/i);
    expect(existsSync(join(outDir, 'initramfs.cpio.gz'))).toBe(false);
  });

  it('a list or a zip without bootsmith.json is not a project file either', async () => {
    const list = join(work, 'a.list');
    await writeFile(list, 'dir /etc 0755 0 0\n');
    expectOneLineError(await cli(['build', list, '-o', join(work, 'list-out')]), /project/i);
    const zip = join(work, 'other.zip');
    await writeFile(zip, zipSync({ 'readme.txt': strToU8('hello') }));
    expectOneLineError(await cli(['build', zip, '-o', join(work, 'zip-out')]), /bootsmith\.json|project/i);
    expect(existsSync(join(work, 'zip-out', 'initramfs.cpio.gz'))).toBe(false);
  });

  it('new --board fails clearly while no kits exist, and writes no file', async () => {
    const proj = join(work, 'board.bootsmith');
    expectOneLineError(await cli(['new', '--board', 'x', '-o', proj]), /board|kit/i);
    expect(existsSync(proj)).toBe(false);
  });

  it('add twice keeps both, a folder adds its tree, --mode applies, re-adding a path replaces it', async () => {
    const dir = await tempDir();
    const proj = join(dir, 'p.bootsmith');
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const n = await mustCli(['new', '--name', 'two adds', '-o', proj], { env });
    expect(n.stdout).toContain('two adds');
    const one = join(dir, 'one');
    const two = join(dir, 'two');
    await writeFile(one, 'one\n');
    await writeFile(two, 'two\n');
    await chmod(one, 0o644);
    await mustCli(['add', proj, one, '/etc/one', '--mode', '4711'], { env });
    await mustCli(['add', proj, two, 'etc/two', '--uid', '1000', '--gid', '100'], { env });
    // a folder: its whole tree arrives under the destination
    const folder = join(dir, 'folder');
    await mkdir(join(folder, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(folder, 'top.txt'), 'top\n');
    await writeFile(join(folder, 'sub', 'deeper', 'leaf.txt'), 'leaf\n');
    for (const d of ['sub', 'sub/deeper']) await chmod(join(folder, d), 0o755);
    for (const f of ['top.txt', 'sub/deeper/leaf.txt']) await chmod(join(folder, f), 0o644);
    await mustCli(['add', proj, folder, '/srv/data', '--mode', '0750'], { env });
    // adding to an existing path replaces the entry
    const replacement = join(dir, 'replacement');
    await writeFile(replacement, 'replaced\n');
    await chmod(replacement, 0o644);
    await mustCli(['add', proj, replacement, '/etc/two', '--uid', '1000', '--gid', '100'], { env });

    const outDir = join(dir, 'out');
    const b = await mustCli(['build', proj, '-o', outDir], { env });
    const gz = join(outDir, 'initramfs.cpio.gz');
    expect(existsSync(gz)).toBe(true);
    const tree = await describeTree(await extractCpio(gz), { ignoreMtimeOf: ['dir', 'symlink'] });
    const summary = tree.map((x) => [x.path, x.type, x.mode.toString(8), `${x.uid}:${x.gid}`, x.sha256 ?? '']);
    expect(summary).toEqual([
      ['/etc', 'dir', '755', '0:0', ''],
      ['/etc/one', 'file', '4711', '0:0', sha256('one\n')],
      ['/etc/two', 'file', '644', '1000:100', sha256('replaced\n')],
      ['/srv', 'dir', '755', '0:0', ''],
      ['/srv/data', 'dir', '750', '0:0', ''],
      ['/srv/data/sub', 'dir', '755', '0:0', ''],
      ['/srv/data/sub/deeper', 'dir', '755', '0:0', ''],
      ['/srv/data/sub/deeper/leaf.txt', 'file', '644', '0:0', sha256('leaf\n')],
      ['/srv/data/top.txt', 'file', '644', '0:0', sha256('top\n')],
    ]);
    // build prints the output's name, size and its real sha256
    const line = b.stdout.trim().split('\n').find((l) => l.includes('initramfs.cpio.gz'));
    expect(line).toBeDefined();
    expect(line).toContain(await sha256File(gz));
    expect(line).toContain(String((await readFile(gz)).length));
  });

  it('add refuses a bad --mode and a missing source, leaving the project unchanged', async () => {
    const dir = await tempDir();
    const proj = join(dir, 'p.bootsmith');
    await mustCli(['new', '-o', proj]);
    const before = await sha256File(proj);
    const f = join(dir, 'f');
    await writeFile(f, 'x');
    expectOneLineError(await cli(['add', proj, f, '/f', '--mode', '0999']), '--mode', '0999');
    expectOneLineError(await cli(['add', proj, f, '/f', '--uid', '-1']), /uid|-1/);
    expectOneLineError(await cli(['add', proj, join(dir, 'missing'), '/m']), 'missing');
    expectOneLineError(await cli(['add', proj, f, '/']), /dest|root/i);
    expect(await sha256File(proj)).toBe(before);
  });

  it('build of an empty project writes a valid (empty) initramfs', async () => {
    const dir = await tempDir();
    const proj = join(dir, 'empty.bootsmith');
    await mustCli(['new', '-o', proj]);
    const outDir = join(dir, 'out');
    const r = await mustCli(['build', proj, '-o', outDir]);
    const gz = join(outDir, 'initramfs.cpio.gz');
    expect(r.stdout).toContain(await sha256File(gz));
    expect((await must('gzip', ['-t', gz])).code).toBe(0);
    expect((await describeTree(await extractCpio(gz))).length).toBe(0);
  });

  it('new with SOURCE_DATE_EPOCH is byte-identical each time', async () => {
    const dir = await tempDir();
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    await mustCli(['new', '--name', 'same', '-o', join(dir, 'a.bootsmith')], { env });
    await mustCli(['new', '--name', 'same', '-o', join(dir, 'b.bootsmith')], { env });
    // the project id is random by design; the build output must still be the same
    await mustCli(['build', join(dir, 'a.bootsmith'), '-o', join(dir, 'oa')], { env });
    await mustCli(['build', join(dir, 'b.bootsmith'), '-o', join(dir, 'ob')], { env });
    expect(await sha256File(join(dir, 'oa', 'initramfs.cpio.gz'))).toBe(await sha256File(join(dir, 'ob', 'initramfs.cpio.gz')));
  });
});
