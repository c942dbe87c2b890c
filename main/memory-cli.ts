// `timmy memory …`: search, add, list stats, prune and re-embed the agents' semantic memory. It
// opens <dataDir>/memory.sqlite directly (WAL: works beside a running instance).
import type { Config } from './config.js';
import { AdminError } from './admin-cli.js';
import { one, parseFlags, type Flags } from './flags.js';
import { memoryFile, openConfiguredEmbedder } from './memory.js';
import { MemoryStore } from '../memory/store.js';
import type { MemoryHit, MemoryKind } from '../memory/types.js';
import { prune } from '../memory/prune.js';
import { reembed } from '../memory/reembed.js';
import { Keystore } from '../agents/identity/keystore.js';
import { defaultSwarm, loadPersonas } from '../agents/personas/loader.js';
import { decode as nip19decode } from '../nostr/nip19.js';

export const MEMORY_HELP = `Usage: timmy memory <command> [options]

Commands:
  search "<query>"           the best-matching memories (hybrid: meaning + words + recency +
                             importance), e.g. timmy memory search "what can you do about audio?"
  add "<text>"               remember a fact (kind semantic unless --kind)
  stats                      how many memories, by agent and kind; the embedder and stale rows
  prune [--dry-run]          compact old, unimportant, never-recalled memories into summaries
                             (--older-than <days> default 90, --max-importance <0..1> default 0.3)
  reembed                    re-embed memories made by another embedder (resumable)

Options:
  --agent <name|npub|hex>    only this agent's memories ('' = the instance's own)
  --kind <k>                 episodic, semantic or procedural (search: repeatable)
  --limit <n>                how many results (default 10)
  --mode <m>                 hybrid (default), vector or bm25
  --importance <0..1>        add: how important (default 0.5)
  --tag <t>                  add: a tag (repeatable); search: only memories with it
  --json                     machine-readable output
  --data-dir <dir>           where data lives (default ./data)   env TIMMY_DATA_DIR
  --config <file>            JSON config file`;

const KINDS: readonly MemoryKind[] = ['episodic', 'semantic', 'procedural'];

function kindOf(s: string): MemoryKind {
  if (!(KINDS as readonly string[]).includes(s)) throw new AdminError(`--kind must be one of ${KINDS.join(', ')}, got "${s}"`);
  return s as MemoryKind;
}

/** Agents by name, so `--agent echo` works; the names come from the keystore (no secrets read). */
function agentNames(config: Config): Map<string, string> {
  const names = new Map<string, string>();
  try {
    const ks = Keystore.open({ dataDir: config.dataDir, ...(process.env.TIMMY_SECRET ? { masterSecret: process.env.TIMMY_SECRET } : {}), warn: () => undefined });
    const personas = config.agents.personasDir ? loadPersonas(config.agents.personasDir) : defaultSwarm();
    for (const p of personas) {
      try {
        names.set(p.name, ks.publicKey(p.name));
      } catch {
        // a persona without a key yet has no memories either
      }
    }
  } catch {
    // no keystore yet: only hex and npub work
  }
  return names;
}

function ownerOf(config: Config, s: string): string {
  if (s === '' || /^[0-9a-f]{64}$/i.test(s)) return s.toLowerCase();
  if (s.startsWith('npub1')) {
    try {
      return nip19decode(s as `npub1${string}`).data;
    } catch {
      throw new AdminError(`${s} is not a valid npub`);
    }
  }
  const pk = agentNames(config).get(s);
  if (!pk) throw new AdminError(`no agent named "${s}" (give its npub or hex key)`);
  return pk;
}

function numberFlag(f: Flags, name: string, min: number, max: number): number | undefined {
  const v = one(f, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new AdminError(`--${name} must be a number from ${min} to ${max}, got "${v}"`);
  return n;
}

function formatHit(h: MemoryHit, names: Map<string, string>): string {
  const m = h.memory;
  const who = [...names].find(([, pk]) => pk === m.owner)?.[0] ?? (m.owner ? `${m.owner.slice(0, 12)}…` : 'instance');
  const date = new Date(m.createdAt * 1000).toISOString().slice(0, 10);
  return `${h.score.toFixed(3)}  #${m.id} ${m.kind} ${who} ${date}  ${m.text.length > 160 ? `${m.text.slice(0, 159)}…` : m.text}`;
}

export async function memoryCommand(config: Config, argv: readonly string[]): Promise<string[]> {
  const f = parseFlags(argv, ['agent', 'kind', 'limit', 'mode', 'importance', 'tag', 'older-than', 'max-importance'], ['json', 'dry-run']);
  const [cmd, ...args] = f.positional;
  const embedder = await openConfiguredEmbedder(config.memory, config.dataDir, (_l, m) => console.error(m));
  const store = MemoryStore.open(memoryFile(config.dataDir), embedder, { weights: config.memory.weights });
  try {
    const owner = one(f, 'agent') !== undefined ? ownerOf(config, one(f, 'agent')!) : undefined;
    switch (cmd) {
      case 'search': {
        const q = args.join(' ').trim();
        if (!q) throw new AdminError('give what to look for: timmy memory search "<query>"');
        const mode = one(f, 'mode') ?? 'hybrid';
        if (mode !== 'hybrid' && mode !== 'vector' && mode !== 'bm25') throw new AdminError(`--mode must be hybrid, vector or bm25, got "${mode}"`);
        const kinds = (f.values.get('kind') ?? []).map(kindOf);
        const hits = await store.search(q, {
          limit: numberFlag(f, 'limit', 1, 1000) ?? 10,
          mode,
          touch: false,
          ...(owner !== undefined ? { owner } : {}),
          ...(kinds.length ? { kinds } : {}),
          ...(f.values.get('tag') ? { tags: f.values.get('tag')! } : {}),
        });
        if (f.bools.has('json')) return [JSON.stringify(hits.map((h) => ({ score: h.score, parts: h.parts, ...h.memory })), null, 2)];
        const names = agentNames(config);
        return hits.length ? hits.map((h) => formatHit(h, names)) : ['no memories match'];
      }
      case 'add': {
        const text = args.join(' ').trim();
        if (!text) throw new AdminError('give the text to remember: timmy memory add "<text>"');
        const added = await store.add({
          text,
          kind: one(f, 'kind') ? kindOf(one(f, 'kind')!) : 'semantic',
          owner: owner ?? '',
          tags: f.values.get('tag') ?? [],
          importance: numberFlag(f, 'importance', 0, 1) ?? 0.5,
        });
        return f.bools.has('json') ? [JSON.stringify(added)] : [`remembered #${added.map((m) => m.id).join(', #')}`];
      }
      case 'stats': {
        const out = { total: store.count(), byKind: Object.fromEntries(KINDS.map((k) => [k, store.count({ kind: k, ...(owner !== undefined ? { owner } : {}) })])), embedder: `${embedder.id}@${embedder.version}`, dimensions: embedder.dimensions, stale: store.stale() };
        if (f.bools.has('json')) return [JSON.stringify(out)];
        return [`memories: ${out.total} (${KINDS.map((k) => `${k} ${out.byKind[k]}`).join(', ')})`, `embedder: ${out.embedder}, ${out.dimensions} dimensions; ${out.stale} made by another embedder${out.stale ? " (run 'timmy memory reembed')" : ''}`];
      }
      case 'prune': {
        const r = await prune(store, {
          dryRun: f.bools.has('dry-run'),
          ...(numberFlag(f, 'older-than', 0, 100_000) !== undefined ? { olderThanDays: numberFlag(f, 'older-than', 0, 100_000)! } : {}),
          ...(numberFlag(f, 'max-importance', 0, 1) !== undefined ? { maxImportance: numberFlag(f, 'max-importance', 0, 1)! } : {}),
        });
        if (f.bools.has('json')) return [JSON.stringify(r)];
        const head = f.bools.has('dry-run') ? `dry run: ${r.candidates} memories would be compacted into ${r.groups.length} summaries` : `compacted ${r.removed} memories into ${r.summariesWritten} summaries`;
        return [head, ...r.groups.map((g) => `  ${g.kind} ${g.owner ? `${g.owner.slice(0, 12)}…` : 'instance'}: ${g.ids.length} → "${g.summary.length > 100 ? `${g.summary.slice(0, 99)}…` : g.summary}"`)];
      }
      case 'reembed': {
        const r = await reembed(store, { onProgress: (done, total) => console.error(`re-embedded ${done}/${total}…`) });
        return [`re-embedded ${r.migrated} memories with ${embedder.id}@${embedder.version}; ${r.remaining} left`];
      }
      default:
        throw new AdminError(`unknown memory command "${cmd ?? ''}"; run 'timmy memory --help'`);
    }
  } finally {
    store.close();
    await embedder.close?.();
  }
}
