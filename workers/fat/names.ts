// What a FAT long name (VFAT) can hold, as our writer (mtools.wasm) stores it, and the volume
// label rules of mkfs.fat. Pure; no I/O.
//
// Rules, each checked against mtools 4.0.32 and the Linux vfat driver:
//  - FAT forbids " * / : < > ? \ | and control characters (U+0000–U+001F) in long names.
//  - Windows and Linux drop trailing dots from a name and mtools drops trailing spaces, so
//    "a." or "a " would come back as "a": refused.
//  - mtools refuses the DOS device names CON, AUX, PRN, NUL, COM1–COM4 and LPT1–LPT4 (whole
//    name, any case).
//  - FAT long names are UTF-16, at most 255 units. mtools 4.0.32 silently drops characters
//    outside the Basic Multilingual Plane (emoji and the like): refused, with the character named.
//  - FAT folders are case-insensitive: two names in one folder that differ only by case would
//    collide (mtools asks interactively, Windows shows one of them): refused, naming both.
//  - Short-name trap: mtools writes no long name for a name that fits 8.3 and converts losslessly
//    to the DOS code page ("config.txt" becomes CONFIG.TXT with lower-case flags). For a name
//    with non-ASCII characters such as "é.txt" that gives a short name in code page bytes, which
//    reads back as "É.txt" or worse depending on the reader's code page. mtools writes a long
//    name when a character has no place in the code page, so each such name is copied under a
//    code page (850, 866, 437 or 1252) that lacks one of its characters; a name that every one
//    of them can hold (e.g. "°" alone) is refused with a hint.
//  - Three mtools 4.0.32 bugs in making short names are worked around (found by the random trees
//    of tests/fat): a short-name stem ending in "~" (needsPlainTail: created without numeric
//    tails), one ending in "~0" and more digits (refused), and ; + = [ ] ' , being replaced in
//    the long name too (needsOwnRun: such names get a run of their own).

import { CODEPAGES, type Codepage, UPPER_HALF } from './codepages.ts';

export { CODEPAGES, type Codepage };
export const DEFAULT_CODEPAGE: Codepage = 850;

const ILLEGAL = new Set(['"', '*', '/', ':', '<', '>', '?', '\\', '|']);
const DEVICE_NAMES = /^(con|aux|prn|nul|com[1-4]|lpt[1-4])$/i;
/** Most UTF-16 units in one FAT long name. */
export const LFN_MAX = 255;

const SETS = new Map<Codepage, Set<string>>(CODEPAGES.map((cp) => [cp, new Set(UPPER_HALF[cp])]));

/** A single code point's simple upper (or lower) case, or the code point itself when the mapping
 *  is not one code point ("ß" → "SS"). */
function single(c: string, f: (s: string) => string): string {
  const m = f(c);
  return [...m].length === 1 ? m : c;
}
const upper1 = (c: string) => single(c, (s) => s.toUpperCase());
const lower1 = (c: string) => single(c, (s) => s.toLowerCase());

function hex(c: string): string {
  return 'U+' + c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
}

/** Why FAT (as we write it) cannot hold this name, or undefined. */
export function fatNameProblem(name: string): string | undefined {
  for (const c of name) {
    const cp = c.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) return `the name contains an unpaired UTF-16 surrogate (${hex(c)}), which is not valid Unicode`;
    if (cp > 0xffff) return `the name contains "${c}" (${hex(c)}), a character outside Unicode's Basic Multilingual Plane, which our FAT writer (mtools) cannot store in a long name`;
    if (cp < 0x20) return `the name contains the control character ${hex(c)}, which FAT does not allow`;
    if (ILLEGAL.has(c)) return `the name contains "${c}", which FAT does not allow in names (" * / : < > ? \\ | are reserved)`;
  }
  if (name.endsWith('.')) return 'the name ends with a dot, which FAT drops (it would come back without it)';
  if (name.endsWith(' ')) return 'the name ends with a space, which FAT drops (it would come back without it)';
  if (DEVICE_NAMES.test(name)) return `"${name}" is a reserved DOS device name, which FAT tools refuse`;
  if (brokenNumericTail(name)) {
    return `its first 8 characters end in "${/~0\d+$/.exec(shortStem(name))![0]}", for which our FAT writer (mtools 4.0.32) makes a broken short name`;
  }
  if (name.length > LFN_MAX) return `the name is ${name.length} UTF-16 units long; FAT long names hold at most ${LFN_MAX}`;
  if (codepageFor(name) === undefined) {
    return 'the name is short (8.3) and its non-ASCII characters are in every DOS code page we can use, so it would be stored as a DOS short name that other systems read differently';
  }
  return undefined;
}

/** The fix to suggest for a problem found by fatNameProblem. */
export function fatNameFix(name: string): string {
  if (brokenNumericTail(name)) return 'Rename it, e.g. drop the zeros after the "~".';
  if (codepageFor(name) === undefined && !/[\u0000-\u001f"*/:<>?\\|]/.test(name)) {
    return 'Rename it, e.g. add an ASCII letter or make the part before the dot longer than 8 characters.';
  }
  return 'Rename it (FAT keeps letters, digits, spaces and most punctuation), or leave it out of the FAT partition.';
}

/** The key under which FAT treats names as equal: case-folded by simple (one code point) upper
 *  and lower case mappings, so "Kernel.IMG" = "kernel.img", "ẞ" = "ß", "K" (Kelvin) = "k". */
export function foldKey(name: string): string {
  if (/^[\u0000-\u007f]*$/.test(name)) return name.toUpperCase();
  let out = '';
  for (const c of name) {
    const u = upper1(c), l = lower1(c);
    let k = c;
    for (const x of [u, l, upper1(l), lower1(u)]) if (x < k) k = x;
    out += k;
  }
  return out;
}

/** Whether mtools might store this name as a short name only (no long name) under some code
 *  page: it fits 8.3 (≤ 8 characters, one optional dot, ≤ 3 after it, no spaces, no leading
 *  dot). An over-approximation: mixed case, for one, also forces a long name. */
export function mayBeShortOnly(name: string): boolean {
  return /^[^. ]{1,8}(\.[^. ]{1,3})?$/u.test(name);
}

/** Whether mtools, run with DEFAULT_CODEPAGE=cp, writes a long name for `name` (or needs none
 *  because the name is ASCII or too long for 8.3): some non-ASCII character has no byte in the
 *  code page, neither as written nor upper-cased (mtools upper-cases short names before
 *  converting them, with its own case tables; requiring both covers either way). */
export function codepageKeepsName(name: string, cp: Codepage): boolean {
  if (!/[^\u0000-\u007f]/.test(name) || !mayBeShortOnly(name)) return true;
  const set = SETS.get(cp)!;
  const mappable = (c: string) => c.charCodeAt(0) < 0x80 || set.has(c);
  for (const c of name) {
    // "ı" upper-cases to ASCII "I": mappable everywhere, so it never forces a long name.
    if (c.charCodeAt(0) >= 0x80 && !mappable(c) && !mappable(upper1(c))) return true;
  }
  return false;
}

/** The code page to copy this name under (850 unless the name needs another), or undefined
 *  when none of ours gives it a long name. */
export function codepageFor(name: string): Codepage | undefined {
  return CODEPAGES.find((cp) => codepageKeepsName(name, cp));
}

/** A short name mtools could create without a long name and that contains "~": it may equal the
 *  short alias ("LONGFI~1.TXT") mtools generates for a long name created earlier in the same
 *  folder, which mtools treats as a clash. Such names are created first in their folder. */
export function isTildeShortName(name: string): boolean {
  return name.includes('~') && /^[\u0021-\u007e]+$/.test(name) && mayBeShortOnly(name);
}

/** The stem mtools derives a short name from: the first 8 characters before the last dot
 *  (leading dots and spaces skipped), without spaces and dots. */
function shortStem(name: string): string {
  const s = name.replace(/^[. ]+/, '');
  const dot = s.lastIndexOf('.');
  return [...(dot >= 0 ? s.slice(0, dot) : s)].slice(0, 8).join('').replace(/[ .]/g, '');
}

/** mtools 4.0.32 writes a broken short name (a NUL byte in it, and a long name whose checksum
 *  does not match; fsck.fat complains) when the short-name stem ends with "~" and it has to
 *  make the short name unique ("a=b~~", "abcdefg~xyz.txt"): its autorename (vfat.c) appends
 *  "~0" and a terminating NUL past the stem. Run with MTOOLS_NAME_NUMERIC_TAIL=0 it leaves such
 *  a stem alone (and numbers it "~1", "~2" only on a clash), which is correct. */
export function needsPlainTail(name: string): boolean {
  return shortStem(name).endsWith('~');
}

/** The same autorename rewrites a stem ending in "~" and digits with the number re-printed:
 *  "~007" becomes "~7", and the NUL after it lands inside the short name. No setting avoids
 *  that, so such names are refused (they are rare: "x~00;y", "abc~007 z"). */
function brokenNumericTail(name: string): boolean {
  return /~0\d+$/.test(shortStem(name));
}

/** mtools 4.0.32 (dos_name in file_name.c) leaves the terminator of the short name it builds
 *  unset and then replaces ; + = [ ] ' , (characters short names cannot hold) with "_" up to
 *  the next NUL byte: past the short name, through whatever follows on the stack. Under WASI
 *  that is the long name being written, so "a;b long name" can come out as "a_b long name" —
 *  when an earlier step of the same run left the terminator's byte non-zero (seen after a long
 *  name with "=" in a folder copied before it). A run's first new name finds a clean stack, so
 *  each name with these characters is created by a run of its own, as the first name there.
 *  (wasm-tools could patch mtools instead: set dn->sentinel = '\0' after the memset in
 *  dos_name.) */
export function needsOwnRun(name: string): boolean {
  return /[;+=[\]',]/.test(name);
}

const LABEL_CHARS = /^[A-Z0-9 !#$%&'()\-@^_`{}~]$/;

/** The volume label as mkfs.fat gets it: upper-cased, trailing spaces dropped, at most 11
 *  characters from A–Z, 0–9, space (not first) and ! # $ % & ' ( ) - @ ^ _ ` { } ~. Returns
 *  the label ("" for none) or the problem as a complete message. */
export function normalizeLabel(label: string): { label: string } | { problem: string } {
  const l = label.replace(/[a-z]/g, (c) => c.toUpperCase()).replace(/ +$/, '');
  for (const c of l) {
    if (!LABEL_CHARS.test(c)) {
      const what = c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? `the control character ${hex(c)}` : `"${c}"${c.codePointAt(0)! > 0x7e ? ` (${hex(c)})` : ''}`;
      return { problem: `The FAT label "${label}" contains ${what}, which a FAT label cannot hold. Use up to 11 of A–Z, 0–9, space and ! # $ % & ' ( ) - @ ^ _ \` { } ~.` };
    }
  }
  if (l.startsWith(' ')) return { problem: `The FAT label "${label}" starts with a space, which FAT does not allow. Remove the leading space.` };
  if (l.length > 11) return { problem: `The FAT label "${label}" is ${l.length} characters long; a FAT label holds at most 11. Shorten it.` };
  return { label: l };
}
