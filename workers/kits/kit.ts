// A kit as the engine sees it: kit.json (written by kits/assemble.ts at set-up time) and a way to
// fetch its files by sha256. The app fetches them from /kits/ (the service worker keeps what was
// used, for offline use); the CLI reads public/kits/ on disk (node-source.ts).
import { BootsmithError } from '../model/problems.ts';
import type { Arch } from './boards.ts';

export const KIT_FORMAT = 'bootsmith-kit';

export type KitPart = 'boot' | 'root' | 'doc' | 'emulator';
export type KitFileKind = 'firmware' | 'kernel' | 'dtb' | 'overlay' | 'busybox' | 'module' | 'modules-meta' | 'licence' | 'kernel-config' | 'bios' | string;

export interface KitFile {
  /** boot: the FAT boot folder; root: the root filesystem; doc: licences and notes (they travel in
   *  the boot folder); emulator: what the test-boot emulator needs and a project never holds (the
   *  pc kit's BIOS for v86, kind 'bios', and its licence). */
  part: KitPart;
  /** Relative to the part's root, "/"-separated. */
  path: string;
  kind: KitFileKind;
  size: number;
  sha256: string;
  /** Permission bits for the root filesystem (defaults: 0644, 0755 for busybox). */
  mode?: number;
  package?: string;
  version?: string;
  licence?: string;
}

export interface ModuleGroup {
  id: string;
  label: string;
  description?: string;
  modules: string[];
}

export interface Kit {
  format: typeof KIT_FORMAT;
  version: number;
  id: string;
  name: string;
  models: string[];
  arch: Arch;
  /** Kernel release (`uname -r`): modules live in /lib/modules/<kernel>. */
  kernel: string;
  files: KitFile[];
  moduleGroups: ModuleGroup[];
  /** Modules an ext4 root on the SD card needs (SD host, mmc, ext4). */
  sdModules?: string[];
  licences?: Record<string, string>;
}

export interface KitSummary {
  id: string;
  name: string;
  models: string[];
  arch: Arch;
  kernel: string;
  size: number;
}

/** Where kits come from: the app's /kits/ over HTTP, or public/kits on disk for the CLI. */
export interface KitSource {
  list(): Promise<KitSummary[]>;
  kit(id: string): Promise<Kit>;
  /** A kit file's content by its sha256. */
  file(sha256: string): Promise<Blob>;
}

export function checkKit(k: Kit, id: string): Kit {
  if (!k || k.format !== KIT_FORMAT || !Array.isArray(k.files)) {
    throw new BootsmithError(`The kit "${id}" is damaged (kit.json is not a Bootsmith kit). Run the set-up again (npm start) to rebuild the kits.`);
  }
  return k;
}

/** A source over any fetch-like function; `base` ends with "/" (e.g. "/kits/"). */
export function fetchKitSource(base: string, fetchFn: typeof fetch = fetch): KitSource {
  async function get(path: string): Promise<Response> {
    let r: Response;
    try {
      r = await fetchFn(base + path);
    } catch (err) {
      throw new BootsmithError(`Cannot load ${base}${path}: ${(err as Error).message}. Board kits are cached after their first use; connect once to use this board offline.`);
    }
    if (!r.ok) throw new BootsmithError(`Cannot load ${base}${path} (HTTP ${r.status}). The board kits are made by the set-up (npm start); run it again.`);
    return r;
  }
  return {
    async list() {
      return ((await (await get('index.json')).json()) as { kits: KitSummary[] }).kits;
    },
    async kit(id) {
      if (!/^[a-z0-9-]+$/.test(id)) throw new BootsmithError(`"${id}" is not a kit id`);
      return checkKit(await (await get(`${id}/kit.json`)).json(), id);
    },
    async file(sha256) {
      return (await get(`blobs/${sha256}`)).blob();
    },
  };
}

let defaultSource: KitSource | undefined;

/** The source the engine uses unless told otherwise (the worker: /kits/; the CLI: node-source). */
export function setKitSource(source: KitSource): void {
  defaultSource = source;
}

export function kitSource(): KitSource {
  return defaultSource ?? (defaultSource = fetchKitSource('/kits/'));
}
