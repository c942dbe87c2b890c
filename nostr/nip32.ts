// NIP-32 labeling: kind 1985 label events, `L` namespaces and `l` labels with their marks, and the
// targets they point at (e, p, a, r, t). Pure build/parse; what a namespace's labels mean is the
// business of whoever defines it (Timmy's job labels: reputation/labels.ts).
import type { Checked, NostrEvent } from './nip01.js';
import type { EventTemplate } from './verify.js';

export const LABEL_KIND = 1985;
/** The implied namespace of an `l` tag with no mark (NIP-32: "If none is included, `ugc` is implied"). */
export const UGC = 'ugc';

export interface Label {
  readonly value: string;
  readonly namespace: string;
}

export interface LabelTarget {
  readonly type: 'e' | 'p' | 'a' | 'r' | 't';
  readonly value: string;
  /** Relay hint (e, p) or whatever the third element holds. */
  readonly hint?: string;
  /** A fourth element, e.g. a marker. */
  readonly marker?: string;
}

export interface ParsedLabelEvent {
  readonly event: NostrEvent;
  readonly namespaces: readonly string[];
  readonly labels: readonly Label[];
  readonly targets: readonly LabelTarget[];
}

const TARGET_TYPES = new Set(['e', 'p', 'a', 'r', 't']);

/**
 * Reads a kind 1985 event. Refuses what NIP-32 forbids: no target, an `l` whose mark matches no `L`
 * of the event (when the event has `L` tags), an empty label. Unmarked labels without any `L` are `ugc`.
 */
export function parseLabelEvent(e: NostrEvent): Checked<ParsedLabelEvent> {
  if (e.kind !== LABEL_KIND) return { ok: false, reason: `not a label event (kind ${e.kind})` };
  const namespaces = e.tags.filter((t) => t[0] === 'L' && typeof t[1] === 'string' && t[1] !== '').map((t) => t[1]!);
  const labels: Label[] = [];
  for (const t of e.tags) {
    if (t[0] !== 'l') continue;
    const value = t[1];
    if (typeof value !== 'string' || value === '') return { ok: false, reason: 'empty label' };
    const mark = t[2];
    if (namespaces.length > 0) {
      // "If using an L tag, l tags MUST include a mark matching an L tag value in the same event."
      if (mark === undefined || !namespaces.includes(mark)) return { ok: false, reason: `label ${JSON.stringify(value)} has no mark matching an L tag` };
      labels.push({ value, namespace: mark });
    } else {
      labels.push({ value, namespace: mark && mark !== '' ? mark : UGC });
    }
  }
  if (labels.length === 0) return { ok: false, reason: 'no l tag' };
  const targets: LabelTarget[] = [];
  for (const t of e.tags) {
    const [type, value, hint, marker] = t;
    if (type === undefined || !TARGET_TYPES.has(type) || typeof value !== 'string' || value === '') continue;
    targets.push({ type: type as LabelTarget['type'], value, ...(hint ? { hint } : {}), ...(marker ? { marker } : {}) });
  }
  if (targets.length === 0) return { ok: false, reason: 'no target (e, p, a, r or t tag)' };
  return { ok: true, value: { event: e, namespaces, labels, targets } };
}

export interface LabelTemplateInput {
  readonly namespace: string;
  readonly labels: readonly string[];
  readonly targets: readonly LabelTarget[];
  readonly content?: string;
  readonly extraTags?: readonly (readonly string[])[];
  readonly created_at?: number;
}

/** A kind 1985 template: one `L`, its marked `l`s, then the targets (relay hints and markers kept). */
export function labelTemplate(i: LabelTemplateInput): EventTemplate {
  const targets = i.targets.map((t) => {
    const tag = [t.type, t.value];
    if (t.hint !== undefined || t.marker !== undefined) tag.push(t.hint ?? '');
    if (t.marker !== undefined) tag.push(t.marker);
    return tag;
  });
  return {
    kind: LABEL_KIND,
    created_at: i.created_at ?? Math.floor(Date.now() / 1000),
    content: i.content ?? '',
    tags: [['L', i.namespace], ...i.labels.map((l) => ['l', l, i.namespace]), ...targets, ...(i.extraTags ?? []).map((t) => [...t])],
  };
}
