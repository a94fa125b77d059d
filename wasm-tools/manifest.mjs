// Writes public/wasm/manifest.json: each tool's file name, size, gzipped size and sha256, and the
// source package it came from. Usage: node manifest.mjs <dist-dir> <manifest.json>
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const [dist, target] = process.argv.slice(2);
const builds = {};
for (const f of readdirSync(dist).filter((f) => f.endsWith('.build.json'))) {
  builds[f.replace(/\.build\.json$/, '')] = JSON.parse(readFileSync(join(dist, f), 'utf8'));
}
const PACKAGE_OF = {
  mke2fs: 'e2fsprogs', e2fsck: 'e2fsprogs', debugfs: 'e2fsprogs',
  'mkfs.fat': 'dosfstools', 'fsck.fat': 'dosfstools', mtools: 'mtools',
};
const tools = {};
for (const f of readdirSync(dist).filter((f) => f.endsWith('.wasm')).sort()) {
  const name = f.replace(/\.wasm$/, '');
  const bytes = readFileSync(join(dist, f));
  const pkg = PACKAGE_OF[name];
  tools[name] = {
    file: f,
    size: bytes.length,
    gzipSize: gzipSync(bytes, { level: 9 }).length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    package: pkg,
    version: builds[pkg]?.version,
  };
}
const manifest = { tools, builds };
writeFileSync(target, JSON.stringify(manifest, null, 2) + '\n');
console.log(`wrote ${target}: ${Object.keys(tools).join(', ')}`);
