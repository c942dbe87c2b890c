// The keystore: each agent's Nostr key, and other 32-byte secrets of the instance (e.g. the wallet's
// node key), generated on first use and stored encrypted at rest as NIP-49 ncryptsec under one master
// secret. The master secret is TIMMY_SECRET (passed in by the caller) or, when that is not set, a
// random one in <dataDir>/master.secret (mode 0600), created on first start with one warning.
//
//   <dataDir>/master.secret            64 hex characters (only without TIMMY_SECRET)
//   <dataDir>/agents/<name>.ncryptsec  an agent's key            (mode 0600)
//   <dataDir>/secrets/<name>.ncryptsec another secret, by name   (mode 0600)
//
// Secret keys never leave this object except through secret(), which exists for other modules that
// need raw bytes (the wallet). Agents get a Signer. JSON.stringify and util.inspect of a Keystore
// show paths and public keys only.
import * as nip04 from '../../nostr/nip04.js';
import * as nip44 from '../../nostr/nip44.js';
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { decrypt, encrypt, Nip49Error } from '../../nostr/nip49.js';
import { generateSecretKey, getPublicKey } from '../../nostr/verify.js';
import { secretKeySigner, type Signer } from '../../nostr/signer.js';

export class KeystoreError extends Error {
  override name = 'KeystoreError';
}

export interface KeystoreOptions {
  /** The instance's data directory. */
  dataDir: string;
  /** TIMMY_SECRET as the caller read it; undefined or empty means "not set". */
  masterSecret?: string;
  /** scrypt cost (log2 N) for new ncryptsec files: 16 (64 MiB, ~0.2 s) in production; tests pass a small one. */
  logN?: number;
  /** Told once when the master secret file is created, and about unsafe file modes. Never given a secret. */
  warn?(message: string): void;
}

export const MASTER_SECRET_FILE = 'master.secret';
const NAME = /^[a-z0-9_-]{1,64}$/;
const EXT = '.ncryptsec';

type Space = 'agents' | 'secrets';

export interface AgentCipher {
  encrypt(peer: string, plaintext: string, scheme: 'nip04' | 'nip44'): string;
  decrypt(peer: string, content: string, scheme: 'nip04' | 'nip44'): string;
}

export class Keystore {
  readonly dataDir: string;
  /** Where the master secret came from: the TIMMY_SECRET variable or the file in the data dir. */
  readonly masterSource: 'env' | 'file';
  readonly #master: string;
  readonly #logN: number;
  readonly #warn: (message: string) => void;
  readonly #cache = new Map<string, Uint8Array>();

  private constructor(dataDir: string, master: string, source: 'env' | 'file', logN: number, warn: (m: string) => void) {
    this.dataDir = dataDir;
    this.#master = master;
    this.masterSource = source;
    this.#logN = logN;
    this.#warn = warn;
  }

  /** Opens (creating the data dir and, without TIMMY_SECRET, the master secret file when absent). Synchronous. */
  static open(o: KeystoreOptions): Keystore {
    const logN = o.logN ?? 16;
    if (!Number.isInteger(logN) || logN < 1 || logN > 22) throw new KeystoreError('logN must be an integer in 1..22');
    const warn = o.warn ?? (() => {});
    mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
    if (o.masterSecret) return new Keystore(o.dataDir, o.masterSecret, 'env', logN, warn);

    const file = join(o.dataDir, MASTER_SECRET_FILE);
    if (!existsSync(file)) {
      const stored = [...listNames(o.dataDir, 'agents'), ...listNames(o.dataDir, 'secrets')];
      if (stored.length > 0)
        throw new KeystoreError(
          `${o.dataDir} holds encrypted keys (${stored.length}) but no ${MASTER_SECRET_FILE}, and TIMMY_SECRET is not set: ` +
            'set TIMMY_SECRET to the master secret they were stored under',
        );
      const fresh = bytesToHex(randomBytes(32));
      const winner = writeOnce(file, `${fresh}\n`);
      if (winner === 'ours')
        warn(
          `TIMMY_SECRET is not set: created a master secret in ${file} (mode 0600). Anyone who can read that file ` +
            'can decrypt the agents\' keys; set TIMMY_SECRET (and move the file off this disk) for better protection.',
        );
    }
    checkMode(file, warn);
    const master = readFileSync(file, 'utf8').trim();
    if (master.length < 16) throw new KeystoreError(`${file} is too short to be a master secret (delete it only if no keys were stored under it)`);
    return new Keystore(o.dataDir, master, 'file', logN, warn);
  }

  /** The agent's x-only public key (hex); creates the agent's key on first use. */
  publicKey(agent: string): string {
    return getPublicKey(this.#load('agents', agent));
  }

  /** A Signer for the agent's key; creates the key on first use. */
  signerFor(agent: string): Signer {
    return secretKeySigner(this.#load('agents', agent));
  }

  /**
   * Encryption with the agent's key (NIP-44 v2, and NIP-04 for older DVM clients), for encrypted
   * job requests and results. The key stays inside the keystore.
   */
  cipherFor(agent: string): AgentCipher {
    const sk = this.#load('agents', agent);
    return {
      encrypt: (peer, plaintext, scheme) =>
        scheme === 'nip04' ? nip04.encrypt(sk, peer, plaintext) : nip44.encrypt(plaintext, nip44.getConversationKey(sk, peer)),
      decrypt: (peer, content, scheme) =>
        scheme === 'nip04' ? nip04.decrypt(sk, peer, content) : nip44.decrypt(content, nip44.getConversationKey(sk, peer)),
    };
  }

  /** Another 32-byte secret of the instance (a valid secp256k1 scalar), by name; created on first use. A copy. */
  secret(name: string): Uint8Array {
    return Uint8Array.from(this.#load('secrets', name));
  }

  /** Names of the agents whose keys are stored. */
  agents(): string[] {
    return listNames(this.dataDir, 'agents');
  }

  toJSON(): Record<string, unknown> {
    return {
      dataDir: this.dataDir,
      masterSecret: this.masterSource === 'env' ? 'TIMMY_SECRET' : join(this.dataDir, MASTER_SECRET_FILE),
      agents: Object.fromEntries([...this.#cache].filter(([k]) => k.startsWith('agents/')).map(([k, sk]) => [k.slice(7), getPublicKey(sk)])),
    };
  }

  [inspect.custom](): string {
    return `Keystore ${JSON.stringify(this.toJSON())}`;
  }

  #load(space: Space, name: string): Uint8Array {
    if (!NAME.test(name)) throw new KeystoreError(`invalid key name ${JSON.stringify(name)}: use 1-64 of a-z 0-9 _ -`);
    const id = `${space}/${name}`;
    const hit = this.#cache.get(id);
    if (hit) return hit;
    const dir = join(this.dataDir, space);
    const file = join(dir, name + EXT);
    let sk: Uint8Array | undefined;
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const fresh = generateSecretKey();
      // When another process won the race, its key is the one on disk: read it below.
      if (writeOnce(file, `${encrypt(fresh, this.#master, this.#logN)}\n`) === 'ours') sk = fresh;
      else fresh.fill(0);
    }
    if (!sk) {
      checkMode(file, this.#warn);
      sk = this.#decrypt(file);
    }
    this.#cache.set(id, sk);
    return sk;
  }

  #decrypt(file: string): Uint8Array {
    const text = readFileSync(file, 'utf8').trim();
    try {
      return decrypt(text, this.#master, { maxLogN: Math.max(20, this.#logN) });
    } catch (err) {
      if (!(err instanceof Nip49Error)) throw err;
      if (/wrong password/.test(err.message)) {
        const hint =
          this.masterSource === 'env'
            ? 'is TIMMY_SECRET the one this data dir was set up with?'
            : `does ${join(this.dataDir, MASTER_SECRET_FILE)} belong to this data dir, or was TIMMY_SECRET set when the key was stored?`;
        throw new KeystoreError(`cannot decrypt ${file}: wrong master secret or damaged file (${hint})`);
      }
      throw new KeystoreError(`${file} is not a valid ncryptsec: ${err.message}`);
    }
  }
}

function listNames(dataDir: string, space: Space): string[] {
  const dir = join(dataDir, space);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(EXT) && NAME.test(f.slice(0, -EXT.length)))
    .map((f) => f.slice(0, -EXT.length))
    .sort();
}

/**
 * Writes `content` to `file` with mode 0600 unless it exists, atomically: a temporary file is
 * written and fsynced, then hard-linked into place (link fails if another writer got there first).
 */
function writeOnce(file: string, content: string): 'ours' | 'theirs' {
  const tmp = `${file}.${process.pid}.${bytesToHex(randomBytes(4))}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
    return 'ours';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return 'theirs';
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
  } finally {
    unlinkSync(tmp);
  }
  // A filesystem without hard links: exclusive create, not atomic against a crash mid-write.
  let direct: number;
  try {
    direct = openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'theirs';
    throw err;
  }
  try {
    writeSync(direct, content);
    fsyncSync(direct);
  } finally {
    closeSync(direct);
  }
  return 'ours';
}

function checkMode(file: string, warn: (m: string) => void): void {
  if (process.platform === 'win32') return;
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) warn(`${file} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 on it`);
}
