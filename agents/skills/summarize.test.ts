import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SkillError } from '../../dvm/skill.js';
import { summarizeSkill } from './summarize.js';
import { fakeContext, fakeJob } from './testing.js';
import { parseLength, rankSentences, splitSentences, summarizeText } from './textrank.js';

const BEES = `Honeybees live in colonies that can hold tens of thousands of bees. Each colony has a single queen bee, thousands of female worker bees and a few hundred male drones. My neighbour painted his fence green last summer.

Worker bees gather nectar and pollen from flowers to feed the colony. The nectar is turned into honey, which the colony stores in wax comb for the winter. Cheese is made from milk in many countries.

The queen bee lays the eggs of the colony, up to two thousand eggs a day. When a colony grows too large, the old queen leaves with a swarm of worker bees to found a new colony. Trains in Japan are famous for running on time.`;

const OFF_TOPIC = ['fence', 'Cheese', 'Trains'];
const sentencesOf = (summary: string): string[] => splitSentences([summary]).map((s) => s.text);

describe('TextRank', () => {
  it('splits paragraphs and sentences, in order', () => {
    const s = splitSentences([BEES]);
    assert.equal(s.length, 9);
    assert.deepEqual(
      s.map((x) => x.paragraph),
      [0, 0, 0, 1, 1, 1, 2, 2, 2],
    );
    assert.equal(s[4]!.text, 'The nectar is turned into honey, which the colony stores in wax comb for the winter.');
  });

  it('ranks the sentences that share the most with the others highest, and the off-topic ones lowest', () => {
    const s = splitSentences([BEES]);
    const scores = rankSentences(s);
    const order = s.map((x, i) => ({ text: x.text, score: scores[i]! })).sort((a, b) => b.score - a.score);
    for (const off of order.slice(-3)) assert.ok(OFF_TOPIC.some((w) => off.text.includes(w)), `lowest ranked: ${off.text}`);
    // The sentence that shares the most (colony, queen, bee, worker, thousand) with the rest.
    assert.equal(order[0]!.text, 'Each colony has a single queen bee, thousands of female worker bees and a few hundred male drones.');
  });

  it('keeps the top sentences in their original order', () => {
    const all = splitSentences([BEES]).map((s) => s.text);
    const summary = summarizeText([BEES], { n: 3, unit: 'sentences' });
    const kept = sentencesOf(summary);
    assert.equal(kept.length, 3);
    for (const k of kept) assert.ok(!OFF_TOPIC.some((w) => k.includes(w)), k);
    assert.deepEqual(kept, [
      'Each colony has a single queen bee, thousands of female worker bees and a few hundred male drones.',
      'The queen bee lays the eggs of the colony, up to two thousand eggs a day.',
      'When a colony grows too large, the old queen leaves with a swarm of worker bees to found a new colony.',
    ]);
    const positions = kept.map((k) => all.indexOf(k));
    assert.ok(positions.every((p) => p >= 0), 'every sentence is verbatim from the text');
    assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
  });

  it('honours word and paragraph budgets', () => {
    const byWords = summarizeText([BEES], { n: 30, unit: 'words' });
    const words = byWords.split(/\s+/).filter(Boolean).length;
    assert.ok(words <= 30 && words > 0, byWords);
    const byParas = summarizeText([BEES], { n: 2, unit: 'paragraphs' });
    assert.equal(byParas.split('\n\n').length, 2);
    assert.ok(sentencesOf(byParas).length <= 6);
    assert.deepEqual(parseLength('10 paragraphs'), { n: 10, unit: 'paragraphs' });
    assert.deepEqual(parseLength('1 word'), { n: 1, unit: 'words' });
    assert.deepEqual(parseLength('4'), { n: 4, unit: 'sentences' });
    assert.equal(parseLength('ten words'), undefined);
    assert.equal(parseLength('0 words'), undefined);
  });
});

describe('summarize skill (5001)', () => {
  const skill = summarizeSkill();

  it('summarizes every input, with the length param', async () => {
    const job = fakeJob({ kind: 5001, inputs: [BEES, 'A second input about the queen bee and the colony of worker bees.'], params: [['length', '2 sentences']] });
    const out = await skill.run(job, fakeContext());
    assert.equal(sentencesOf(out.content).length, 2);
    assert.equal(skill.units(job), 1);
    assert.equal(skill.kind, 5001);
  });

  it('fails clearly on a bad length, on no text, and stops when cancelled', async () => {
    await assert.rejects(skill.run(fakeJob({ kind: 5001, inputs: [BEES], params: [['length', 'short']] }), fakeContext()), (e: unknown) => e instanceof SkillError && /param length/.test(e.message));
    await assert.rejects(skill.run(fakeJob({ kind: 5001, inputs: ['   '] }), fakeContext()), (e: unknown) => e instanceof SkillError && /nothing to summarize/.test(e.message));
    const ac = new AbortController();
    ac.abort(new Error('cancelled'));
    await assert.rejects(skill.run(fakeJob({ kind: 5001, inputs: [BEES] }), fakeContext(undefined, ac.signal)), /cancelled/);
  });
});
