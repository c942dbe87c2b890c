// Keeps docs/configuration.md honest: every key of the schema is documented.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema } from '../main/config.js';

type JsonSchema = { properties?: Record<string, JsonSchema> };

function keys(s: JsonSchema, prefix: string, out: string[]): string[] {
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    out.push(key);
    if (v.properties && !/PerIp$|PerPubkey$/.test(k)) keys(v, key, out);
  }
  return out;
}

it('documents every configuration key', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const all = keys(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema, '', []);
  assert.ok(all.length > 20);
  const missing = all.filter((k) => !doc.includes('`' + k) && !doc.includes(k + '.'));
  assert.deepEqual(missing, []);
});
