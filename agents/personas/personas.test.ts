import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PriceLearner } from '../bidding/learner.js';
import { builtinSkills, skillsFor, MissingSkillError } from '../skills/index.js';
import { defaultSwarm, loadPersonas, parsePersona, PersonaError } from './loader.js';
import { priceMsat, type PersonaInput } from './schema.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const folder = (files: Record<string, string>): string => {
  const d = mkdtempSync(join(tmpdir(), 'timmy-personas-'));
  dirs.push(d);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
};

const valid: PersonaInput = {
  name: 'tester',
  displayName: 'Tester',
  about: 'tests things',
  kinds: [5001],
  pricing: { baseMsat: 1000, perUnitMsat: 10 },
};

describe('personas', () => {
  it('ships a default swarm whose every kind has a built-in skill', () => {
    const swarm = defaultSwarm();
    assert.deepEqual(swarm.map((p) => p.name).sort(), ['echo', 'muse', 'precis', 'scout', 'scribe', 'tally']);
    const kinds = new Set(swarm.flatMap((p) => p.kinds));
    assert.deepEqual([...kinds].sort(), [5000, 5001, 5050, 5250, 5300, 5302, 5400]);
    const registry = builtinSkills({ llm: { generate: () => Promise.reject(new Error('unused')) } });
    // 5000 and 5250 have skills only with a voice service (main/dvm.ts skips them otherwise).
    const unused = () => Promise.reject(new Error('unused'));
    const withVoice = builtinSkills({ llm: { generate: unused }, voice: { decode: unused, transcribe: unused, speak: unused, audioSink: unused } });
    for (const p of swarm) {
      assert.deepEqual(skillsFor(p, withVoice).map((s) => s.kind), p.kinds);
      assert.ok(new PriceLearner(p.bidding).config.window >= 1, `${p.name}: bidding parameters the learner accepts`);
    }
    assert.throws(() => skillsFor({ ...swarm[0]!, kinds: [5000] }, registry), (e: unknown) => e instanceof MissingSkillError && /kind 5000/.test(e.message));
  });

  it('fills defaults and prices jobs', () => {
    const p = parsePersona(valid);
    assert.equal(p.pricing.minMarginPct, 0);
    assert.deepEqual(p.bidding, {}, 'the learner fills in its own defaults');
    assert.deepEqual(p.identities, []);
    assert.equal(p.enabled, true);
    assert.equal(priceMsat(p.pricing, 0), 1000);
    assert.equal(priceMsat(p.pricing, 2.5), 1025);
  });

  it('names the file and the key of every problem', () => {
    const bad = { ...valid, name: 'Bad Name', pricing: { baseMsat: -1, perUnitMsat: 10 }, kinds: [5001, 7000], bidding: { window: 0 }, colour: 'red' };
    const dir = folder({ 'bad.json': JSON.stringify(bad), 'ok.json': JSON.stringify(valid) });
    assert.throws(
      () => loadPersonas(dir),
      (err: unknown) => {
        assert.ok(err instanceof PersonaError);
        assert.equal(err.file, join(dir, 'bad.json'));
        const keys = err.issues.map((i) => i.key).sort();
        assert.deepEqual(keys, ['bidding.window', 'colour', 'kinds.1', 'name', 'pricing.baseMsat']);
        assert.match(err.message, /bad\.json: pricing\.baseMsat: /);
        assert.match(err.message, /bad\.json: colour: unknown key/);
        return true;
      },
    );
  });

  it('checks the bidding bounds against each other', () => {
    assert.throws(
      () => parsePersona({ ...valid, bidding: { minMarkupPct: 50, maxMarkupPct: 10 } }, 'p.json'),
      (e: unknown) => e instanceof PersonaError && /p\.json: bidding\.minMarkupPct: minMarkupPct must not exceed maxMarkupPct/.test(e.message),
    );
    assert.deepEqual(parsePersona({ ...valid, bidding: { window: 10, exploration: 0.2 } }).bidding, { window: 10, exploration: 0.2 });
  });

  it('reports broken JSON, arrays by index, and duplicate names', () => {
    const broken = folder({ 'x.json': '{ "name": ' });
    assert.throws(() => loadPersonas(broken), (e: unknown) => e instanceof PersonaError && /x\.json: \(file\): /.test(e.message));
    const arr = folder({ 'all.json': JSON.stringify([valid, { ...valid, name: 'second', kinds: [] }]) });
    assert.throws(() => loadPersonas(arr), (e: unknown) => e instanceof PersonaError && /all\.json: 1\.kinds: /.test(e.message));
    const dup = folder({ 'a.json': JSON.stringify(valid), 'b.json': JSON.stringify(valid) });
    assert.throws(() => loadPersonas(dup), (e: unknown) => e instanceof PersonaError && /b\.json: name: tester is already defined in .*a\.json/.test(e.message));
    assert.throws(() => loadPersonas(join(arr, 'missing.json')), (e: unknown) => e instanceof PersonaError && /missing\.json: \(file\): no such file/.test(e.message));
  });
});
