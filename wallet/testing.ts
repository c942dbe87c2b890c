// Helpers for the wallet's tests (and demos): a wallet on a temporary SQLite file, a clock that
// moves only when told. Never use TEST_NODE_KEY for anything but tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { BuiltinWallet, type BuiltinWalletOptions } from './builtin.js';
import type { Clock } from './ledger.js';

export const TEST_NODE_KEY: Uint8Array = sha256(new TextEncoder().encode('timmy wallet test node key'));

export class ManualClock implements Clock {
  constructor(public t = 1_700_000_000) {}
  now(): number {
    return this.t;
  }
  advance(seconds: number): void {
    this.t += seconds;
  }
}

export interface TempWallet {
  readonly wallet: BuiltinWallet;
  readonly dir: string;
  readonly path: string;
  readonly clock: ManualClock;
  /** Opens another wallet on the same file (a restart, or a second process). */
  reopen(o?: Partial<BuiltinWalletOptions>): BuiltinWallet;
  /** Closes every wallet opened here and removes the directory. */
  cleanup(): Promise<void>;
}

export function tempWallet(o: Partial<BuiltinWalletOptions> = {}): TempWallet {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-wallet-'));
  const path = join(dir, 'wallet.sqlite');
  const clock = new ManualClock();
  const opened: BuiltinWallet[] = [];
  const open = (x: Partial<BuiltinWalletOptions> = {}) => {
    const w = BuiltinWallet.open({
      path,
      nodeKey: TEST_NODE_KEY,
      clock,
      ...o,
      ...x,
      config: { network: 'regtest', pollIntervalMs: 20, ...o.config, ...x.config },
    });
    opened.push(w);
    return w;
  };
  const wallet = open();
  return {
    wallet,
    dir,
    path,
    clock,
    reopen: open,
    async cleanup() {
      for (const w of opened) await w.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves with the first value `get` returns that is not undefined, polling every 5 ms (fails after `ms`). */
export async function eventually<T>(get: () => T | undefined, ms = 2000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
