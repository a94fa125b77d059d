// Kernel modules: reading modules.dep (as depmod writes it: `path: dep dep ...`, paths relative to
// /lib/modules/<version>, each module listing all its dependencies, direct and indirect), choosing
// a set of modules with everything they need in load order, and writing modules.dep for the subset
// an image ships.

/** Module path → the paths it depends on, in the order modules.dep lists them. Map order is the
 *  file's line order. */
export type ModulesDep = Map<string, string[]>;

const MODULE_SUFFIX = /\.ko(\.(xz|zst|gz))?$/;

export function parseModulesDep(text: string): ModulesDep {
  const dep: ModulesDep = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    if (!path) continue;
    dep.set(path, line.slice(colon + 1).trim().split(/\s+/).filter(Boolean));
  }
  return dep;
}

/** The module name modprobe uses: the file name without .ko/.ko.xz/.ko.zst/.ko.gz, with '-'
 *  written as '_' (modprobe treats them as the same). Works on names as well as paths. */
export function moduleNameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).replace(MODULE_SUFFIX, '').replace(/-/g, '_');
}

/** Module names from a modules.builtin file (modules compiled into the kernel). */
export function parseModulesBuiltin(text: string): Set<string> {
  return new Set(text.split('\n').map((l) => l.trim()).filter(Boolean).map(moduleNameOf));
}

export interface ResolvedModules {
  /** Every module to load, dependencies before the modules that use them, each once. */
  paths: string[];
  /** Requested names that modules.dep doesn't have (nor modules.builtin, when given). */
  missing: string[];
  /** Requested names that are built into the kernel: nothing to load. */
  builtin: string[];
}

/** The modules `names` need, in load order. A name may also be a path as modules.dep writes it. */
export function resolveModules(names: readonly string[], dep: ModulesDep, builtin: ReadonlySet<string> = new Set()): ResolvedModules {
  const byName = new Map<string, string>();
  for (const p of dep.keys()) if (!byName.has(moduleNameOf(p))) byName.set(moduleNameOf(p), p);
  const paths: string[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const missing: string[] = [];
  const builtins: string[] = [];
  const visit = (p: string) => {
    if (done.has(p) || visiting.has(p)) return;
    visiting.add(p);
    // modules.dep lists a module's users before what they use, so walking the list backwards
    // meets the deepest dependencies first; the post-order below fixes any order regardless.
    for (const d of [...(dep.get(p) ?? [])].reverse()) visit(d);
    visiting.delete(p);
    done.add(p);
    paths.push(p);
  };
  for (const n of names) {
    const p = dep.has(n) ? n : byName.get(moduleNameOf(n));
    if (p) visit(p);
    else if (builtin.has(moduleNameOf(n))) builtins.push(n);
    else missing.push(n);
  }
  return { paths, missing, builtin: builtins };
}

/** modules.dep for the modules an image ships: the kept modules' lines in their original order,
 *  each listing only kept dependencies (a kept set from resolveModules already has them all). */
export function filterModulesDep(dep: ModulesDep, keep: ReadonlySet<string>): string {
  let out = '';
  for (const [path, deps] of dep) {
    if (!keep.has(path)) continue;
    const kept = deps.filter((d) => keep.has(d));
    out += kept.length ? `${path}: ${kept.join(' ')}\n` : `${path}:\n`;
  }
  return out;
}

/** Dependencies of kept modules that are not kept themselves: "module needs dep" pairs. */
export function missingDependencies(dep: ModulesDep, keep: ReadonlySet<string>): { module: string; needs: string }[] {
  const out: { module: string; needs: string }[] = [];
  for (const p of keep) for (const d of dep.get(p) ?? []) if (!keep.has(d)) out.push({ module: p, needs: d });
  return out;
}

/** The text of /etc/bootsmith/modules: one module name per line, in order, each once. */
export function modulesLoadList(names: readonly string[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const n of names) {
    const m = moduleNameOf(n.trim());
    if (!m || seen.has(m)) continue;
    seen.add(m);
    lines.push(m);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}
