import { it } from 'node:test';
import assert from 'node:assert/strict';
import { accountLabel, LabelCap, rejectionReason } from './metric-labels.js';

it('rejection reasons are NIP-01 prefixes only', () => {
  assert.equal(rejectionReason('rate-limited: slow down'), 'rate-limited');
  assert.equal(rejectionReason('auth-required: we only accept events from members'), 'auth-required');
  assert.equal(rejectionReason('invalid: bad signature'), 'invalid');
  assert.equal(rejectionReason('blocked:'), 'blocked');
  assert.equal(rejectionReason('nonsense: from a plugin'), 'other');
  assert.equal(rejectionReason('no prefix at all'), 'other');
  assert.equal(rejectionReason(''), 'other');
});

it('a capped label keeps its first values and turns ids, keys and the overflow into other', () => {
  const cap = new LabelCap(2);
  assert.equal(cap.of('llama3.2'), 'llama3.2');
  assert.equal(cap.of('a'.repeat(64)), 'other');
  assert.equal(cap.of('npub1sg6plzptd64u62a878hep2kev88swjh3tw00gjsfl8f237lmu63q0uf63m'), 'other');
  assert.equal(cap.of(''), 'other');
  assert.equal(cap.of('qwen2.5'), 'qwen2.5');
  assert.equal(cap.of('mistral'), 'other');
  assert.equal(cap.of('llama3.2'), 'llama3.2');
});

it('accounts: system and agents by id, customers and users summed, escrows left out', () => {
  assert.equal(accountLabel('fees', 'fees'), 'fees');
  assert.equal(accountLabel('external', 'external'), 'external');
  assert.equal(accountLabel('agent:muse', 'agent'), 'agent:muse');
  assert.equal(accountLabel('customer:0123456789abcdef', 'customer'), 'customers');
  assert.equal(accountLabel('user:alice', 'user'), 'users');
  assert.equal(accountLabel(`escrow:${'f'.repeat(64)}`, 'escrow'), undefined);
});
