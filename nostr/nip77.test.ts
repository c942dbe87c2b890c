import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex } from '@noble/hashes/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeVarint, fromHex, Negentropy, NegentropyError, NegentropyStorage, toHex } from './nip77.js';

const idOf = (n: number): string => bytesToHex(sha256(new TextEncoder().encode(`event ${n}`)));

function storageOf(items: readonly [number, string][]): NegentropyStorage {
  const s = new NegentropyStorage();
  for (const [ts, id] of items) s.insert(ts, id);
  return s.seal();
}

/** Runs the whole protocol (through hex, as on the wire); returns what the client learned and the round trips. */
function sync(client: NegentropyStorage, server: NegentropyStorage, frameSizeLimit = 0): { have: Set<string>; need: Set<string>; rounds: number; bytes: number } {
  const c = new Negentropy(client, frameSizeLimit);
  const s = new Negentropy(server, frameSizeLimit);
  const have = new Set<string>();
  const need = new Set<string>();
  let msg: Uint8Array | null = c.initiate();
  let rounds = 0;
  let bytes = 0;
  while (msg) {
    if (frameSizeLimit) assert.ok(msg.length <= frameSizeLimit, `client message ${msg.length} > ${frameSizeLimit}`);
    bytes += msg.length;
    const answer = fromHex(toHex(s.respond(fromHex(toHex(msg)))));
    if (frameSizeLimit) assert.ok(answer.length <= frameSizeLimit, `server message ${answer.length} > ${frameSizeLimit}`);
    bytes += answer.length;
    const r = c.reconcile(answer);
    for (const x of r.have) have.add(x);
    for (const x of r.need) need.add(x);
    msg = r.output;
    rounds++;
    assert.ok(rounds < 100, 'converges');
  }
  return { have, need, rounds, bytes };
}

function diff(a: readonly [number, string][], b: readonly [number, string][]): Set<string> {
  const bs = new Set(b.map(([, id]) => id));
  return new Set(a.filter(([, id]) => !bs.has(id)).map(([, id]) => id));
}

/** Deterministic random numbers for the test sets. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    return a / 2 ** 31;
  };
}

describe('NIP-77 negentropy', () => {
  it('encodes varints most significant digit first', () => {
    assert.deepEqual([...encodeVarint(0)], [0]);
    assert.deepEqual([...encodeVarint(127)], [127]);
    assert.deepEqual([...encodeVarint(128)], [0x81, 0x00]);
    assert.deepEqual([...encodeVarint(300)], [0x82, 0x2c]);
  });

  it('the fingerprint is SHA-256 over the little-endian id sum and the count', () => {
    const a = new Uint8Array(32).fill(0);
    a[0] = 0xff;
    const b = new Uint8Array(32).fill(0);
    b[0] = 0x02;
    const s = new NegentropyStorage();
    s.insert(1, a);
    s.insert(2, b);
    s.seal();
    const sum = new Uint8Array(33);
    sum[0] = 0x01; // 0xff + 0x02 = 0x101: carry into the second byte
    sum[1] = 0x01;
    sum[32] = 2; // varint(2)
    assert.equal(bytesToHex(s.fingerprint(0, 2)), bytesToHex(sha256(sum).subarray(0, 16)));
  });

  it('answers a full-range empty id list with its ids (worked out from the spec by hand)', () => {
    const id = idOf(1);
    const s = new Negentropy(storageOf([[12345, id]]));
    // 61: version; 00: infinity bound timestamp; 00: no id prefix; 02: IdList; 00: no ids.
    assert.equal(toHex(s.respond(fromHex('6100000200'))), `6100000201${id}`);
    // A client with that one record initiates with one id list over the full range.
    assert.equal(toHex(new Negentropy(storageOf([[12345, id]])).initiate()), `6100000201${id}`);
  });

  it('an empty sync: both sides empty, one round, version byte first', () => {
    const r = sync(storageOf([]), storageOf([]));
    assert.equal(r.have.size + r.need.size, 0);
    const first = new Negentropy(storageOf([])).initiate();
    assert.equal(first[0], 0x61);
  });

  for (const [name, nClient, nServer, common] of [
    ['small sets (id lists)', 10, 12, 5],
    ['identical sets', 5000, 5000, 5000],
    ['one side empty', 0, 3000, 0],
    ['large sets, 1% apart', 20000, 20000, 19800],
    ['same timestamps everywhere', 500, 500, 300],
  ] as const) {
    it(`finds exactly the differences: ${name}`, () => {
      const rand = rng(nClient + nServer + common);
      const sameTs = name.startsWith('same');
      const mk = (n: number, from: number): [number, string][] => Array.from({ length: n }, (_, i) => [sameTs ? 1_700_000_000 : 1_700_000_000 + Math.floor(rand() * 1_000_000), idOf(from + i)]);
      const shared = mk(common, 0);
      const a = [...shared, ...mk(nClient - common, 1_000_000)];
      const b = [...shared, ...mk(nServer - common, 2_000_000)];
      const r = sync(storageOf(a), storageOf(b));
      assert.deepEqual(r.have, diff(a, b));
      assert.deepEqual(r.need, diff(b, a));
    });
  }

  it('keeps every message under a frame size limit and still converges', () => {
    // One event has one timestamp, whichever side holds it.
    const ts = (i: number) => 1_000 + ((i * 7919) % 100_000);
    const a: [number, string][] = Array.from({ length: 3000 }, (_, i) => [ts(i), idOf(i)]);
    const b: [number, string][] = Array.from({ length: 3000 }, (_, i) => [ts(i + 500), idOf(i + 500)]);
    const r = sync(storageOf(a), storageOf(b), 4096);
    assert.deepEqual(r.have, diff(a, b));
    assert.deepEqual(r.need, diff(b, a));
    assert.ok(r.rounds > 2, `several rounds under the limit (${r.rounds})`);
  });

  it('answers an unknown protocol version with its own, and refuses malformed messages', () => {
    const s = new Negentropy(storageOf([[1, idOf(1)]]));
    assert.deepEqual([...s.respond(Uint8Array.of(0x62))], [0x61]);
    assert.throws(() => s.respond(Uint8Array.of(0x01)), NegentropyError);
    assert.throws(() => s.respond(Uint8Array.of(0x61, 0x05)), NegentropyError); // bound cut short
    assert.throws(() => s.respond(Uint8Array.of(0x61, 0x00, 0x00, 0x07)), NegentropyError); // unknown mode
    assert.throws(() => s.respond(Uint8Array.of(0x61, 0x00, 0x00, 0x02, 0x05)), NegentropyError); // id list claims 5 ids
    assert.throws(() => s.respond(Uint8Array.of(0x61, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)), NegentropyError);
    assert.throws(() => fromHex('zz'), NegentropyError);
    // Random bytes never crash with anything but a NegentropyError.
    const rand = rng(3);
    for (let i = 0; i < 2000; i++) {
      const m = Uint8Array.from({ length: 1 + Math.floor(rand() * 80) }, () => Math.floor(rand() * 256));
      m[0] = 0x61;
      try {
        new Negentropy(storageOf([[1, idOf(1)], [2, idOf(2)]])).respond(m);
      } catch (err) {
        assert.ok(err instanceof NegentropyError, String(err));
      }
    }
  });
});
