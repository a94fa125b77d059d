// Kernels, BIOS and busybox for the v86 boot tests and the benchmark: the pc kit when the set-up
// has assembled it (its small kernel has IDE and ext4 built in), else Debian's 686 kernel and
// i386 busybox from kits/fetch-x86-debian.sh with Debian's SeaBIOS.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE, REPO, X86 } from '../helpers.ts';

export interface X86Assets {
  /** "pc kit" or "Debian 686". */
  name: string;
  kernel: string;
  bios: string;
  busybox: string;
  /** Kernel arguments for a quiet, quick test boot (console=ttyS0 and the rest). */
  cmdline: string;
  /** The kernel has IDE (ata_piix) and ext4 built in, so a disk root needs no modules. */
  diskRoot: boolean;
}

export const KITS = process.env.BOOTSMITH_KITS || join(REPO, 'public', 'kits');

interface KitJson { files: { kind: string; sha256: string; path: string }[] }

/** The pc kit's files on disk, when it has been assembled. */
export function pcKit(): X86Assets | undefined {
  const json = join(KITS, 'pc', 'kit.json');
  if (!existsSync(json)) return undefined;
  const kit = JSON.parse(readFileSync(json, 'utf8')) as KitJson;
  const blob = (kind: string) => {
    const f = kit.files.find((x) => x.kind === kind);
    return f ? join(KITS, 'blobs', f.sha256) : undefined;
  };
  const [kernel, bios, busybox] = [blob('kernel'), blob('bios'), blob('busybox')];
  if (!kernel || !bios || !busybox || ![kernel, bios, busybox].every(existsSync)) return undefined;
  return { name: 'pc kit', kernel, bios, busybox, cmdline: 'console=ttyS0 tsc=reliable quiet', diskRoot: true };
}

/** SeaBIOS from Debian: unpacked into the cache, or installed (qemu-system-x86 pulls it in). */
export function debianBios(): string | undefined {
  return [join(CACHE, 'seabios', 'bios.bin'), '/usr/share/seabios/bios.bin'].find(existsSync);
}

export function debianX86(): X86Assets | undefined {
  const kernel = join(X86, 'vmlinuz');
  const busybox = join(X86, 'busybox');
  const bios = debianBios();
  if (!bios || !existsSync(kernel) || !existsSync(busybox)) return undefined;
  return {
    name: 'Debian 686', kernel, bios, busybox,
    // The crypto self-tests and ISA PnP probing cost seconds in an emulator.
    cmdline: 'console=ttyS0 tsc=reliable quiet cryptomgr.notests noisapnp',
    diskRoot: false,
  };
}

/** The fastest assets present: the pc kit, else Debian's. BOOTSMITH_V86=debian (or pc) picks one. */
export function x86Assets(): X86Assets | undefined {
  const want = process.env.BOOTSMITH_V86;
  if (want === 'debian') return debianX86();
  if (want === 'pc') return pcKit();
  return pcKit() ?? debianX86();
}

export const MISSING_ASSETS = 'no x86 kernel: neither public/kits/pc (npm start assembles it) nor Debian\'s 686 kernel, i386 busybox and SeaBIOS (bash kits/fetch-x86-debian.sh; the seabios package) are present';
