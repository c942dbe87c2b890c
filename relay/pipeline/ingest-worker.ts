// Ingest worker thread: parses and verifies client messages off the main thread.
// Messages of one connection always go to the same worker, and each worker answers in arrival
// order, so a connection's messages reach the core in the order the client sent them.
import { parentPort, workerData } from 'node:worker_threads';
import { defaultVerifier } from '../../nostr/verify.js';
import { parseClientMessage, type ParseLimits } from './parse.js';

const limits = workerData as ParseLimits;
const port = parentPort!;

port.on('message', (batch: { c: number; d: string }[]) => {
  const out = batch.map(({ c, d }) => {
    try {
      return { c, m: parseClientMessage(d, defaultVerifier, limits) };
    } catch (err) {
      // parseClientMessage handles every input we know of; this is the net for what we do not.
      return { c, m: { type: 'BAD_MESSAGE' as const, reason: `could not process message (${(err as Error).message})` } };
    }
  });
  port.postMessage(out);
});
