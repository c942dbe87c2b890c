import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { bytesToHex } from '@noble/hashes/utils.js';
import { decrypt } from '../../nostr/nip49.js';
import { nsecEncode } from '../../nostr/nip19.js';
import { verifyEvent } from '../../nostr/verify.js';
import { Keystore, KeystoreError, MASTER_SECRET_FILE } from './keystore.js';

const LOG_N = 4; // cheap scrypt for tests; production uses 16
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'timmy-keys-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const mode = (p: string): number => statSync(p).mode & 0o777;

describe('Keystore', () => {
  it('creates a master secret file (0600) with one warning, and agent keys (0600) that survive a reopen', async () => {
    const dataDir = tmp();
    const warnings: string[] = [];
    const ks = Keystore.open({ dataDir, logN: LOG_N, warn: (m) => warnings.push(m) });
    assert.equal(ks.masterSource, 'file');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /TIMMY_SECRET is not set/);
    const master = join(dataDir, MASTER_SECRET_FILE);
    assert.equal(mode(master), 0o600);
    assert.match(readFileSync(master, 'utf8'), /^[0-9a-f]{64}\n$/);

    const pk = ks.publicKey('scribe');
    assert.match(pk, /^[0-9a-f]{64}$/);
    const file = join(dataDir, 'agents', 'scribe.ncryptsec');
    assert.equal(mode(file), 0o600);
    assert.match(readFileSync(file, 'utf8'), /^ncryptsec1/);
    assert.notEqual(ks.publicKey('muse'), pk, 'each agent has its own key');
    assert.deepEqual(ks.agents(), ['muse', 'scribe']);

    const e = await ks.signerFor('scribe').signEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'hi' });
    assert.equal(e.pubkey, pk);
    assert.ok(verifyEvent(e));

    const s1 = ks.secret('wallet-node');
    assert.equal(s1.length, 32);
    assert.equal(mode(join(dataDir, 'secrets', 'wallet-node.ncryptsec')), 0o600);

    const again = Keystore.open({ dataDir, logN: LOG_N, warn: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1, 'no second warning on reopen');
    assert.equal(again.publicKey('scribe'), pk);
    assert.deepEqual(again.secret('wallet-node'), s1);
    s1.fill(0);
    assert.notDeepEqual(again.secret('wallet-node'), s1, 'secret() returns a copy');
  });

  it('uses TIMMY_SECRET when given, creates no file, and names it when the secret is wrong', () => {
    const dataDir = tmp();
    const warnings: string[] = [];
    const ks = Keystore.open({ dataDir, masterSecret: 'correct horse battery staple', logN: LOG_N, warn: (m) => warnings.push(m) });
    assert.equal(ks.masterSource, 'env');
    const pk = ks.publicKey('scout');
    assert.deepEqual(warnings, []);
    assert.throws(() => statSync(join(dataDir, MASTER_SECRET_FILE)), /ENOENT/);

    const wrong = Keystore.open({ dataDir, masterSecret: 'wrong horse', logN: LOG_N });
    assert.throws(
      () => wrong.publicKey('scout'),
      (err: unknown) => err instanceof KeystoreError && /cannot decrypt .*scout\.ncryptsec: wrong master secret/.test(err.message) && /TIMMY_SECRET/.test(err.message),
    );
    assert.equal(Keystore.open({ dataDir, masterSecret: 'correct horse battery staple', logN: LOG_N }).publicKey('scout'), pk);
  });

  it('refuses to make up a new master secret for a data dir that already holds keys', () => {
    const dataDir = tmp();
    Keystore.open({ dataDir, logN: LOG_N }).publicKey('tally');
    unlinkSync(join(dataDir, MASTER_SECRET_FILE));
    assert.throws(() => Keystore.open({ dataDir, logN: LOG_N }), (err: unknown) => err instanceof KeystoreError && /holds encrypted keys/.test(err.message));
  });

  it('warns about a master secret file others can read, and rejects bad names', () => {
    const dataDir = tmp();
    Keystore.open({ dataDir, logN: LOG_N });
    chmodSync(join(dataDir, MASTER_SECRET_FILE), 0o644);
    const warnings: string[] = [];
    const ks = Keystore.open({ dataDir, logN: LOG_N, warn: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /readable by other users \(mode 0644\)/);
    for (const bad of ['../x', 'Scribe', '', 'a/b', 'x'.repeat(65)]) assert.throws(() => ks.signerFor(bad), KeystoreError, bad);
  });

  it('never shows a secret key or the master secret in JSON or inspect output', async () => {
    const dataDir = tmp();
    const ks = Keystore.open({ dataDir, logN: LOG_N });
    const signer = ks.signerFor('precis');
    ks.secret('wallet-node');
    const master = readFileSync(join(dataDir, MASTER_SECRET_FILE), 'utf8').trim();
    const sk = decrypt(readFileSync(join(dataDir, 'agents', 'precis.ncryptsec'), 'utf8').trim(), master);
    const walletSk = decrypt(readFileSync(join(dataDir, 'secrets', 'wallet-node.ncryptsec'), 'utf8').trim(), master);
    const forbidden = [bytesToHex(sk), nsecEncode(sk), bytesToHex(walletSk), master];
    const shown = [JSON.stringify(ks), inspect(ks, { depth: 10, showHidden: true }), String(ks), JSON.stringify(signer), inspect(signer, { depth: 10, showHidden: true }), JSON.stringify({ ks, signer })];
    for (const text of shown) for (const secret of forbidden) assert.ok(!text.includes(secret), `secret leaked in: ${text.slice(0, 200)}`);
    assert.deepEqual(JSON.parse(JSON.stringify(ks)).agents, { precis: await signer.getPublicKey() });
  });
});
