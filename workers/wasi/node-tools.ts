// Node only: loads the WebAssembly tools from the build output on disk (public/wasm, written by
// wasm-tools/build.sh). Imported by the CLI and the tests, never by the browser bundle.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setToolLoader, type ToolName } from './tools.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIRS = [join(REPO, 'public', 'wasm'), join(REPO, 'wasm-tools', 'dist')];

export function toolPath(name: ToolName): string | undefined {
  return DIRS.map((d) => join(d, `${name}.wasm`)).find((p) => existsSync(p));
}

export function useToolsFromDisk(): void {
  setToolLoader(async (name) => {
    const path = toolPath(name);
    if (!path) throw new Error(`the ${name} tool is not built; run 'npm start' or 'bash wasm-tools/build.sh' first`);
    return WebAssembly.compile(await readFile(path));
  });
}
