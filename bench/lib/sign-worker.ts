// worker_threads entry: generates and signs blocks of benchmark events, returns them as JSONL text.
import { parentPort } from 'node:worker_threads';
import { makeEvent, type Stream } from './events.js';

export interface SignJob {
  stream: Stream;
  start: number;
  end: number;
  /** Byte offsets are reported for every line whose index is a multiple of this. */
  markEvery: number;
}

export interface SignResult {
  start: number;
  end: number;
  text: string;
  /** [line index, byte offset relative to the start of `text`] */
  marks: [number, number][];
}

const port = parentPort;
if (!port) throw new Error('sign-worker must run as a worker thread');

port.on('message', (job: SignJob) => {
  const parts: string[] = [];
  const marks: [number, number][] = [];
  let bytes = 0;
  for (let i = job.start; i < job.end; i++) {
    const line = JSON.stringify(makeEvent(job.stream, i)) + '\n';
    if (i % job.markEvery === 0) marks.push([i, bytes]);
    bytes += Buffer.byteLength(line);
    parts.push(line);
  }
  const result: SignResult = { start: job.start, end: job.end, text: parts.join(''), marks };
  port.postMessage(result);
});
