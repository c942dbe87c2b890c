// The skill registry: which Skill serves which NIP-90 kind, built per persona. Built-in skills need
// no external service except 5050, which needs a reachable language model. Other skills plug in by
// kind: the voice issue adds 5000 (speech-to-text) and 5250 (text-to-speech) with
// `registry.set(5000, () => sttSkill)`.
import type { Skill } from '../../dvm/skill.js';
import type { Persona } from '../personas/schema.js';
import { countSkill, COUNT_KIND } from './count.js';
import { discoverySkill, DISCOVERY_KIND } from './discovery.js';
import { generateSkill, GENERATE_KIND, type TextGenerator } from './generate.js';
import { searchSkill, SEARCH_KIND, type SearchSkillOptions } from './search.js';
import { summarizeSkill, SUMMARIZE_KIND } from './summarize.js';
import { sttSkill, STT_KIND } from './stt.js';
import { ttsSkill, TTS_KIND } from './tts.js';
import type { VoicePort } from './voice-port.js';

/** Makes the skill for one persona (so a skill can use the persona's settings, e.g. its system prompt). */
export type SkillFactory = (persona: Persona) => Skill;
export type SkillRegistry = Map<number, SkillFactory>;

export interface BuiltinSkillDeps {
  /** The LLM router, for 5050. */
  llm: TextGenerator;
  /** The instance's public relay URL, put as a hint in 5300/5302 result tags. */
  relayHint?: string;
  /** Semantic recall over memories for 5302 (agents/memory/search.ts). */
  recall?: SearchSkillOptions['recall'];
  /** The voice service, for 5000 and 5250; without it those kinds have no skill. */
  voice?: VoicePort;
}

export function builtinSkills(deps: BuiltinSkillDeps): SkillRegistry {
  const hint = deps.relayHint ? { relayHint: deps.relayHint } : {};
  const summarize = summarizeSkill();
  const search = searchSkill({ ...hint, ...(deps.recall ? { recall: deps.recall } : {}) });
  const discovery = discoverySkill(hint);
  const count = countSkill();
  const registry = new Map<number, SkillFactory>([
    [SUMMARIZE_KIND, () => summarize],
    [SEARCH_KIND, () => search],
    [DISCOVERY_KIND, () => discovery],
    [COUNT_KIND, () => count],
    [GENERATE_KIND, (p) => generateSkill(deps.llm, p.systemPrompt ? { system: p.systemPrompt } : {})],
  ]);
  if (deps.voice) {
    const stt = sttSkill(deps.voice);
    const tts = ttsSkill(deps.voice);
    registry.set(STT_KIND, () => stt);
    registry.set(TTS_KIND, () => tts);
  }
  return registry;
}

export class MissingSkillError extends Error {
  override name = 'MissingSkillError';
}

/** The persona's skills, one per kind it serves. Throws naming the persona and kind when one has no skill. */
export function skillsFor(persona: Persona, registry: ReadonlyMap<number, SkillFactory>): Skill[] {
  return persona.kinds.map((k) => {
    const make = registry.get(k);
    if (!make) throw new MissingSkillError(`persona ${persona.name} serves kind ${k}, but no skill for kind ${k} is installed`);
    const s = make(persona);
    if (s.kind !== k) throw new MissingSkillError(`the skill registered for kind ${k} serves kind ${s.kind}`);
    return s;
  });
}
