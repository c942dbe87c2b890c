// The memory retrieval collection (bench/data/memory/, its README says how it was written), read by
// the benchmark and by the test that checks its shape.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';

export interface Doc {
  id: string;
  text: string;
  topic: string;
}

export interface Query {
  id: string;
  text: string;
  /** Judged memories: 2 = highly relevant, 1 = relevant. */
  relevant: Record<string, number>;
  /** paraphrase: no content word in common with its grade-2 memories; anchored: one name or rare term in common. */
  style: 'paraphrase' | 'anchored';
}

export const COLLECTION_DIR = join(ROOT, 'bench', 'data', 'memory');

/** One JSON object a line; blank lines skipped. */
export function readCollection<T>(file: 'docs.jsonl' | 'queries.jsonl'): T[] {
  return readFileSync(join(COLLECTION_DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}
