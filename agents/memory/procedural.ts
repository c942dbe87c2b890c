// Procedural memories: each skill an agent has, described in plain words and embedded, so that a
// request in natural language ("what can you do about audio?") finds the skill by meaning. Written
// once per agent and kind (tag `skill:<kind>`), replaced when the description changes.
import type { MemoryStore } from '../../memory/store.js';

/** How each DVM kind is described (after the kinds' specs in ../shared/specs/dvm-kinds). */
export const SKILL_DESCRIPTIONS: Readonly<Record<number, string>> = {
  5000: 'Speech to text: transcribe audio recordings, voice notes and spoken words into written text, with timestamps.',
  5001: 'Summarization: condense long text, articles and notes into a short summary of the main points.',
  5002: 'Translation: translate text from one language into another language.',
  5050: 'Text generation: write, answer questions and chat with a language model from a prompt.',
  5250: 'Text to speech: read text aloud and turn written words into spoken audio, a voice recording.',
  5300: 'Content discovery: find and recommend notes and posts worth reading.',
  5301: 'People discovery: find Nostr users and accounts to follow.',
  5302: 'Content search: look for notes, posts and remembered jobs that mention a topic.',
  5303: 'People search: look for Nostr users by name or description.',
  5400: 'Event count: count Nostr events that match a filter.',
};

export const skillTag = (kind: number): string => `skill:${kind}`;

export function describeSkill(kind: number, name: string): string {
  return SKILL_DESCRIPTIONS[kind] ?? `${name}: serves NIP-90 job kind ${kind}.`;
}

/** Makes sure the agent's procedural memories match its skills; returns how many were written. */
export async function rememberSkills(store: MemoryStore, agentPubkey: string, skills: readonly { kind: number; name: string }[]): Promise<number> {
  let written = 0;
  for (const s of skills) {
    const text = describeSkill(s.kind, s.name);
    const existing = store.find({ owner: agentPubkey, kind: 'procedural', tag: skillTag(s.kind) });
    if (existing.some((m) => m.text === text)) continue;
    for (const m of existing) store.delete(m.id);
    await store.add({ text, kind: 'procedural', owner: agentPubkey, tags: [skillTag(s.kind), `skill:${s.name}`], importance: 1 });
    written++;
  }
  return written;
}
