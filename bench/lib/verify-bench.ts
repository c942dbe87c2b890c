// Single-core Schnorr verify rates, measured in the benchmark's own (main) thread.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { schnorr } from '@noble/curves/secp256k1.js';
import { ROOT } from './paths.js';

export interface VerifyRate {
  name: string;
  verifies: number;
  perSec: number;
  allValid: boolean;
}

export interface VerifyResults {
  tiny: VerifyRate;
  noble: VerifyRate;
  /** Timmy's own verifier (dist/nostr/verify.js defaultVerifier, hex in), if it is built. */
  timmy?: VerifyRate;
}

interface Parsed {
  id: Uint8Array;
  pub: Uint8Array;
  sig: Uint8Array;
  idHex: string;
  pubHex: string;
  sigHex: string;
}

type TinyVerify = (h: Uint8Array, q: Uint8Array, sig: Uint8Array) => boolean;
interface HexVerifier {
  name: string;
  verify(sigHex: string, msgHashHex: string, pubkeyHex: string): boolean;
}

function timeLoop(n: number, maxMs: number, fn: (i: number) => boolean): { done: number; ms: number; allValid: boolean } {
  let allValid = true;
  const t0 = performance.now();
  let i = 0;
  for (; i < n; i++) {
    if (!fn(i)) allValid = false;
    if ((i & 255) === 255 && performance.now() - t0 > maxMs) {
      i++;
      break;
    }
  }
  return { done: i, ms: performance.now() - t0, allValid };
}

const ROUNDS = 3;

/** ~1 s of warm-up, then ROUNDS timed passes over the events (each capped at maxMs); the median rate wins. */
function measure(name: string, n: number, maxMs: number, fn: (i: number) => boolean): VerifyRate {
  timeLoop(n, 1_000, fn);
  const rounds: { rate: number; done: number; allValid: boolean }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = timeLoop(n, maxMs, fn);
    rounds.push({ rate: (t.done / t.ms) * 1000, done: t.done, allValid: t.allValid });
  }
  rounds.sort((a, b) => a.rate - b.rate);
  const med = rounds[Math.floor(ROUNDS / 2)] as { rate: number; done: number };
  return { name, verifies: med.done, perSec: med.rate, allValid: rounds.every((x) => x.allValid) };
}

export async function verifyBench(lines: readonly string[], maxMsEach = 8_000): Promise<VerifyResults> {
  const ev: Parsed[] = lines.map((l) => {
    const e = JSON.parse(l) as { id: string; pubkey: string; sig: string };
    return {
      id: Buffer.from(e.id, 'hex'),
      pub: Buffer.from(e.pubkey, 'hex'),
      sig: Buffer.from(e.sig, 'hex'),
      idHex: e.id,
      pubHex: e.pubkey,
      sigHex: e.sig,
    };
  });
  const n = ev.length;
  const at = (i: number): Parsed => ev[i % n] as Parsed;

  // tiny-secp256k1 loaded the way Timmy loads it (createRequire: the CJS build of the same WASM)
  const tiny = (createRequire(import.meta.url)('tiny-secp256k1') as { verifySchnorr: TinyVerify }).verifySchnorr;
  const out: VerifyResults = {
    tiny: measure('tiny-secp256k1 verifySchnorr (bytes)', n, maxMsEach, (i) => tiny(at(i).id, at(i).pub, at(i).sig)),
    noble: measure('@noble/curves schnorr.verify (bytes)', n, Math.min(maxMsEach, 5_000), (i) => schnorr.verify(at(i).sig, at(i).id, at(i).pub)),
  };

  const timmyJs = join(ROOT, 'dist', 'nostr', 'verify.js');
  if (existsSync(timmyJs)) {
    try {
      const mod = (await import(pathToFileURL(timmyJs).href)) as { defaultVerifier?: HexVerifier };
      const v = mod.defaultVerifier;
      if (v && typeof v.verify === 'function') {
        out.timmy = measure(`Timmy defaultVerifier = ${v.name} (hex in)`, n, maxMsEach, (i) => v.verify(at(i).sigHex, at(i).idHex, at(i).pubHex));
      }
    } catch {
      // not built or not loadable: the bytes-level figures above still stand
    }
  }
  return out;
}
