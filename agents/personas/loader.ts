// Loads personas from JSON: a folder of files (each one persona or an array of them) or one file.
// Errors name the file and the key (`personas/scribe.json: pricing.baseMsat: ...`).
//
// The default swarm ships as JSON files in agents/personas/default/ in the source tree. The
// compiler does not copy JSON into dist/, so the compiled module finds them relative to itself:
// ./default/ when run from source, ../../../agents/personas/default/ when run from dist/.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { personaSchema, type Persona } from './schema.js';

export interface PersonaIssue {
  /** Dotted path of the offending key (`pricing.baseMsat`, `kinds.2`), or `(file)` for the whole file. */
  readonly key: string;
  readonly message: string;
}

export class PersonaError extends Error {
  override name = 'PersonaError';
  constructor(
    readonly file: string,
    readonly issues: readonly PersonaIssue[],
  ) {
    super(issues.map((i) => `${file}: ${i.key}: ${i.message}`).join('\n'));
  }
}

function keyOf(path: readonly PropertyKey[], prefix: string): string {
  const k = [prefix, ...path.map(String)].filter(Boolean).join('.');
  return k || '(top level)';
}

function issuesOf(err: z.ZodError, prefix: string): PersonaIssue[] {
  const out: PersonaIssue[] = [];
  for (const i of err.issues) {
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) out.push({ key: keyOf([...i.path, k], prefix), message: 'unknown key' });
    } else {
      out.push({ key: keyOf(i.path, prefix), message: i.message });
    }
  }
  return out;
}

/** Validates one persona (already parsed JSON). `source` names it in errors. */
export function parsePersona(value: unknown, source = 'persona'): Persona {
  const r = personaSchema.safeParse(value);
  if (!r.success) throw new PersonaError(source, issuesOf(r.error, ''));
  return r.data;
}

/** Reads one JSON file holding a persona or an array of personas. */
export function loadPersonaFile(file: string): Persona[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PersonaError(file, [{ key: '(file)', message: (err as Error).message }]);
  }
  const list = Array.isArray(json) ? json : [json];
  const out: Persona[] = [];
  const issues: PersonaIssue[] = [];
  list.forEach((v, i) => {
    const r = personaSchema.safeParse(v);
    if (r.success) out.push(r.data);
    else issues.push(...issuesOf(r.error, Array.isArray(json) ? String(i) : ''));
  });
  if (issues.length) throw new PersonaError(file, issues);
  return out;
}

/** Loads a folder of *.json persona files (sorted by file name) or one file. Names must be unique. */
export function loadPersonas(path: string | URL): Persona[] {
  const p = typeof path === 'string' ? path : fileURLToPath(path);
  if (!existsSync(p)) throw new PersonaError(p, [{ key: '(file)', message: 'no such file or folder' }]);
  const files = statSync(p).isDirectory()
    ? readdirSync(p)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => join(p, f))
    : [p];
  const seen = new Map<string, string>();
  const out: Persona[] = [];
  for (const file of files) {
    for (const persona of loadPersonaFile(file)) {
      const other = seen.get(persona.name);
      if (other) throw new PersonaError(file, [{ key: 'name', message: `${persona.name} is already defined in ${other}` }]);
      seen.set(persona.name, file);
      out.push(persona);
    }
  }
  return out;
}

/** The folder of the default swarm's JSON files, from source or from dist/. */
export function defaultPersonasDir(): string {
  const candidates = [new URL('./default/', import.meta.url), new URL('../../../agents/personas/default/', import.meta.url)];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p)) return p;
  }
  throw new Error(`the default personas are missing (looked in ${candidates.map((c) => fileURLToPath(c)).join(' and ')})`);
}

/** The default swarm, validated. */
export const defaultSwarm = (): Persona[] => loadPersonas(defaultPersonasDir());
