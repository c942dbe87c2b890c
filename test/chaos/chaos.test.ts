// Chaos (kill -9): a real instance is SIGKILLed at random moments under a realistic workload and
// restarted on the same data dir; after every restart the invariants of docs/reliability.md
// ("Chaos (kill -9)") are checked. `npm test` runs a short run (~10 kills); the full run is
// `npm run chaos` (TIMMY_CHAOS_KILLS=100; TIMMY_CHAOS_SEED replays a run).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, runChaos } from './harness.js';

// In `npm test` (scripts/run-tests.mjs) the file as a whole gets --test-timeout (120 s); 10 kills take 30-55 s.
const kills = Number(process.env.TIMMY_CHAOS_KILLS ?? 10);
const seed = process.env.TIMMY_CHAOS_SEED ? Number(process.env.TIMMY_CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31);

it(`survives ${kills} SIGKILLs under load with every invariant intact (seed ${seed})`, { timeout: Math.max(240_000, kills * 15_000) }, async () => {
  assert.ok(Number.isInteger(kills) && kills > 0, 'TIMMY_CHAOS_KILLS must be a positive integer');
  const report = await runChaos({
    kills,
    seed,
    keepData: process.env.TIMMY_CHAOS_KEEP === '1',
    log: process.env.TIMMY_CHAOS_VERBOSE === '1' ? (l) => console.log(l) : undefined,
  });
  console.log(formatReport(report));
  for (const [name, inv] of Object.entries(report.invariants)) {
    assert.deepEqual(inv.violations, [], `invariant ${name} violated (seed ${seed})`);
    assert.equal(inv.survived, inv.checked, `invariant ${name} (seed ${seed})`);
  }
  assert.ok(report.events.acked > kills * 20, `the workload ran: ${report.events.acked} events acknowledged`);
  assert.ok(report.jobs.delivered > 0, 'some jobs were delivered');
  assert.equal(report.cleanStopExit, 0, 'the last instance stops cleanly');
});
