// A small argument parser: positionals, `--flag value`, `--flag=value` and boolean switches.
import { BootsmithError } from '../model/problems.ts';

export interface Parsed {
  positionals: string[];
  options: Map<string, string | true>;
}

/** `valued` lists the options that take a value; every other `--x` is a switch. */
export function parseArgs(argv: string[], valued: string[], switches: string[] = []): Parsed {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (!a.startsWith('-') || a === '-') { positionals.push(a); continue; }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (valued.includes(name)) {
      const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new BootsmithError(`${name} needs a value`);
      options.set(name, value);
    } else if (switches.includes(name) && eq < 0) {
      options.set(name, true);
    } else {
      throw new BootsmithError(`unknown option ${a} (see --help)`);
    }
  }
  return { positionals, options };
}

export function intOption(p: Parsed, name: string, radix = 10): number | undefined {
  const v = p.options.get(name);
  if (v === undefined || v === true) return undefined;
  const ok = radix === 8 ? /^0?[0-7]{1,4}$/.test(v) : /^\d+$/.test(v);
  if (!ok) throw new BootsmithError(`${name} takes a ${radix === 8 ? 'mode in octal, e.g. 0755' : 'whole number'}, not "${v}"`);
  return parseInt(v, radix);
}

export function stringOption(p: Parsed, name: string): string | undefined {
  const v = p.options.get(name);
  return typeof v === 'string' ? v : undefined;
}
