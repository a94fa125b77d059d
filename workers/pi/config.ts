// config.txt, the Raspberry Pi firmware's settings file: parsing that keeps every line (so an edit
// changes only the lines it means to), the values the firmware would apply on a given board, edits
// to the unconditional part, and the small form the UI shows.
//
// Rules followed (Raspberry Pi documentation, config_txt/what_is_config_txt.adoc, conditional.adoc,
// boot.adoc): one `key=value` per line; `#` starts a comment line; at most 98 characters of a line
// are read; the last value of a key wins; `[filter]` lines make the lines below conditional until
// `[all]`; filters of the same type replace each other, filters of different types combine;
// `initramfs <files> <address|followkernel>` is written without `=`; `include <file>` inserts a file.

import type { Board } from '../kits/boards.ts';

/** Characters of a line the firmware reads; the rest is ignored (older firmware: 78). */
export const CONFIG_LINE_MAX = 98;

export type ConfigLineKind = 'blank' | 'comment' | 'filter' | 'setting' | 'initramfs' | 'include' | 'invalid';

export interface ConfigLine {
  /** 1-based line number. */
  line: number;
  /** The line as written, without its line ending (a leading BOM stays here). */
  raw: string;
  /** '\n', '\r\n', or '' for a last line without one. */
  eol: string;
  kind: ConfigLineKind;
  /** Settings: the key as written (`dtoverlay`); 'initramfs' and 'include' for those lines. */
  key?: string;
  /** Settings: the text after `=` (or after the first space for `key value` lines), trimmed.
   *  initramfs: everything after the keyword ("initramfs.cpio.gz followkernel"). include: the file. */
  value?: string;
  /** Filter lines: the text between the brackets, trimmed ("pi4", "board-type=0x11"). */
  filter?: string;
  /** Index into `sections`. */
  section: number;
}

export interface ConfigSection {
  /** The filter that opened it; undefined for the part above the first filter line. */
  filter?: string;
  /** Index in `lines` of the filter line (or 0 for the top part). */
  start: number;
  /** True when no filter is in force here: the top part, and every part opened by [all]. */
  unconditional: boolean;
}

export interface ConfigTxt {
  lines: ConfigLine[];
  sections: ConfigSection[];
  /** The text started with a UTF-8 byte order mark, which hides the first key from the firmware. */
  bom: boolean;
}

function splitLines(text: string): { raw: string; eol: string }[] {
  const out: { raw: string; eol: string }[] = [];
  const re = /\r?\n/g;
  let at = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ raw: text.slice(at, m.index), eol: m[0] });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push({ raw: text.slice(at), eol: '' });
  return out;
}

function classify(raw: string): Omit<ConfigLine, 'line' | 'raw' | 'eol' | 'section'> {
  const t = raw.replace(/^\uFEFF/, '').trim();
  if (t === '') return { kind: 'blank' };
  if (t.startsWith('#')) return { kind: 'comment' };
  // "initramfs=file" is a common slip: the firmware only knows "initramfs <file> <address>".
  if (/^initramfs\s*=/.test(t)) return { kind: 'invalid', key: 'initramfs' };
  const f = /^\[(.*)\]$/.exec(t);
  if (f) return { kind: 'filter', filter: f[1].trim() };
  const ir = /^initramfs\s+(\S.*)$/.exec(t);
  if (ir) return { kind: 'initramfs', key: 'initramfs', value: ir[1].trim() };
  const inc = /^include\s+(\S.*)$/.exec(t);
  if (inc) return { kind: 'include', key: 'include', value: inc[1].trim() };
  const kv = /^([A-Za-z0-9_:.+-]+)\s*=\s*(.*)$/.exec(t);
  if (kv) return { kind: 'setting', key: kv[1], value: kv[2].trim() };
  // "dtoverlay name" (a space instead of '=') is accepted by the firmware for some keys.
  const ks = /^([A-Za-z0-9_:.+-]+)\s+(\S.*)$/.exec(t);
  if (ks && !t.startsWith('[')) return { kind: 'setting', key: ks[1], value: ks[2].trim() };
  return { kind: 'invalid' };
}

export function parseConfigTxt(text: string): ConfigTxt {
  const lines: ConfigLine[] = [];
  const sections: ConfigSection[] = [{ start: 0, unconditional: true }];
  splitLines(text).forEach(({ raw, eol }, i) => {
    const c = classify(raw);
    if (c.kind === 'filter') {
      sections.push({ filter: c.filter, start: i, unconditional: c.filter!.toLowerCase() === 'all' });
    }
    lines.push({ line: i + 1, raw, eol, section: sections.length - 1, ...c });
  });
  return { lines, sections, bom: text.startsWith('\uFEFF') };
}

export function formatConfigTxt(cfg: ConfigTxt): string {
  return cfg.lines.map((l) => l.raw + l.eol).join('');
}

// ---------------------------------------------------------------------------------------------
// Conditional filters

/** Model filters, [board-type=] and [none] are one type: a later one replaces an earlier one. */
const MODEL_FILTERS = new Set(['pi1', 'pi2', 'pi3', 'pi3+', 'pi4', 'pi400', 'cm4', 'cm4s', 'pi0', 'pi0w', 'pi02', 'pi5', 'pi500', 'cm5', 'none']);

/** What each board model sees: the model filters that match it and its revision-code board type
 *  (Raspberry Pi documentation, conditional.adoc and revision-codes.adoc). Keyed by the names in
 *  boards.ts `models`. */
export const MODEL_INFO: Record<string, { filters: string[]; boardType: number; dtb: string }> = {
  'Raspberry Pi 3 Model B': { filters: ['pi3'], boardType: 0x08, dtb: 'bcm2837-rpi-3-b.dtb' },
  'Raspberry Pi 3 Model B+': { filters: ['pi3', 'pi3+'], boardType: 0x0d, dtb: 'bcm2837-rpi-3-b-plus.dtb' },
  'Raspberry Pi Zero 2 W': { filters: ['pi0', 'pi0w', 'pi02'], boardType: 0x12, dtb: 'bcm2837-rpi-zero-2-w.dtb' },
  'Raspberry Pi 4 Model B': { filters: ['pi4'], boardType: 0x11, dtb: 'bcm2711-rpi-4-b.dtb' },
};

export type Cond = 'yes' | 'no' | 'maybe';

export interface FilterInfo {
  /** Filters of the same type replace each other. */
  type: string;
  /** Whether the firmware documents this filter. */
  known: boolean;
  /** Whether it matches the given model: 'maybe' for filters that depend on things a static
   *  check can't know (the monitor, a GPIO, the serial number, a tryboot reboot, or an unknown
   *  filter). */
  cond: Cond;
}

/** How a filter line's text applies to one board model (undefined model: any model may match). */
export function classifyFilter(filter: string, model?: { filters: string[]; boardType: number }): FilterInfo {
  const f = filter.trim().toLowerCase();
  if (f === 'all') return { type: 'all', known: true, cond: 'yes' };
  if (MODEL_FILTERS.has(f)) {
    if (f === 'none') return { type: 'model', known: true, cond: 'no' };
    return { type: 'model', known: true, cond: model ? (model.filters.includes(f) ? 'yes' : 'no') : 'maybe' };
  }
  const bt = /^board-type=(0x[0-9a-f]+|\d+)$/.exec(f);
  if (bt) return { type: 'model', known: true, cond: model ? (Number(bt[1]) === model.boardType ? 'yes' : 'no') : 'maybe' };
  if (/^edid=/.test(f)) return { type: 'edid', known: true, cond: 'maybe' };
  if (/^0x[0-9a-f]+$/.test(f)) return { type: 'serial', known: true, cond: 'maybe' };
  const g = /^gpio(\d+)=[01]$/.exec(f);
  if (g) return { type: `gpio${g[1]}`, known: true, cond: 'maybe' };
  // [HDMI:n] picks the port that HDMI settings below it are for; every other setting applies.
  if (/^hdmi:[01]$/.test(f)) return { type: 'hdmi', known: true, cond: 'yes' };
  if (f === 'tryboot') return { type: 'tryboot', known: true, cond: 'maybe' };
  return { type: `unknown:${f}`, known: false, cond: 'maybe' };
}

/** The models a board covers, with their filters; unknown models get undefined (any filter may match). */
export function boardModels(board: Board): ({ name: string; filters: string[]; boardType: number; dtb: string } | { name: string; filters?: undefined; boardType?: undefined; dtb?: undefined })[] {
  const names = board.models.length ? board.models : [board.name];
  return names.map((name) => (MODEL_INFO[name] ? { name, ...MODEL_INFO[name] } : { name }));
}

// ---------------------------------------------------------------------------------------------
// Effective settings

export interface AppliedValue {
  value: string;
  /** 1-based line in `file`. */
  line: number;
  /** undefined: config.txt itself; otherwise the included file it came from. */
  file?: string;
  /** For lines of included files: the lines of the include lines that led there, outermost first. */
  via?: number[];
  /** Applies on every model of the board, whatever the monitor, GPIOs or unknown filters. */
  certain: boolean;
}

export interface EffectiveValue {
  /** The value the firmware applies: the last line that applies (for sure or possibly). */
  value: string;
  line: number;
  file?: string;
  via?: number[];
  /** Every model of the board gets exactly this line's value, with no unknown filter involved. */
  certain: boolean;
  /** Every value the key may end up with on some model or filter outcome, in file order. */
  possible: AppliedValue[];
  /** The key may also be left unset (e.g. only set under [pi3+] on a Pi 3 kit). */
  maybeUnset: boolean;
  /** Every line of the key that applies, in order: what counts for keys that add up instead of
   *  replacing each other (dtoverlay, dtparam, include, gpio). */
  all: AppliedValue[];
}

export interface EffectiveOptions {
  /** Contents of an included file, if known; included files that are unknown are skipped. */
  include?: (name: string) => string | undefined;
}

interface KeyState { possible: AppliedValue[]; unset: boolean; all: AppliedValue[] }

function simulate(cfg: ConfigTxt, model: { filters: string[]; boardType: number } | undefined, opts: EffectiveOptions): Map<string, KeyState> {
  const state = new Map<string, KeyState>();
  const filters = new Map<string, Cond>();
  const condNow = (): Cond => {
    let c: Cond = 'yes';
    for (const v of filters.values()) {
      if (v === 'no') return 'no';
      if (v === 'maybe') c = 'maybe';
    }
    return c;
  };
  const walk = (c: ConfigTxt, file: string | undefined, via: number[]) => {
    for (const l of c.lines) {
      if (l.kind === 'filter') {
        const info = classifyFilter(l.filter!, model);
        if (info.type === 'all') filters.clear();
        else filters.set(info.type, info.cond);
        continue;
      }
      if (l.kind !== 'setting' && l.kind !== 'initramfs' && l.kind !== 'include') continue;
      const cond = condNow();
      if (cond === 'no') continue;
      const key = l.key!;
      const applied: AppliedValue = { value: l.value!, line: l.line, file, certain: cond === 'yes' };
      if (via.length) applied.via = via;
      let s = state.get(key);
      if (!s) state.set(key, (s = { possible: [], unset: true, all: [] }));
      s.all.push(applied);
      if (cond === 'yes') { s.possible = [applied]; s.unset = false; } else s.possible.push(applied);
      if (l.kind === 'include' && via.length < 4) {
        const text = opts.include?.(l.value!);
        if (text !== undefined) walk(parseConfigTxt(text), l.value!, [...via, l.line]);
      }
    }
  };
  walk(cfg, undefined, []);
  return state;
}

const posOf = (a: AppliedValue) => [...(a.via ?? []), a.line];
const sameSource = (a: AppliedValue, b: AppliedValue) => posOf(a).join() === posOf(b).join();
/** File order: config.txt lines and the lines of files included from them, in reading order. */
const order = (a: AppliedValue, b: AppliedValue) => {
  const x = posOf(a), y = posOf(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
};

/** The settings the firmware would apply on this board. Where the board covers several models
 *  (a Pi 3 kit: 3 Model B and 3 Model B+, which also sees [pi3+]), each is simulated and the
 *  results merged; a value that only some models or unknown filters give is not `certain`. */
export function effectiveSettings(cfg: ConfigTxt, board: Board, opts: EffectiveOptions = {}): Map<string, EffectiveValue> {
  const models = boardModels(board);
  const runs = models.map((m) => simulate(cfg, m.filters ? { filters: m.filters, boardType: m.boardType } : undefined, opts));
  const keys = new Set<string>();
  for (const r of runs) for (const k of r.keys()) keys.add(k);
  const out = new Map<string, EffectiveValue>();
  for (const key of keys) {
    const possible: AppliedValue[] = [];
    const all: AppliedValue[] = [];
    let maybeUnset = false;
    for (const r of runs) {
      const s = r.get(key);
      if (!s) { maybeUnset = true; continue; }
      if (s.unset) maybeUnset = true;
      for (const p of s.possible) if (!possible.some((q) => sameSource(p, q))) possible.push({ ...p });
      for (const a of s.all) {
        const have = all.find((q) => sameSource(a, q));
        if (have) have.certain &&= a.certain;
        else all.push({ ...a });
      }
    }
    if (!possible.length) continue;
    // A line counts as certain only if every model applied it for sure.
    for (const a of all) if (runs.some((r) => !r.get(key)?.all.some((q) => sameSource(a, q) && q.certain))) a.certain = false;
    possible.sort(order);
    all.sort(order);
    const last = possible[possible.length - 1];
    const certain = !maybeUnset && possible.length === 1 && runs.every((r) => r.get(key)?.possible.length === 1);
    for (const p of possible) p.certain = certain;
    out.set(key, { value: last.value, line: last.line, file: last.file, ...(last.via ? { via: last.via } : {}), certain, possible, maybeUnset, all });
  }
  return out;
}

/** `initramfs` value → the files (comma-separated) and the load address or "followkernel". */
export function parseInitramfsValue(value: string): { files: string[]; address?: string } {
  const [files = '', address] = value.trim().split(/\s+/);
  return { files: files.split(',').filter(Boolean), address };
}

// ---------------------------------------------------------------------------------------------
// Edits to the unconditional part

function dominantEol(cfg: ConfigTxt): string {
  let crlf = 0, lf = 0;
  for (const l of cfg.lines) if (l.eol === '\r\n') crlf++; else if (l.eol === '\n') lf++;
  return crlf > lf ? '\r\n' : '\n';
}

function isKeyLine(l: ConfigLine, key: string): boolean {
  // The "initramfs=file" slip counts too, so that setting the initramfs mends it.
  if (key === 'initramfs') return l.kind === 'initramfs' || (l.kind === 'invalid' && l.key === 'initramfs');
  return l.kind === 'setting' && l.key === key;
}

/** Replaces the last unconditional line of `key` with `newLine` (removing the other unconditional
 *  ones), or inserts `newLine` at the end of the last unconditional part; undefined removes every
 *  unconditional line of the key. Lines under filters are left alone. */
function editUnconditional(text: string, key: string, newLine: string | undefined): string {
  const cfg = parseConfigTxt(text);
  const eol = dominantEol(cfg);
  const lines: { raw: string; eol: string; drop?: boolean }[] = cfg.lines.map((l) => ({ raw: l.raw, eol: l.eol }));
  const hits = cfg.lines.filter((l) => cfg.sections[l.section].unconditional && isKeyLine(l, key)).map((l) => l.line - 1);
  for (const i of newLine === undefined ? hits : hits.slice(0, -1)) lines[i].drop = true;
  if (newLine !== undefined && hits.length) {
    const i = hits[hits.length - 1];
    // Keep a BOM where it was: the checks report it, edits don't silently change it.
    lines[i].raw = (lines[i].raw.startsWith('\uFEFF') ? '\uFEFF' : '') + newLine;
  } else if (newLine !== undefined) {
    const after = insertionPoint(cfg);
    let newEol = eol;
    // Appending after a last line that has no line ending: it gets one, the new line doesn't.
    if (after >= 0 && lines[after].eol === '') { lines[after].eol = eol; newEol = ''; }
    lines.splice(after + 1, 0, { raw: newLine, eol: newEol });
  }
  const kept = lines.filter((l) => !l.drop);
  // Removing a last line that had no line ending: the new last line loses its own.
  if (kept.length && lines.length && lines[lines.length - 1].drop && lines[lines.length - 1].eol === '') kept[kept.length - 1].eol = '';
  return kept.map((l) => l.raw + l.eol).join('');
}

/** Where a new unconditional line goes (it is inserted after this index; -1: at the top): after
 *  the last setting of the last unconditional part; in an [all] part without settings, right
 *  after the [all] line; in a top part without settings, after its opening comments but before
 *  any comments that lead into the first filter. */
function insertionPoint(cfg: ConfigTxt): number {
  const L = cfg.lines;
  const secIdx = cfg.sections.map((s, i) => (s.unconditional ? i : -1)).filter((i) => i >= 0).pop()!;
  let after = -1;
  for (const l of L) {
    if (l.section === secIdx && (l.kind === 'setting' || l.kind === 'initramfs' || l.kind === 'include' || l.kind === 'invalid')) after = l.line - 1;
  }
  if (after >= 0) return after;
  if (secIdx > 0) return cfg.sections[secIdx].start;
  let j = (cfg.sections[1]?.start ?? L.length) - 1;
  if (cfg.sections[1]) while (j >= 0 && L[j].kind === 'comment') j--;
  while (j >= 0 && L[j].kind === 'blank') j--;
  return j;
}

/** Sets `key=value` in the unconditional part of config.txt (the top, or an [all] section):
 *  replaces the last occurrence there, or adds it; undefined removes it. For `initramfs` the value
 *  is "<files> <address>". */
export function setSetting(text: string, key: string, value: string | undefined): string {
  if (key === 'initramfs') return editUnconditional(text, key, value === undefined ? undefined : `initramfs ${value}`);
  return editUnconditional(text, key, value === undefined ? undefined : `${key}=${value}`);
}

/** Sets the unconditional `initramfs <file> <address>` line; the address defaults to the one
 *  already written there, else followkernel. undefined removes the line. */
export function setInitramfs(text: string, file: string | undefined, address?: string): string {
  if (file === undefined) return editUnconditional(text, 'initramfs', undefined);
  const current = unconditionalLine(parseConfigTxt(text), 'initramfs');
  const addr = address ?? (current?.value !== undefined ? parseInitramfsValue(current.value).address : undefined) ?? 'followkernel';
  return editUnconditional(text, 'initramfs', `initramfs ${file} ${addr}`);
}

/** The last line of `key` in the unconditional part, if any. */
export function unconditionalLine(cfg: ConfigTxt, key: string): ConfigLine | undefined {
  let found: ConfigLine | undefined;
  for (const l of cfg.lines) if (cfg.sections[l.section].unconditional && isKeyLine(l, key)) found = l;
  return found;
}

// ---------------------------------------------------------------------------------------------
// The form the UI shows

export interface ConfigForm {
  kernel?: string;
  initramfs?: string;
  followkernel: boolean;
  /** The load address when not followkernel (as written, e.g. "0x2700000"). */
  initramfsAddress?: string;
  arm64: boolean;
  uart: boolean;
  upstreamKernel: boolean;
  deviceTree?: string;
}

/** A numeric switch that is set and not 0. */
export const isOn = (v: string | undefined) => v !== undefined && !/^(0x)?0*$/i.test(v.trim());

/** Reads the form from the unconditional part (what writeConfigForm edits). */
export function readConfigForm(text: string): ConfigForm {
  const cfg = parseConfigTxt(text);
  const get = (k: string) => unconditionalLine(cfg, k)?.value;
  const ir = get('initramfs');
  const parsed = ir !== undefined ? parseInitramfsValue(ir) : undefined;
  // "followkernel" or 0 both place the initramfs after the kernel (boot.adoc).
  const follow = parsed ? parsed.address === 'followkernel' || parsed.address === '0' : true;
  return {
    kernel: get('kernel'),
    initramfs: parsed ? parsed.files.join(',') : undefined,
    followkernel: follow,
    initramfsAddress: parsed && !follow ? parsed.address : undefined,
    arm64: isOn(get('arm_64bit')),
    uart: isOn(get('enable_uart')),
    upstreamKernel: isOn(get('upstream_kernel')),
    deviceTree: get('device_tree'),
  };
}

/** Applies the form, changing only the settings that differ from what the text says now.
 *  Switches turned off remove their line, except arm_64bit, which becomes arm_64bit=0 because
 *  current firmware starts a Pi 4 in 64-bit mode when the key is absent. */
export function writeConfigForm(text: string, form: ConfigForm): string {
  const now = readConfigForm(text);
  let t = text;
  const opt = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());
  if (opt(form.kernel) !== now.kernel) t = setSetting(t, 'kernel', opt(form.kernel));
  if (now.arm64 !== form.arm64) t = setSetting(t, 'arm_64bit', form.arm64 ? '1' : '0');
  if (now.upstreamKernel !== form.upstreamKernel) t = setSetting(t, 'upstream_kernel', form.upstreamKernel ? '1' : undefined);
  if (now.uart !== form.uart) t = setSetting(t, 'enable_uart', form.uart ? '1' : undefined);
  if (opt(form.deviceTree) !== now.deviceTree) t = setSetting(t, 'device_tree', opt(form.deviceTree));
  const file = opt(form.initramfs);
  const addrChanged = !!file && (form.followkernel !== now.followkernel || (!form.followkernel && form.initramfsAddress !== undefined && form.initramfsAddress !== now.initramfsAddress));
  if (file !== now.initramfs || addrChanged) {
    if (!file) t = setInitramfs(t, undefined);
    else {
      const address = form.followkernel ? 'followkernel' : (opt(form.initramfsAddress) ?? now.initramfsAddress);
      // No address known: write the file alone; the boot-folder check asks for one.
      t = address ? setInitramfs(t, file, address) : editUnconditional(t, 'initramfs', `initramfs ${file}`);
    }
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// The kit's default

/** The config.txt a Pi kit starts with. */
export function defaultConfigTxt(board: Board, files: { kernel: string; initramfs: string }): string {
  return [
    `# config.txt for the ${board.name}: read by the Raspberry Pi firmware before Linux starts.`,
    '# One setting per line; the last value of a setting wins. [pi4]-style lines make the',
    '# settings below them apply to some boards only, until an [all] line.',
    '',
    '# Start the CPU in 64-bit mode: the kernel is arm64, and its name is not one the',
    '# firmware would recognise as 64-bit by itself (kernel8.img).',
    'arm_64bit=1',
    `kernel=${files.kernel}`,
    '# The initramfs, placed in memory right after the kernel.',
    `initramfs ${files.initramfs} followkernel`,
    '# Mainline (upstream) kernel: the firmware picks the device tree by its mainline name',
    `# (${board.dtbs.join(', ')}) for the exact board model.`,
    'upstream_kernel=1',
    `# Serial console on header pins 8 (TX) and 10 (RX); Linux calls it ${board.serialConsole}.`,
    'enable_uart=1',
    '',
  ].join('\n');
}
