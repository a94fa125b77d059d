// cmdline.txt: the kernel command line the Raspberry Pi firmware passes on. The firmware uses the
// first line only. Arguments are split at spaces like the kernel's own parser (kernel/params.c
// next_arg): a double quote protects spaces, `key="a b"` has the value `a b`, and everything after
// a lone `--` goes to init instead of the kernel. Edits splice the line, so whatever they don't
// touch (spacing, unknown arguments, the lines after the first) stays as written.

import { type Board, partitionOf } from '../kits/boards.ts';

export interface CmdArg {
  /** Text before the first `=` (the whole token for a bare flag). */
  key: string;
  /** The value with surrounding quotes removed; undefined for a bare flag (`quiet`). */
  value?: string;
  /** The token as written. */
  raw: string;
  /** Offsets of the token in the first line. */
  start: number;
  end: number;
}

export interface Cmdline {
  /** The first line, without its line ending. */
  line: string;
  /** Kernel arguments, in order. */
  args: CmdArg[];
  /** The `--` token, when present; the arguments after it are `initArgs`. */
  dashes?: CmdArg;
  initArgs: CmdArg[];
  /** The first line's ending and everything after it, which the firmware ignores. */
  rest: string;
  /** The text started with a UTF-8 byte order mark (kept in `line`'s first token). */
  bom: boolean;
}

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\v' || c === '\f' || c === '\r';

function tokenize(line: string): CmdArg[] {
  const out: CmdArg[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && isSpace(line[i])) i++;
    if (i >= line.length) break;
    const start = i;
    let inQuote = false;
    while (i < line.length && (inQuote || !isSpace(line[i]))) {
      if (line[i] === '"') inQuote = !inQuote;
      i++;
    }
    const raw = line.slice(start, i);
    let body = raw.replace(/^\uFEFF/, '');
    // A token may itself start with a quote ("foo=bar baz"): the kernel drops it and the last one.
    if (body.startsWith('"')) body = body.endsWith('"') && body.length > 1 ? body.slice(1, -1) : body.slice(1);
    const eq = body.indexOf('=');
    if (eq < 0) out.push({ key: body, raw, start, end: i });
    else {
      let value = body.slice(eq + 1);
      if (value.startsWith('"')) value = value.endsWith('"') && value.length > 1 ? value.slice(1, -1) : value.slice(1);
      out.push({ key: body.slice(0, eq), value, raw, start, end: i });
    }
  }
  return out;
}

export function parseCmdline(text: string): Cmdline {
  const m = /\r?\n/.exec(text);
  const line = m ? text.slice(0, m.index) : text;
  const rest = m ? text.slice(m.index) : '';
  const tokens = tokenize(line);
  const d = tokens.findIndex((t) => t.raw === '--');
  return {
    line,
    args: d < 0 ? tokens : tokens.slice(0, d),
    dashes: d < 0 ? undefined : tokens[d],
    initArgs: d < 0 ? [] : tokens.slice(d + 1),
    rest,
    bom: text.startsWith('\uFEFF'),
  };
}

export function formatCmdline(c: Cmdline): string {
  return c.line + c.rest;
}

/** `key`, `key=value`, or `key="value"` when the value has spaces or is empty. */
export function formatArg(key: string, value?: string | true): string {
  if (value === undefined || value === true) return key;
  return /[\s"]/.test(value) || value === '' ? `${key}="${value.replace(/"/g, '')}"` : `${key}=${value}`;
}

/** The value of the last `key` among the kernel arguments (the kernel lets a later one win);
 *  true for a bare flag; undefined when absent. */
export function getArg(text: string, key: string): string | true | undefined {
  const hits = parseCmdline(text).args.filter((a) => a.key === key);
  const last = hits[hits.length - 1];
  return last ? (last.value ?? true) : undefined;
}

/** Every `console=` value in order ("tty0", "ttyS1,115200"). The last one becomes /dev/console. */
export function consoles(text: string): string[] {
  return parseCmdline(text).args.filter((a) => a.key === 'console' && a.value !== undefined).map((a) => a.value!);
}

/** The device of a console= value: "ttyS1,115200n8" → "ttyS1". */
export function consoleDevice(value: string): string {
  return value.split(',')[0];
}

// --- splicing ---------------------------------------------------------------------------------

function removeToken(line: string, t: CmdArg): string {
  let s = t.start;
  let e = t.end;
  if (s > 0) while (s > 0 && isSpace(line[s - 1])) s--;
  else while (e < line.length && isSpace(line[e])) e++;
  // Keep a BOM that the removed first token carried.
  const bom = t.start === 0 && t.raw.startsWith('\uFEFF') ? '\uFEFF' : '';
  return line.slice(0, s) + bom + line.slice(e);
}

function replaceToken(line: string, t: CmdArg, raw: string): string {
  const bom = t.raw.startsWith('\uFEFF') ? '\uFEFF' : '';
  return line.slice(0, t.start) + bom + raw + line.slice(t.end);
}

/** Inserts `raw` before token `before`, or at the end of the kernel arguments. */
function insertToken(c: Cmdline, raw: string, before?: CmdArg): string {
  const line = c.line;
  const at = before ?? c.dashes;
  if (at) {
    const bom = at.start === 0 && at.raw.startsWith('\uFEFF');
    const pos = bom ? at.start + 1 : at.start;
    return line.slice(0, pos) + raw + ' ' + line.slice(pos);
  }
  const trimmed = line.replace(/[ \t\v\f\r]+$/, '');
  const body = trimmed.replace(/^\uFEFF/, '');
  return trimmed + (body ? ' ' : '') + raw + line.slice(trimmed.length);
}

const withLine = (c: Cmdline, line: string) => line + c.rest;

/** Sets a kernel argument: replaces its last occurrence (removing earlier ones) or adds it at the
 *  end of the kernel arguments; `true` writes a bare flag; undefined removes every occurrence. */
export function setArg(text: string, key: string, value: string | true | undefined): string {
  let c = parseCmdline(text);
  let hits = c.args.filter((a) => a.key === key);
  if (value === undefined) {
    for (const h of [...hits].reverse()) c = parseCmdline(withLine(c, removeToken(c.line, h)));
    return formatCmdline(c);
  }
  const raw = formatArg(key, value);
  if (!hits.length) return withLine(c, insertToken(c, raw));
  const last = hits[hits.length - 1];
  if (last.raw.replace(/^\uFEFF/, '') !== raw) c = parseCmdline(withLine(c, replaceToken(c.line, last, raw)));
  hits = c.args.filter((a) => a.key === key);
  for (const h of hits.slice(0, -1).reverse()) c = parseCmdline(withLine(c, removeToken(c.line, h)));
  return formatCmdline(c);
}

/** Replaces every console= argument with `values`, in order, where the first one was (or at the
 *  start of the line when there was none). */
export function setConsoles(text: string, values: string[]): string {
  let c = parseCmdline(text);
  const old = c.args.filter((a) => a.key === 'console');
  if (old.length === values.length && old.every((a, i) => a.value === values[i])) return text;
  const anchorIndex = old.length ? c.args.indexOf(old[0]) : 0;
  // Remove all but the first, then replace the first with the whole new list (or insert it).
  for (const h of old.slice(1).reverse()) c = parseCmdline(withLine(c, removeToken(c.line, h)));
  const raw = values.map((v) => formatArg('console', v)).join(' ');
  if (old.length) {
    const first = c.args.filter((a) => a.key === 'console')[0];
    c = parseCmdline(withLine(c, raw ? replaceToken(c.line, first, raw) : removeToken(c.line, first)));
  } else if (raw) {
    c = parseCmdline(withLine(c, insertToken(c, raw, c.args[anchorIndex])));
  }
  return formatCmdline(c);
}

// --- defaults and the form --------------------------------------------------------------------

/** The kit's default command line: the screen and the header UART as consoles (the last one is
 *  /dev/console), /init from the initramfs; with a root filesystem on the card, root= names its
 *  second partition so that our /init (which mounts it itself) knows where it is.
 *  `root`: a device or tag ("/dev/mmcblk0p2", "PARTUUID=...") or a filesystem type ("ext4"),
 *  which means the card's second partition. */
export function defaultCmdline(board: Board, opts: { root?: string } = {}): string {
  const args = ['console=tty0', `console=${board.serialConsole},115200`, 'rdinit=/init'];
  if (opts.root) {
    const dev = /^(\/|[A-Z]+=)/.test(opts.root) ? opts.root : partitionOf(board, 2);
    args.push(`root=${dev}`, 'rootwait');
  }
  return args.join(' ') + '\n';
}

export interface CmdlineForm {
  /** console= values in order; the last is /dev/console. */
  consoles: string[];
  root?: string;
  rootwait: boolean;
  quiet: boolean;
  /** Every other argument as written, `-- init args` included. */
  extra: string;
}

const MANAGED = new Set(['console', 'root', 'rootwait', 'quiet']);

function otherTokens(c: Cmdline): CmdArg[] {
  return [...c.args.filter((a) => !MANAGED.has(a.key)), ...(c.dashes ? [c.dashes, ...c.initArgs] : [])];
}

export function readCmdlineForm(text: string): CmdlineForm {
  const c = parseCmdline(text);
  const root = getArg(text, 'root');
  return {
    consoles: consoles(text),
    root: typeof root === 'string' ? root : undefined,
    rootwait: c.args.some((a) => a.key === 'rootwait'),
    quiet: c.args.some((a) => a.key === 'quiet'),
    extra: otherTokens(c).map((t) => t.raw.replace(/^\uFEFF/, '')).join(' '),
  };
}

/** Applies the form, changing only what differs from the text. */
export function writeCmdlineForm(text: string, form: CmdlineForm): string {
  const now = readCmdlineForm(text);
  let t = text;
  const cons = form.consoles.map((s) => s.trim()).filter(Boolean);
  if (cons.join('\n') !== now.consoles.join('\n')) t = setConsoles(t, cons);
  const root = form.root?.trim() || undefined;
  if (root !== now.root) t = setArg(t, 'root', root);
  if (form.rootwait !== now.rootwait) t = setArg(t, 'rootwait', form.rootwait ? true : undefined);
  if (form.quiet !== now.quiet) t = setArg(t, 'quiet', form.quiet ? true : undefined);
  const extraTokens = tokenize(form.extra).map((x) => x.raw);
  if (extraTokens.join(' ') !== now.extra) {
    // New extra arguments go where the first old one was; the managed ones stay put; init
    // arguments (after --) go at the end.
    let c = parseCmdline(t);
    const d = extraTokens.indexOf('--');
    const kernelPart = (d < 0 ? extraTokens : extraTokens.slice(0, d)).join(' ');
    const initPart = d < 0 ? undefined : extraTokens.slice(d).join(' ');
    const firstOld = c.args.findIndex((a) => !MANAGED.has(a.key));
    // The managed argument that followed the first old extra one: the new ones go before it.
    const anchorKey = firstOld < 0 ? undefined : c.args.slice(firstOld).find((a) => MANAGED.has(a.key));
    const anchorIdx = anchorKey ? c.args.filter((a) => MANAGED.has(a.key)).indexOf(anchorKey) : -1;
    for (const o of otherTokens(c).reverse()) c = parseCmdline(withLine(c, removeToken(c.line, o)));
    if (kernelPart) {
      const anchor = anchorIdx >= 0 ? c.args[anchorIdx] : undefined;
      c = parseCmdline(withLine(c, insertToken(c, kernelPart, anchor)));
    }
    if (initPart) c = parseCmdline(withLine(c, insertToken(c, initPart)));
    t = formatCmdline(c);
  }
  return t;
}
