// Static checks of a Raspberry Pi boot folder before it is built: what the firmware will look for
// (firmware files, kernel, initramfs, device tree, cmdline.txt, overlays) and whether it is
// there, and the console/UART settings that most often leave a Pi silent. QEMU never runs the Pi
// firmware, so these checks are the only test config.txt gets before real hardware.
//
// Firmware behaviour relied on (Raspberry Pi documentation, config_txt/boot.adoc unless noted):
// - `os_prefix` is put in front of kernel, initramfs, cmdline.txt, .dtb and overlay names, but
//   only if the kernel and the .dtb exist under it; `upstream_kernel=1` sets it to "upstream/"
//   unless it is set explicitly. A name starting with "/" bypasses the prefix. Overlays use the
//   prefix only if `<prefix><overlay_prefix>README` exists.
// - `upstream_kernel=1` makes the firmware prefer mainline DTB names (bcm2837-rpi-3-b.dtb rather
//   than Raspberry Pi OS's bcm2710-rpi-3-b.dtb), so `device_tree=` is not needed.
// - With a kernel name it doesn't recognise, the firmware starts the CPU in 32-bit mode unless
//   `arm_64bit=1` (raspberrypi/firmware#1685); current firmware defaults arm_64bit to 1 on the
//   Pi 4 only (raspberrypi/documentation#2881).
// - The firmware rewrites console=serial0/serial1 in cmdline.txt to its own names for the UARTs
//   (ttyS0 for the mini UART, ttyAMA0 for the PL011), and on boards where the mini UART is the
//   primary it also rewrites console=ttyAMA0 to ttyS0 (raspberrypi/firmware#752,
//   RPi-Distro/raspberrypi-sys-mods#18). Under the mainline device tree the mini UART on the
//   header is ttyS1 (stdout-path "serial1" in bcm2837-rpi-3-b.dts) and ttyAMA0 is wired to
//   Bluetooth, so those names reach either no port or the wrong one.

import type { Board } from '../kits/boards.ts';
import type { Problem } from '../model/problems.ts';
import { consoleDevice, parseCmdline } from './cmdline.ts';
import {
  type AppliedValue, CONFIG_LINE_MAX, type ConfigTxt, type EffectiveValue, boardModels, classifyFilter, effectiveSettings, isOn, parseConfigTxt,
  parseInitramfsValue,
} from './config.ts';

export interface BootFolderInput {
  board: Board;
  /** Path relative to the boot folder root → size in bytes, as the FAT will hold it. */
  files: Map<string, number>;
  /** Contents of config.txt, when the folder has one. */
  configTxt?: string;
  /** Contents of cmdline.txt, when the folder has one. */
  cmdlineTxt?: string;
  /** The initramfs the engine adds to the boot folder ("initramfs.cpio.gz"). */
  initramfsName: string;
}

/** 64-bit kernel names the firmware recognises by name. */
const KERNEL64_NAMES = ['kernel8.img', 'kernel_2712.img'];
/** Kernel names we suggest when one is missing, in order of preference. */
const KERNEL_GUESSES = [/^vmlinuz$/, /^vmlinuz-/, /^image$/, /^kernel8\.img$/];
/** The kernel's COMMAND_LINE_SIZE on arm64 is 2048 bytes; the firmware adds arguments of its own. */
const CMDLINE_WARN = 1500;

const norm = (p: string) => p.replace(/\\/g, '/').replace(/^\/+/, '').toLowerCase();

type Report = (path: string, message: string, fix?: string) => void;

/** What the checks share: the folder (case-insensitive, like the FAT), the board, the reports. */
interface Ctx {
  input: BootFolderInput;
  board: Board;
  has: (path: string) => boolean;
  size: (path: string) => number | undefined;
  err: Report;
  warn: Report;
  /** Pi 4 firmware (start4.elf): 64-bit by default, no bootcode.bin. */
  isPi4: boolean;
}

/** Where the firmware will look for OS files, as config.txt decides. */
interface Layout {
  eff: Map<string, EffectiveValue>;
  cfg: ConfigTxt;
  get: (key: string) => EffectiveValue | undefined;
  /** The os_prefix in force ("" when none, or when the firmware would ignore it). */
  prefix: string;
  upstream: boolean;
  /** The name the firmware opens for an OS file: "/name" bypasses the prefix. */
  resolve: (name: string) => string;
  /** " (os_prefix=... applies, ...)" for messages about a missing OS file. */
  where: (name: string) => string;
}

export function checkBootFolder(input: BootFolderInput): Problem[] {
  const { board } = input;
  const out: Problem[] = [];
  if (board.family !== 'pi') return out;
  const sizes = new Map<string, number>();
  for (const [p, n] of input.files) sizes.set(norm(p), n);
  // The engine adds the initramfs at the top of the folder; its size is not known yet.
  if (!sizes.has(norm(input.initramfsName))) sizes.set(norm(input.initramfsName), -1);
  const ctx: Ctx = {
    input, board,
    has: (p) => sizes.has(norm(p)),
    size: (p) => sizes.get(norm(p)),
    err: (path, message, fix) => out.push({ severity: 'error', path, message, fix }),
    warn: (path, message, fix) => out.push({ severity: 'warning', path, message, fix }),
    isPi4: board.firmware.includes('start4.elf'),
  };

  checkFirmware(ctx);
  let layout: Layout | undefined;
  if (input.configTxt === undefined) {
    if (!ctx.has('config.txt')) {
      ctx.err('config.txt', `config.txt is missing: without it the firmware looks for a 32-bit kernel${ctx.isPi4 ? '' : ' (kernel7.img)'} and loads no initramfs`,
        'Add config.txt; the kit\'s default sets arm_64bit=1, kernel=, initramfs, upstream_kernel=1 and enable_uart=1.');
    }
  } else {
    const cfg = parseConfigTxt(input.configTxt);
    lintConfig(cfg, ctx.err, ctx.warn);
    const eff = effectiveSettings(cfg, board);
    const kernels = kernelNames(ctx, eff);
    layout = findLayout(ctx, cfg, eff, kernels);
    checkKernel(ctx, layout, kernels);
    checkInitramfs(ctx, layout);
    checkDeviceTree(ctx, layout);
    checkNamedFiles(ctx, layout);
  }
  checkCmdlinePresent(ctx, layout);
  if (input.cmdlineTxt !== undefined) checkCmdline(input.cmdlineTxt, board, layout?.eff, ctx.err, ctx.warn);
  return out;
}

function checkFirmware({ board, has, size, err }: Ctx) {
  for (const f of board.firmware) {
    if (!has(f)) err(f, `${f} is missing: the ${board.name} firmware needs it to start`, `Add ${f} from Debian's raspi-firmware package (/usr/lib/raspi-firmware/); the kit's boot folder has it.`);
    else if (size(f) === 0) err(f, `${f} is empty`, `Replace it with the ${f} from Debian's raspi-firmware package.`);
  }
}

interface KernelChoice {
  names: { name: string; line?: number }[];
  /** arm_64bit=1 for sure. */
  armOn: boolean;
  /** arm_64bit lines that may turn 64-bit mode off. */
  armOff: AppliedValue[];
}

/** The kernel files the firmware may load: every kernel= value some model may get, and the
 *  default name when kernel= may be unset. */
function kernelNames({ has, isPi4 }: Ctx, eff: Map<string, EffectiveValue>): KernelChoice {
  const arm = eff.get('arm_64bit');
  const armOn = !!arm && !arm.maybeUnset && arm.possible.every((p) => isOn(p.value));
  const armOff = arm ? arm.possible.filter((p) => !isOn(p.value)) : [];
  const k = eff.get('kernel');
  const names: { name: string; line?: number }[] = (k?.possible ?? []).map((p) => ({ name: p.value, line: p.line }));
  // 64-bit mode (and current Pi 4 firmware by default) loads kernel8.img; in 32-bit mode a Pi 3
  // loads kernel7.img, or kernel8.img when that is the only one there.
  const dflt = armOn || isPi4 ? 'kernel8.img' : has('kernel7.img') ? 'kernel7.img' : 'kernel8.img';
  if (!k || k.maybeUnset) names.push({ name: dflt });
  return { names, armOn, armOff };
}

function findLayout(ctx: Ctx, cfg: ConfigTxt, eff: Map<string, EffectiveValue>, kernels: KernelChoice): Layout {
  const { board, has, warn } = ctx;
  const get = (k: string) => eff.get(k);
  const upstream = isOn(get('upstream_kernel')?.value);
  const join = (name: string, pre: string) => (name.startsWith('/') ? name.slice(1) : pre + name);
  const dt = get('device_tree');
  const dtbs = dt && dt.value !== ''
    ? dt.possible.map((p) => p.value)
    : board.dtbs.flatMap((d) => (upstream ? [d, downstreamDtb(d)] : [downstreamDtb(d)]));
  const explicit = get('os_prefix')?.value;
  const candidate = explicit ?? (upstream ? 'upstream/' : '');
  let prefix = '';
  if (candidate) {
    // The firmware keeps a prefix only if the kernel and a device tree are found under it.
    const kernel = kernels.names[kernels.names.length - 1].name;
    if (has(join(kernel, candidate)) && dtbs.some((d) => has(join(d, candidate)))) prefix = candidate;
    else if (explicit) {
      warn('config.txt', `os_prefix=${explicit} is ignored: the firmware only uses it when the kernel and a device tree exist under ${explicit}, and they don't`,
        `Put the kernel and device tree in ${explicit}, or remove os_prefix.`);
    }
  }
  return {
    eff, cfg, get, prefix, upstream,
    resolve: (name) => join(name, prefix),
    where: (name) => (prefix && !name.startsWith('/') ? ` (os_prefix=${prefix} applies, so the firmware looks for ${prefix}${name})` : ''),
  };
}

function checkKernel(ctx: Ctx, L: Layout, { names, armOn, armOff }: KernelChoice) {
  const { board, has, size, err, warn, isPi4, input } = ctx;
  if (board.arch === 'arm64' && armOff.length) {
    err('config.txt', `arm_64bit=${armOff[0].value} (line ${armOff[0].line}) starts the CPU in 32-bit mode, but the kit's kernel is arm64 and won't start`, 'Set arm_64bit=1.');
  }
  // A kernel-looking file at the top of the folder, to suggest in fixes.
  const guess = [...input.files.keys()].filter((p) => !norm(p).includes('/')).find((p) => KERNEL_GUESSES.some((re) => re.test(norm(p))));
  for (const k of names) {
    const at = k.line ? ` (line ${k.line})` : '';
    if (k.name.includes('\\')) {
      err('config.txt', `kernel=${k.name}${at} uses "\\"; the firmware only understands "/" in paths`, `Write kernel=${k.name.replace(/\\/g, '/')}.`);
      continue;
    }
    const path = L.resolve(k.name);
    const other = guess && norm(guess) !== norm(k.name) ? guess : undefined;
    if (!has(path)) {
      if (k.line) {
        err('config.txt', `kernel=${k.name}${at} names a file that is not in the boot folder${L.where(k.name)}`,
          other ? `Add ${k.name} to the boot folder, or set kernel=${other}.` : `Add ${k.name} to the boot folder.`);
      } else {
        err('config.txt', `config.txt has no kernel= line, so the firmware loads ${path}, which is not in the boot folder`,
          other ? `Set kernel=${other}, or add ${path}.` : `Add the kernel as ${path}, or name it with kernel=.`);
      }
    } else if (size(path) === 0) {
      err(path, `the kernel ${path} is empty`, 'Replace it with the kit\'s kernel.');
    }
    // The firmware tells a 64-bit kernel by its name only (raspberrypi/firmware#1685).
    if (board.arch === 'arm64' && k.line && !armOn && !armOff.length && !KERNEL64_NAMES.includes(baseName(k.name).toLowerCase())) {
      if (isPi4) {
        warn('config.txt', `kernel=${k.name} without arm_64bit=1: current firmware starts a Pi 4 in 64-bit mode anyway, older firmware starts it in 32-bit mode and the arm64 kernel won't run`, 'Add arm_64bit=1.');
      } else {
        err('config.txt', `kernel=${k.name} without arm_64bit=1: the firmware only recognises a 64-bit kernel named kernel8.img, so it starts the CPU in 32-bit mode and the arm64 kernel won't run`, 'Add arm_64bit=1.');
      }
    }
  }
}

function checkInitramfs({ has, size, err, warn, input }: Ctx, L: Layout) {
  const ours = input.initramfsName;
  let loadsOurs = false;
  let missing = false;
  const file = (f: string, what: string, line: number) => {
    const path = L.resolve(f);
    if (norm(path) === norm(ours)) loadsOurs = true;
    if (!has(path)) {
      missing = true;
      err('config.txt', `${what} (line ${line}) names ${f}, which is not in the boot folder${L.where(f)}`,
        `Add ${f}, or load the initramfs Bootsmith builds: initramfs ${ours} followkernel`);
    } else if (size(path) === 0) {
      err(path, `the initramfs ${path} is empty`, 'Replace it, or load the initramfs Bootsmith builds.');
    }
  };
  const lines = L.get('initramfs')?.possible ?? [];
  const ramfs = L.get('ramfsfile')?.possible ?? [];
  for (const ir of lines) {
    const { files, address } = parseInitramfsValue(ir.value);
    if (address === undefined) {
      warn('config.txt', `initramfs ${ir.value} (line ${ir.line}) has no load address`, `Add followkernel: initramfs ${ir.value} followkernel`);
    } else if (address !== 'followkernel' && !/^(0x[0-9a-f]+|\d+)$/i.test(address)) {
      warn('config.txt', `initramfs ${ir.value} (line ${ir.line}): "${address}" is neither followkernel nor an address`, `Write initramfs ${files.join(',')} followkernel`);
    }
    for (const f of files) file(f, `initramfs ${ir.value}`, ir.line);
  }
  for (const rf of ramfs) for (const f of rf.value.split(',').filter(Boolean)) file(f, `ramfsfile=${rf.value}`, rf.line);
  const slip = L.cfg.lines.some((l) => l.kind === 'invalid' && l.key === 'initramfs'); // reported by lintConfig
  if (!lines.length && !ramfs.length && !slip) {
    warn('config.txt', `config.txt loads no initramfs, so ${ours} (which Bootsmith adds) is unused and the kit's /init never runs`,
      `Add the line: initramfs ${ours} followkernel`);
  } else if ((lines.length || ramfs.length) && !loadsOurs && !missing) {
    warn('config.txt', `config.txt doesn't load ${ours}, the initramfs Bootsmith adds to the boot folder`,
      `Use initramfs ${ours} followkernel, unless you load an initramfs of your own on purpose.`);
  }
}

function checkDeviceTree({ board, has, err, warn }: Ctx, L: Layout) {
  const dt = L.get('device_tree');
  const models = boardModels(board);
  if (dt) {
    for (const p of dt.possible) {
      const base = norm(baseName(p.value));
      if (p.value === '') {
        err('config.txt', `device_tree= (line ${p.line}) is empty, which tells the firmware to load no device tree; an arm64 kernel can't start without one`,
          `Remove the line, or name the device tree: device_tree=${board.dtbs[0]}`);
      } else if (!has(L.resolve(p.value))) {
        err('config.txt', `device_tree=${p.value} (line ${p.line}) names a file that is not in the boot folder${L.where(p.value)}`,
          `Add ${p.value}, or remove the line so that the firmware picks ${board.dtbs.join(' or ')} itself.`);
      } else if (!board.dtbs.some((d) => norm(d) === base || norm(downstreamDtb(d)) === base)) {
        warn('config.txt', `device_tree=${p.value} (line ${p.line}) is not a device tree for the ${board.name} (${board.dtbs.join(', ')})`,
          'Name the board\'s device tree, or remove the line so that the firmware picks it itself.');
      } else {
        const others = models.filter((m) => m.dtb && norm(m.dtb) !== base && norm(downstreamDtb(m.dtb)) !== base);
        if (others.length) {
          warn('config.txt', `device_tree=${p.value} (line ${p.line}) makes every board use it, but a ${others.map((m) => m.name).join(' or ')} needs ${others.map((m) => m.dtb).join(' or ')}`,
            'Remove device_tree= so that the firmware picks the device tree for the exact model (with upstream_kernel=1).');
        }
      }
    }
    if (!dt.maybeUnset) return;
  }
  // The firmware picks the DTB for the exact model: the mainline name first with
  // upstream_kernel=1, else only the Raspberry Pi OS name.
  const found = (d: string) => (L.upstream && has(L.resolve(d))) || has(L.resolve(downstreamDtb(d)));
  const wanted = models.map((m) => ({ name: m.name, dtb: m.dtb ?? board.dtbs[0] })).filter((m) => m.dtb);
  const missing = wanted.filter((m) => !found(m.dtb));
  if (wanted.length && missing.length === wanted.length) {
    const mainline = board.dtbs.filter((d) => has(L.resolve(d)) && downstreamDtb(d) !== d);
    if (!L.upstream && mainline.length) {
      err('config.txt', `upstream_kernel=1 is not set, so the firmware looks for Raspberry Pi OS device tree names (${downstreamDtb(mainline[0])}) and ignores ${mainline[0]}; the kernel gets no device tree`,
        `Add upstream_kernel=1 to config.txt (or device_tree=${mainline[0]}).`);
    } else {
      err(board.dtbs[0], `no device tree for the ${board.name}: the boot folder has none of ${board.dtbs.join(', ')}${L.where(board.dtbs[0])}`,
        `Add ${board.dtbs.join(' and ')} from the kernel package (Debian: /usr/lib/linux-image-*/broadcom/); the kit's boot folder has them.`);
    }
    return;
  }
  for (const m of missing) {
    warn(m.dtb, `${m.dtb} is missing: the firmware picks the device tree by the exact model, so a ${m.name} would start without one`,
      `Add ${m.dtb} from the kernel package, or ignore this if the card is only for ${wanted.filter((w) => !missing.includes(w)).map((w) => w.name).join(', ')}.`);
  }
}

/** Firmware variants, included files and overlays that config.txt names. */
function checkNamedFiles({ has, err, warn, isPi4 }: Ctx, L: Layout) {
  for (const k of ['start_file', 'fixup_file']) {
    for (const p of L.get(k)?.possible ?? []) {
      if (!has(p.value)) err('config.txt', `${k}=${p.value} (line ${p.line}) names a file that is not in the boot folder; the firmware won't start`, `Add ${p.value}, or remove the line.`);
    }
  }
  const x = isOn(L.get('start_x')?.value);
  if (x || isOn(L.get('start_debug')?.value)) {
    const pair = isPi4 ? (x ? ['start4x.elf', 'fixup4x.dat'] : ['start4db.elf', 'fixup4db.dat']) : x ? ['start_x.elf', 'fixup_x.dat'] : ['start_db.elf', 'fixup_db.dat'];
    const gone = pair.filter((f) => !has(f));
    if (gone.length) {
      warn('config.txt', `${x ? 'start_x' : 'start_debug'}=1 selects ${pair.join(' and ')}, and ${gone.join(' and ')} ${gone.length > 1 ? 'are' : 'is'} not in the boot folder`,
        `Add ${gone.join(' and ')} from the firmware package, or remove the line.`);
    }
  }
  for (const inc of L.get('include')?.all ?? []) {
    if (!has(inc.value)) warn('config.txt', `include ${inc.value} (line ${inc.line}) names a file that is not in the boot folder; the firmware skips it`, `Add ${inc.value}, or remove the line.`);
  }
  // Overlays come from <os_prefix><overlay_prefix> only if a README is there, else shared ones.
  const overlayPrefix = L.get('overlay_prefix')?.value ?? 'overlays/';
  const dir = L.prefix && has(L.prefix + overlayPrefix + 'README') ? L.prefix + overlayPrefix : overlayPrefix;
  for (const ov of L.get('dtoverlay')?.all ?? []) {
    const name = ov.value.split(',')[0].trim();
    if (!name) continue;
    const file = `${dir}${name}.dtbo`;
    if (!has(file)) {
      warn('config.txt', `dtoverlay=${ov.value} (line ${ov.line}): ${file} is not in the boot folder, so the firmware skips the overlay`,
        `Add ${file}, or remove the line.${L.upstream ? ' Raspberry Pi OS overlays are written for its own device trees and may not apply to the mainline ones.' : ''}`);
    }
  }
}

function checkCmdlinePresent({ board, has, err, warn, input }: Ctx, L: Layout | undefined) {
  const name = L?.get('cmdline')?.value ?? 'cmdline.txt';
  const isDefault = norm(name) === 'cmdline.txt';
  const present = has(L ? L.resolve(name) : name) || has(name) || (isDefault && input.cmdlineTxt !== undefined);
  if (!present) {
    err(name, `${name} is missing: the kernel would start with no console= and no root=`,
      `Add ${name} with one line, e.g.: console=tty0 console=${board.serialConsole},115200 rdinit=/init`);
  } else if (!isDefault && input.cmdlineTxt !== undefined) {
    warn('config.txt', `cmdline=${name}: the firmware reads the command line from ${name}, not cmdline.txt`, 'Put the command line in the file config.txt names, or remove cmdline=.');
  }
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** The Raspberry Pi OS name of a mainline DTB: bcm2837-rpi-3-b.dtb → bcm2710-rpi-3-b.dtb (the Pi 4
 *  uses bcm2711-* in both). */
export function downstreamDtb(name: string): string {
  return name.replace(/^bcm2837-/, 'bcm2710-');
}

function lintConfig(cfg: ConfigTxt, err: Report, warn: Report) {
  if (cfg.bom) {
    warn('config.txt', 'config.txt starts with a byte order mark (an editor saved it as "UTF-8 with BOM"), which hides the first setting from the firmware', 'Save it as plain UTF-8 or ASCII.');
  }
  for (const l of cfg.lines) {
    const text = l.raw.replace(/^\uFEFF/, '');
    if (text.length > CONFIG_LINE_MAX) {
      warn('config.txt', `line ${l.line} is ${text.length} characters long; the firmware reads at most ${CONFIG_LINE_MAX} and may take the rest for another line`,
        'Shorten it, or split it over several lines (dtoverlay= and dtparam= may repeat).');
    }
    if (l.kind === 'invalid' && l.key === 'initramfs') {
      err('config.txt', `line ${l.line}: "${text.trim()}" — initramfs is written without "=", so the firmware doesn't understand this line`,
        `Write it as: initramfs ${text.trim().replace(/^initramfs\s*=\s*/, '').split(/\s+/)[0]} followkernel`);
    } else if (l.kind === 'invalid') {
      warn('config.txt', `line ${l.line}: "${text.trim()}" is not a setting (key=value), a [filter] or a # comment; the firmware ignores it`, 'Fix or remove the line.');
    } else if (l.kind === 'filter' && !classifyFilter(l.filter!).known) {
      warn('config.txt', `line ${l.line}: [${l.filter}] is not a filter the firmware documents; the checks assume the settings below it may apply`,
        'Use a documented filter such as [pi3], [pi4], [pi02] or [all].');
    } else if (l.kind === 'setting' && /\s#/.test(l.value!)) {
      warn('config.txt', `line ${l.line}: ${l.key}=${l.value} — config.txt has no comments after a setting; the firmware reads the "#..." as part of the value`,
        'Move the comment to a line of its own.');
    }
  }
}

const SERIAL_RE = /^(ttyS\d+|ttyAMA\d+|serial\d+)$/;

function checkCmdline(text: string, board: Board, eff: Map<string, EffectiveValue> | undefined, err: Report, warn: Report) {
  const c = parseCmdline(text);
  const P = 'cmdline.txt';
  if (c.bom) {
    warn(P, 'cmdline.txt starts with a byte order mark (an editor saved it as "UTF-8 with BOM"), which spoils the first argument', 'Save it as plain UTF-8 or ASCII.');
  }
  if (c.rest.trim() !== '') {
    warn(P, 'cmdline.txt has more than one line; the firmware passes only the first line to the kernel', 'Put every argument on the first line, separated by spaces.');
  }
  if (!c.args.length) {
    warn(P, 'cmdline.txt has no kernel arguments, so the kernel starts with no console= on the serial port', `Use e.g.: console=tty0 console=${board.serialConsole},115200 rdinit=/init`);
  }
  if ((c.line.match(/"/g) ?? []).length % 2) {
    warn(P, 'cmdline.txt has an unmatched double quote, which joins the arguments after it into one', 'Add the missing " or remove the stray one.');
  }
  if (c.line.length > CMDLINE_WARN) {
    warn(P, `cmdline.txt is ${c.line.length} characters long; the arm64 kernel keeps 2048 and the firmware adds several hundred of its own in front`, 'Shorten it.');
  }
  for (const key of ['root', 'rdinit', 'init']) {
    const n = c.args.filter((a) => a.key === key).length;
    if (n > 1) warn(P, `cmdline.txt has ${key}= ${n} times; the kernel uses the last one`, `Keep one ${key}=.`);
  }
  const uart = eff?.get('enable_uart');
  const uartOn = !!uart && !uart.maybeUnset && uart.possible.every((p) => isOn(p.value));
  let serialWarned = false;
  for (const v of c.args.filter((a) => a.key === 'console').map((a) => a.value ?? '')) {
    const dev = consoleDevice(v);
    if (!dev) continue;
    if (dev === 'serial0' || dev === 'serial1') {
      err(P, `console=${v} is a Raspberry Pi OS alias: the firmware rewrites it to ttyS0 or ttyAMA0, which under the mainline kernel is no port or the Bluetooth UART`,
        `Use console=${board.serialConsole},115200 (the UART on header pins 8 and 10).`);
      continue;
    }
    if (!board.consoles.includes(dev)) {
      const serialHint = dev === 'ttyS0'
        ? `; with the mainline device tree the header UART is ${board.serialConsole}`
        : '';
      err(P, `console=${v}: the ${board.name} has no ${dev}${serialHint}`,
        `Use console=${board.serialConsole},115200 for the serial port, or console=tty0 for the screen (consoles: ${board.consoles.join(', ')}).`);
      continue;
    }
    if (dev === 'ttyAMA0' && board.family === 'pi' && board.serialConsole !== 'ttyAMA0') {
      warn(P, `console=${v}: ttyAMA0 is the UART wired to Bluetooth on the ${board.name}, not to the header pins, and the firmware may rewrite it to ttyS0`,
        `Use console=${board.serialConsole},115200 for the header pins 8 and 10.`);
    }
    if (eff && SERIAL_RE.test(dev) && !uartOn && !serialWarned) {
      serialWarned = true;
      warn('config.txt', `cmdline.txt has console=${v}, but enable_uart=1 is not${uart ? ' always' : ''} set in config.txt, so the serial port may stay off or run at the wrong speed`,
        'Add enable_uart=1 to config.txt.');
    }
  }
}
