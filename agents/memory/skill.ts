// Memory around a skill: before the work, the agent recalls what it remembers about this customer
// (earlier jobs, preferences it was told) and hands it to the skill in the context; after a job that
// succeeded, it writes a condensed episode. Memory never fails a job: a recall or a write that
// throws is reported and the job goes on without it.
import type { RecalledMemory, Skill, SkillContext, SkillJob, SkillOutput } from '../../dvm/skill.js';
import type { MemoryStore } from '../../memory/store.js';
import { customerTag, episodeOf } from './episode.js';

export interface SkillMemoryOptions {
  readonly store: MemoryStore;
  readonly agentPubkey: string;
  /** How many memories to recall before a job (0: none, only write). */
  readonly recallLimit: number;
  readonly onError?: (err: unknown, where: string) => void;
}

async function recall(job: SkillJob, o: SkillMemoryOptions): Promise<RecalledMemory[]> {
  if (o.recallLimit <= 0) return [];
  const query = job.inputs.map((i) => i.text).join('\n').slice(0, 4000).trim();
  if (!query) return [];
  const hits = await o.store.search(query, { owner: o.agentPubkey, tags: [customerTag(job.request.customer)], limit: o.recallLimit });
  return hits.map((h) => ({ text: h.memory.text, kind: h.memory.kind, createdAt: h.memory.createdAt, score: h.score }));
}

export function withMemory(skill: Skill, o: SkillMemoryOptions): Skill {
  return {
    kind: skill.kind,
    name: skill.name,
    units: (job) => skill.units(job),
    async run(job: SkillJob, ctx: SkillContext): Promise<SkillOutput> {
      let memories: RecalledMemory[] = [];
      try {
        memories = await recall(job, o);
      } catch (err) {
        o.onError?.(err, `memory recall ${skill.name}`);
      }
      const out = await skill.run(job, memories.length ? { ...ctx, memories } : ctx);
      try {
        await o.store.add(episodeOf({ job, output: out, skillName: skill.name, agentPubkey: o.agentPubkey }));
      } catch (err) {
        o.onError?.(err, `memory write ${skill.name}`);
      }
      return out;
    },
  };
}
