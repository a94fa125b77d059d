import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Sha256 } from './sha256.ts';

describe('Sha256', () => {
  it('matches the FIPS 180-4 examples', () => {
    const enc = new TextEncoder();
    expect(new Sha256().update(enc.encode('abc')).hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(new Sha256().hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(new Sha256().update(enc.encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).hex())
      .toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });
  it('gives the same digest however the input is split', () => {
    const data = new Uint8Array(10_000).map((_, i) => (i * 31 + 7) & 0xff);
    const want = createHash('sha256').update(data).digest('hex');
    for (const step of [1, 3, 63, 64, 65, 1000, 9999]) {
      const h = new Sha256();
      for (let i = 0; i < data.length; i += step) h.update(data.subarray(i, i + step));
      expect(h.hex()).toBe(want);
    }
  });
});
