// The small flag parser the admin subcommands share (`timmy agent`, `timmy memory`, …): named
// values (repeatable), booleans and positionals, with unknown flags refused by name.
import { AdminError } from './admin-cli.js';

export interface Flags {
  readonly positional: string[];
  readonly values: Map<string, string[]>;
  readonly bools: Set<string>;
}

export function parseFlags(argv: readonly string[], valued: readonly string[], bools: readonly string[]): Flags {
  const positional: string[] = [];
  const values = new Map<string, string[]>();
  const set = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const name = a.slice(2);
      if (bools.includes(name)) set.add(name);
      else if (valued.includes(name)) {
        const v = argv[++i];
        if (v === undefined) throw new AdminError(`${a} needs a value`);
        values.set(name, [...(values.get(name) ?? []), v]);
      } else throw new AdminError(`unknown option ${a}`);
    } else positional.push(a);
  }
  return { positional, values, bools: set };
}

/** The last value given for a flag. */
export const one = (f: Flags, name: string): string | undefined => f.values.get(name)?.at(-1);
