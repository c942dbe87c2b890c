// A reader thread: its own read-only connection; WAL lets it read while the writer commits.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../store/open.js';
import { EventReader } from '../store/event-reader.js';

const { path } = workerData as { path: string };
const reader = new EventReader(openDatabase(path, { readonly: true, durability: 'normal' }));
const port = parentPort!;

port.on('message', (r: { n: number; t: 'query' | 'count' | 'records'; filters: never; ctx: never }) => {
  try {
    if (r.t === 'query') port.postMessage({ n: r.n, result: reader.query(r.filters, r.ctx) });
    else if (r.t === 'records') port.postMessage({ n: r.n, result: reader.records((r.filters as unknown[])[0] as never, r.ctx) });
    else port.postMessage({ n: r.n, result: reader.count(r.filters, r.ctx) });
  } catch (err) {
    port.postMessage({ n: r.n, error: (err as Error).message });
  }
});
