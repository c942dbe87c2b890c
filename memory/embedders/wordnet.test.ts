import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeWordNetData, hypernymsOf, loadWordNet, morphy, spellingNeighbour, synsetsOf, wordNetLoadMs } from './wordnet.js';

test('WordNet loads once, fast, with modest memory (time printed)', (t) => {
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  loadWordNet();
  const ms = performance.now() - t0;
  const mb = (process.memoryUsage().heapUsed - heap0) / 1e6;
  t.diagnostic(`WordNet 3.1 index load: ${ms.toFixed(0)} ms, heap +${mb.toFixed(1)} MB`);
  console.log(`WordNet 3.1 index load: ${ms.toFixed(0)} ms, heap +${mb.toFixed(1)} MB`);
  assert.ok(ms < 20_000, 'generous bound for a loaded CI machine; target < 1.5 s');
  assert.ok(wordNetLoadMs() > 0);
  const t1 = performance.now();
  loadWordNet();
  assert.ok(performance.now() - t1 < 50, 'second call is a no-op');
});

test('synsetsOf: synonyms share their first synset', () => {
  const car = synsetsOf('car');
  const automobile = synsetsOf('automobile');
  assert.equal(car.length, 3);
  assert.ok(car[0]!.match(/^n\d{8}$/));
  assert.equal(car[0], automobile[0], 'car#1 is automobile#1');
  assert.deepEqual(synsetsOf('banana').filter((s) => car.includes(s)), []);
  assert.deepEqual(synsetsOf('Car', 1), [car[0]]);
  assert.deepEqual(synsetsOf('xqzzyv'), []);
  assert.deepEqual(synsetsOf('car', 0), []);
});

test('synsetsOf: plurals, verb forms, irregulars and compounds are lemmatised', () => {
  assert.ok(synsetsOf('cars').includes(synsetsOf('car')[0]!));
  assert.ok(synsetsOf('boxes').some((s) => synsetsOf('box').includes(s)));
  const run = synsetsOf('run', 3).filter((s) => s.startsWith('v'));
  assert.ok(synsetsOf('running').includes(run[0]!), 'running -> run (doubled consonant)');
  assert.ok(synsetsOf('ran').includes(run[0]!), 'ran -> run (irregular)');
  assert.ok(synsetsOf('children').includes(synsetsOf('child')[0]!));
  assert.ok(synsetsOf('stopped').includes(synsetsOf('stop').find((s) => s.startsWith('v'))!));
  assert.equal(synsetsOf('ice cream').length, 1, 'multi-word lemmas use "_" in WordNet');
  assert.deepEqual(synsetsOf('ice creams'), synsetsOf('ice_cream'));
  assert.deepEqual(morphy('geese', 'n'), ['goose']);
  assert.ok(morphy('better', 'a').includes('good'));
});

test('hypernymsOf: one step more general, read from the data files by offset', () => {
  const car = synsetsOf('car')[0]!;
  const motorVehicle = synsetsOf('motor vehicle')[0]!;
  assert.deepEqual(hypernymsOf(car), [motorVehicle]);
  const engine = synsetsOf('engine')[0]!;
  assert.ok(hypernymsOf(engine).includes(synsetsOf('motor')[0]!), 'an engine is a motor');
  assert.ok(hypernymsOf(synsetsOf('loaf')[0]!).includes(synsetsOf('bread')[0]!));
  const entity = synsetsOf('entity')[0]!;
  assert.deepEqual(hypernymsOf(entity), [], 'the root has none');
  assert.deepEqual(hypernymsOf('n99999999'), []);
  assert.deepEqual(hypernymsOf('x123'), []);
  // A satellite adjective points to its head; a head does not list its satellites.
  const scorching = synsetsOf('scorching').find((s) => s.startsWith('a'))!;
  assert.equal(hypernymsOf(scorching).length, 1);
  assert.deepEqual(hypernymsOf(synsetsOf('hot')[0]!), []);
  closeWordNetData();
  assert.deepEqual(hypernymsOf(car), [motorVehicle], 'cached');
});

test('spellingNeighbour: unknown words one edit from a lemma', () => {
  assert.equal(spellingNeighbour('recieve'), 'receive');
  assert.equal(spellingNeighbour('podcats'), 'podcast');
  assert.equal(spellingNeighbour('transcripton'), 'transcription');
  assert.equal(spellingNeighbour('receive'), undefined, 'known words stay');
  assert.equal(spellingNeighbour('cars'), undefined, 'short words are left alone');
  assert.equal(spellingNeighbour('qqqqqqzz'), undefined);
  assert.equal(spellingNeighbour('abc123x'), undefined);
});
