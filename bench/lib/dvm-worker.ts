// worker_threads entry of the DVM benchmark: runs the customers (bench/lib/dvm-customers.ts) off the
// instance's main thread. Paying and reading an escrow are asked of the main thread, which holds the
// instance's wallet, by message.
import { parentPort, workerData } from 'node:worker_threads';
import { runLoad, type LoadSpec, type Payer } from './dvm-customers.js';

export type ToMain =
  | { t: 'pay'; id: number; bolt11: string; account: string }
  | { t: 'escrow'; id: number; jobId: string }
  | { t: 'started'; t0: number }
  | { t: 'done'; result: unknown }
  | { t: 'failed'; message: string };

export type ToWorker = { t: 'reply'; id: number; ok: boolean; value?: unknown; error?: string };

const port = parentPort;
if (!port) throw new Error('dvm-worker must run as a worker thread');

let nextId = 0;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
port.on('message', (m: ToWorker) => {
  if (m.t !== 'reply') return;
  const p = pending.get(m.id);
  pending.delete(m.id);
  if (!p) return;
  if (m.ok) p.resolve(m.value);
  else p.reject(new Error(m.error ?? 'failed'));
});

function ask(m: { t: 'pay'; bolt11: string; account: string } | { t: 'escrow'; jobId: string }): Promise<unknown> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    port!.postMessage({ ...m, id } satisfies ToMain);
  });
}

const payer: Payer = {
  pay: async (bolt11, account) => void (await ask({ t: 'pay', bolt11, account })),
  escrow: async (jobId) => (await ask({ t: 'escrow', jobId })) as Awaited<ReturnType<Payer['escrow']>>,
};

runLoad(workerData as LoadSpec, payer, (t0) => port.postMessage({ t: 'started', t0 } satisfies ToMain)).then(
  (result) => port.postMessage({ t: 'done', result } satisfies ToMain),
  (err: unknown) => port.postMessage({ t: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies ToMain),
);
