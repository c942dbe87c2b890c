import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Project root (this file compiles to dist/bench/lib/paths.js). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RESULTS_DIR = join(ROOT, 'bench', 'results');
export const CACHE_DIR = join(RESULTS_DIR, 'cache');
export const LOG_DIR = join(RESULTS_DIR, 'logs');
