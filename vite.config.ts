import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const publicDir = 'public';

/** Files below public/ to precache. The WASM tools (about 2 MB) are included so that every
 *  output builds offline after the first visit; kits are large and cached when first used. */
function publicFiles(dir = publicDir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const rel = relative(publicDir, p);
    if (rel === 'kits') continue;
    if (statSync(p).isDirectory()) out.push(...publicFiles(p));
    else out.push('/' + rel.split('\\').join('/'));
  }
  return out;
}

/** Emits sw.js with the list of every file of this build, so the app works offline. */
function serviceWorker(): Plugin {
  return {
    name: 'bootsmith-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = ['/', '/index.html', ...Object.keys(bundle).map((f) => '/' + f), ...publicFiles()]
        .filter((f, i, all) => all.indexOf(f) === i && f !== '/sw.js')
        .sort();
      const hash = createHash('sha256');
      for (const [name, chunk] of Object.entries(bundle).sort(([a], [b]) => (a < b ? -1 : 1))) {
        hash.update(name);
        hash.update(chunk.type === 'chunk' ? chunk.code : typeof chunk.source === 'string' ? chunk.source : Buffer.from(chunk.source));
      }
      const source = readFileSync('web/pwa/sw-template.js', 'utf8')
        .replace('const VERSION = __VERSION__;', `const VERSION = ${JSON.stringify(hash.digest('hex').slice(0, 16))};`)
        .replace('const PRECACHE = __PRECACHE__;', `const PRECACHE = ${JSON.stringify(files)};`);
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

export default defineConfig({
  root: 'web',
  publicDir: `../${publicDir}`,
  plugins: [svelte({ configFile: false, compilerOptions: { runes: true } }), serviceWorker()],
  worker: { format: 'es' },
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  server: { port: 5173 },
  preview: { port: 4173 },
});
