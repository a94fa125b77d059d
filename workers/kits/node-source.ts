// Kits for the CLI and the tests: public/kits on disk (made by kits/build.sh), or the folder
// named by BOOTSMITH_KITS. File contents stay on disk as file-backed Blobs.
import { openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { BootsmithError } from '../model/problems.ts';
import { type KitSource, type KitSummary, checkKit, setKitSource } from './kit.ts';

export function kitsDir(): string {
  return process.env.BOOTSMITH_KITS || fileURLToPath(new URL('../../public/kits/', import.meta.url));
}

export function diskKitSource(dir = kitsDir()): KitSource {
  async function json(path: string): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(join(dir, path), 'utf8');
    } catch {
      throw new BootsmithError(`No board kits in ${dir} (${path} is missing). Run \`npm start\` or \`bash scripts/setup.sh app\` once to assemble them.`);
    }
    return JSON.parse(text);
  }
  return {
    async list() {
      return (await json('index.json') as { kits: KitSummary[] }).kits;
    },
    async kit(id) {
      if (!/^[a-z0-9-]+$/.test(id)) throw new BootsmithError(`"${id}" is not a kit id`);
      const list = await this.list();
      if (!list.some((k) => k.id === id)) {
        throw new BootsmithError(`There is no kit "${id}". Kits: ${list.map((k) => k.id).join(', ')} (see bootsmith kits).`);
      }
      return checkKit(await json(`${id}/kit.json`) as never, id);
    },
    async file(sha256) {
      if (!/^[0-9a-f]{64}$/.test(sha256)) throw new BootsmithError(`"${sha256}" is not a sha256`);
      try {
        return await openAsBlob(join(dir, 'blobs', sha256));
      } catch {
        throw new BootsmithError(`The kit file ${sha256} is missing from ${dir}/blobs. Run the set-up again to rebuild the kits.`);
      }
    },
  };
}

export function useKitsFromDisk(dir?: string): KitSource {
  const source = diskKitSource(dir);
  setKitSource(source);
  return source;
}
