#!/usr/bin/env node
// Thin launcher: the CLI is written in TypeScript and compiled to dist/ by `npm install` (prepare).
import('../dist/main/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/main/cli.js')) {
    console.error('timmy: not built yet; run `npm install` (or `npm run build`) first');
  } else {
    console.error(`timmy: ${err && err.message ? err.message : err}`);
  }
  process.exit(1);
});
