// Compaction: old, unimportant, never-recalled memories of one owner and kind become one summary
// memory (importance = the group's highest, source events and tags merged, created_at = the
// group's newest so it ages from its latest content). The summary is written and the originals
// deleted in one transaction. A dry run only reports the groups and their would-be summaries.
import { firstSentence } from './chunk.js';
import type { MemoryStore } from './store.js';
import { nowSeconds, type MemoryKind } from './types.js';

export interface PruneOptions {
  olderThanDays?: number;
  maxImportance?: number;
  neverAccessedOnly?: boolean;
  dryRun?: boolean;
  now?: number;
  summarize?: (texts: string[]) => Promise<string> | string;
}

export interface PruneReport {
  candidates: number;
  groups: { owner: string; kind: MemoryKind; ids: number[]; summary: string }[];
  removed: number;
  summariesWritten: number;
}

/** Extractive default: the first sentence of each memory, in order, up to ~1500 characters. */
export function extractiveSummary(texts: string[]): string {
  const out: string[] = [];
  let len = 0;
  for (const t of texts) {
    const s = firstSentence(t, 200);
    if (!s) continue;
    if (len + s.length > 1500) {
      out.push(`(+${texts.length - out.length} more)`);
      break;
    }
    out.push(s);
    len += s.length + 1;
  }
  return out.join(' ');
}

export async function prune(store: MemoryStore, o: PruneOptions = {}): Promise<PruneReport> {
  const now = o.now ?? nowSeconds();
  const before = now - (o.olderThanDays ?? 90) * 86400;
  const rows = store.pruneCandidates(before, o.maxImportance ?? 0.3, o.neverAccessedOnly ?? true);
  const byGroup = new Map<string, typeof rows>();
  for (const m of rows) {
    const key = JSON.stringify([m.owner, m.kind]);
    byGroup.set(key, [...(byGroup.get(key) ?? []), m]);
  }
  const summarize = o.summarize ?? extractiveSummary;
  const report: PruneReport = { candidates: rows.length, groups: [], removed: 0, summariesWritten: 0 };
  for (const ms of byGroup.values()) {
    if (ms.length < 2) continue; // one memory is already as short as its summary would be
    const first = ms[0]!;
    const summary = (await summarize(ms.map((m) => m.text))).trim();
    if (!summary) continue;
    const ids = ms.map((m) => m.id);
    report.groups.push({ owner: first.owner, kind: first.kind, ids, summary });
    if (o.dryRun) continue;
    await store.replace(
      [{
        text: summary,
        kind: first.kind,
        owner: first.owner,
        importance: Math.max(...ms.map((m) => m.importance)),
        createdAt: Math.max(...ms.map((m) => m.createdAt)),
        sourceEvents: [...new Set(ms.flatMap((m) => m.sourceEvents))],
        tags: [...new Set(['summary', ...ms.flatMap((m) => m.tags)])],
      }],
      ids,
    );
    report.removed += ids.length;
    report.summariesWritten++;
  }
  return report;
}
