// Where the engine gets its WebAssembly tools (mke2fs, e2fsck, debugfs, mkfs.fat, fsck.fat,
// mtools). The page's worker fetches them from /wasm/ (the service worker keeps them for offline
// use); the CLI and the tests read them from disk (see node-tools.ts). Compiled modules are
// cached: each tool is compiled once per worker or process.

export type ToolName = 'mke2fs' | 'e2fsck' | 'debugfs' | 'mkfs.fat' | 'fsck.fat' | 'mtools';

export type ToolLoader = (name: ToolName) => Promise<WebAssembly.Module>;

/** Fetches /wasm/<name>.wasm relative to the page (or worker) origin. */
const fetchLoader: ToolLoader = async (name) => {
  const url = new URL(`/wasm/${name}.wasm`, globalThis.location?.href ?? 'http://localhost/');
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load the ${name} tool (${res.status} ${res.statusText} for ${url.pathname}); reload the app while online once`);
  return WebAssembly.compileStreaming ? WebAssembly.compileStreaming(res) : WebAssembly.compile(await res.arrayBuffer());
};

let loader: ToolLoader = fetchLoader;
const cache = new Map<ToolName, Promise<WebAssembly.Module>>();

/** Replaces how tools are found (the CLI and tests read them from disk). */
export function setToolLoader(next: ToolLoader): void {
  loader = next;
  cache.clear();
}

export function loadTool(name: ToolName): Promise<WebAssembly.Module> {
  let m = cache.get(name);
  if (!m) {
    m = loader(name);
    cache.set(name, m);
    m.catch(() => cache.delete(name));
  }
  return m;
}
