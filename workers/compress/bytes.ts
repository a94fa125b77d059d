// Small byte helpers shared by the archive readers.

/** Raw header bytes as a string, one character per byte. */
export const latin1 = (b: Uint8Array, start: number, end: number) =>
  String.fromCharCode(...b.subarray(start, Math.min(b.length, end)));

/** A quoted, printable rendering of raw header text for messages: `"0000x44\x00"`. */
export const printable = (s: string) =>
  '"' + [...s].map((c) => (/[\x20-\x7e]/.test(c) && c !== '"' && c !== '\\' ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)).join('') + '"';

/** A Blob holding a copy of the bytes (the archive buffer itself can then be dropped). */
export function blobOf(bytes: Uint8Array): Blob {
  return new Blob([bytes as Uint8Array<ArrayBuffer>]);
}
