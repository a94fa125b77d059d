import { describe, expect, it } from 'vitest';
import { LineBuffer, cleanText, recognizeEnd, withoutTimestamp } from './console.ts';
import { shellQuote } from './session.ts';

describe('console text', () => {
  it('drops terminal escapes and carriage returns', () => {
    expect(cleanText('/ # \x1b[6n')).toBe('/ # ');
    expect(cleanText('a\r\nb\rc\x1b[0;32mgreen\x1b[0m\x1b]0;title\x07\x1b7')).toBe('a\nb\ncgreen');
    expect(cleanText('tab\tkept\x00\x08')).toBe('tab\tkept');
  });

  it('hands out whole lines and keeps the unfinished one', () => {
    const b = new LineBuffer();
    expect(b.push('one\ntw')).toEqual(['one']);
    expect(b.pending).toBe('tw');
    expect(b.push('o\n\nthree')).toEqual(['two', '']);
    expect(b.pending).toBe('three');
  });

  it('strips kernel timestamps', () => {
    expect(withoutTimestamp('[    1.234567] Run /init as init process')).toBe('Run /init as init process');
    expect(withoutTimestamp('plain')).toBe('plain');
  });
});

describe('how a boot ends', () => {
  const history = [
    '[    2.0] Freeing unused kernel image (initmem) memory: 912K',
    '[    2.1] Run /init as init process',
    '[    2.2] Failed to execute /init (error -8)',
    '[    2.3] Run /sbin/init as init process',
  ];

  it('a panic, with the lines that explain it', () => {
    const end = recognizeEnd('[    2.5] Kernel panic - not syncing: No working init found.  Try passing init= option to kernel. See Linux Documentation/admin-guide/init.rst for guidance.', history)!;
    expect(end.kind).toBe('panic');
    expect(end.reason).toMatch(/^No working init found\./);
    expect(end.summary).toBe(`kernel panic: ${end.reason}`);
    expect(end.lines).toEqual([history[1], history[2], history[3], expect.stringContaining('Kernel panic')]);
  });

  it('/init exiting, with its status or signal', () => {
    const exited = recognizeEnd('[    6.2] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000300', [])!;
    expect(exited).toMatchObject({ kind: 'init-exit', status: 3 });
    expect(exited.summary).toMatch(/^\/init exited with status 3/);
    const killed = recognizeEnd('Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b', [])!;
    expect(killed).toMatchObject({ kind: 'init-exit', signal: 11 });
  });

  it('a power-off or halt; ordinary lines are not an end', () => {
    expect(recognizeEnd('[   9.0] reboot: Power down', [])).toMatchObject({ kind: 'halted', summary: 'the machine powered off' });
    expect(recognizeEnd('reboot: System halted', [])).toMatchObject({ kind: 'halted' });
    expect(recognizeEnd('echo Kernel panic is just text here', [])).toBeUndefined();
    expect(recognizeEnd('Run /init as init process', [])).toBeUndefined();
  });
});

describe('scripted commands', () => {
  it('quotes a command line as one shell word', () => {
    expect(shellQuote('echo hi')).toBe("'echo hi'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
});
