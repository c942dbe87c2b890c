// Which wallet backend runs (wallet.backend). With `lnd`, LND is probed at start (within
// wallet.lnd.probeTimeoutMs): down, locked or refusing the macaroon, the instance starts with the
// built-in wallet on the same ledger and says so (warn). While it runs on the fallback, LND is
// probed again with growing pauses (up to wallet.lnd.reprobeMaxSeconds); when LND answers, the log
// says to restart: the backend is not switched under running jobs, and no funds ever move between
// backends by themselves. The macaroon is never logged.
// With `nwc` the same: the remote NWC wallet (wallet.nwcBackend.uri, or TIMMY_NWC_URI through the
// config loader) is asked get_info at start; no answer or a refusal -> the built-in wallet, a
// warning, and probes in the background. The URI (a spending secret) is never logged.
import { readFileSync } from 'node:fs';
import { BuiltinWallet } from './builtin.js';
import type { LndConfig, WalletConfig } from './config.js';
import { WalletConfigError } from './errors.js';
import type { Clock } from './ledger.js';
import { LndClient, type LndCredentials } from './lnd/client.js';
import { LndAuthError, LndPermissionError, LndUnavailableError } from './lnd/errors.js';
import type { WalletLog } from './lnd/invoices.js';
import { LndWallet } from './lnd/wallet.js';
import { NwcClient } from './nwc/client.js';
import { NwcUnavailableError, NwcWallet } from './nwc/backend.js';

export interface OpenWalletOptions {
  /** `<dataDir>/wallet.sqlite` */
  readonly path: string;
  /** The built-in wallet's node key (it also opens the ledger for the LND backend). */
  readonly nodeKey: Uint8Array;
  readonly config: WalletConfig;
  readonly log: WalletLog;
  /**
   * The longest a job's escrow may stay held, in seconds. With LND a job paid from outside is held
   * by an HTLC, which must be settled or cancelled before it expires: a warning says when
   * wallet.minFinalCltvExpiry does not cover this.
   */
  readonly escrowSeconds?: number;
  readonly clock?: Clock;
}

export interface OpenedWallet {
  /** The built-in wallet, or the LND or NWC backend (which extend it). */
  readonly wallet: BuiltinWallet;
  readonly backend: 'builtin' | 'lnd' | 'nwc';
  /** Why the configured LND or NWC backend is not in use, or null. */
  readonly fallback: string | null;
  /** Stops the re-probing and closes the wallet. */
  close(): Promise<void>;
}

/** The LND credentials from wallet.lnd (inline or from files); a missing or unreadable one names its key. */
export function lndCredentials(c: LndConfig): LndCredentials {
  const read = (key: string, path: string, binary: boolean): string => {
    try {
      const b = readFileSync(path);
      return binary ? b.toString('hex') : b.toString('utf8');
    } catch (err) {
      throw new WalletConfigError(`wallet.lnd.${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  const cert = c.cert ?? (c.certPath !== undefined ? read('certPath', c.certPath, false) : undefined);
  const macaroon = c.macaroon ?? (c.macaroonPath !== undefined ? read('macaroonPath', c.macaroonPath, true) : undefined);
  if (!cert) throw new WalletConfigError('wallet.lnd.cert or wallet.lnd.certPath is needed with wallet.backend "lnd"');
  if (!macaroon) throw new WalletConfigError('wallet.lnd.macaroon or wallet.lnd.macaroonPath is needed with wallet.backend "lnd"');
  return { socket: c.socket, cert, macaroon };
}

export async function openWallet(o: OpenWalletOptions): Promise<OpenedWallet> {
  const base = { path: o.path, nodeKey: o.nodeKey, config: o.config, ...(o.clock ? { clock: o.clock } : {}) };
  if (o.config.backend === 'builtin') {
    const wallet = BuiltinWallet.open(base);
    return { wallet, backend: 'builtin', fallback: null, close: () => wallet.close() };
  }
  if (o.config.backend === 'nwc') return openNwcWallet(o, base);
  const lnd = o.config.lnd;
  const creds = lndCredentials(lnd);
  try {
    const wallet = await LndWallet.connect({ ...base, lnd: creds, probeTimeoutMs: lnd.probeTimeoutMs, log: o.log });
    if (o.escrowSeconds !== undefined && o.escrowSeconds > wallet.holdWindowSeconds()) {
      o.log(
        'warn',
        `wallet: a job may keep its escrow up to ${o.escrowSeconds} s, but a hold invoice holds a payment only about ${wallet.holdWindowSeconds()} s ` +
          `(wallet.minFinalCltvExpiry ${o.config.minFinalCltvExpiry} blocks): raise it, or have such customers pay from a ledger balance`,
      );
    }
    return { wallet, backend: 'lnd', fallback: null, close: () => wallet.close() };
  } catch (err) {
    if (!(err instanceof LndUnavailableError || err instanceof LndAuthError || err instanceof LndPermissionError)) throw err;
    const reason = err.message;
    const wallet = BuiltinWallet.open(base);
    const retry = err instanceof LndUnavailableError;
    o.log(
      'warn',
      `wallet: LND is not usable (${reason}); running on the built-in wallet (the same ledger; payments from and to other Lightning nodes are refused). ` +
        (retry ? 'LND is probed again in the background; restart Timmy once it answers.' : 'Fix wallet.lnd and restart Timmy.'),
    );
    const stop = retry ? reprobe(creds, lnd, o.log) : () => {};
    return {
      wallet,
      backend: 'builtin',
      fallback: reason,
      async close() {
        stop();
        await wallet.close();
      },
    };
  }
}

/**
 * Runs `attempt` with growing pauses (5 s, doubling, at most `maxSeconds`) until it says to stop
 * (true) or the returned stop function is called. Attempts never overlap.
 */
function withBackoff(maxSeconds: number, attempt: (stopped: () => boolean) => Promise<boolean>): () => void {
  let pause = Math.min(5, maxSeconds);
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const run = async () => {
    const done = await attempt(() => stopped).catch(() => false);
    if (done || stopped) return;
    pause = Math.min(pause * 2, maxSeconds);
    schedule();
  };
  const schedule = () => {
    timer = setTimeout(() => void run(), pause * 1000);
    timer.unref();
  };
  schedule();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

/** Probes LND with growing pauses until it answers, then logs that a restart switches to it. Returns the stop function. */
function reprobe(creds: LndCredentials, lnd: LndConfig, log: WalletLog): () => void {
  return withBackoff(lnd.reprobeMaxSeconds, async (stopped) => {
    const client = new LndClient(creds, lnd.probeTimeoutMs);
    try {
      const info = await client.info();
      if (!stopped()) log('warn', `wallet: LND at ${creds.socket} answers now (node ${info.publicKey}); restart Timmy to use it (the built-in wallet stays in use until then)`);
      return true;
    } catch (err) {
      if (stopped()) return true;
      if (!(err instanceof LndUnavailableError)) {
        log('warn', `wallet: LND at ${creds.socket} answers but refuses us (${(err as Error).message}); fix wallet.lnd and restart`);
        return true;
      }
      return false;
    } finally {
      client.close();
    }
  });
}

async function openNwcWallet(o: OpenWalletOptions, base: { path: string; nodeKey: Uint8Array; config: WalletConfig; clock?: Clock }): Promise<OpenedWallet> {
  const c = o.config.nwcBackend;
  const uri = c.uri;
  if (!uri) throw new WalletConfigError('wallet.nwcBackend.uri (or the env var TIMMY_NWC_URI) is needed with wallet.backend "nwc"');
  try {
    const wallet = await NwcWallet.connect({ ...base, uri, probeTimeoutMs: c.probeTimeoutMs, log: o.log });
    if (!wallet.capabilities.payExternal || !wallet.capabilities.receiveExternal) {
      o.log('warn', `wallet: the NWC wallet offers ${wallet.remote.methods.join(', ') || 'no methods'}; without pay_invoice, make_invoice and lookup_invoice some payments stay inside the ledger`);
    }
    return { wallet, backend: 'nwc', fallback: null, close: () => wallet.close() };
  } catch (err) {
    if (!(err instanceof NwcUnavailableError)) throw err;
    const reason = err.message;
    const wallet = BuiltinWallet.open(base);
    o.log(
      'warn',
      `wallet: the NWC wallet is not usable (${reason}); running on the built-in wallet (the same ledger; payments from and to other Lightning nodes are refused). ` +
        (err.refused ? 'Fix the connection (wallet.nwcBackend.uri) and restart Timmy.' : 'It is probed again in the background; restart Timmy once it answers.'),
    );
    const stop = err.refused ? () => {} : reprobeNwc(uri, c.probeTimeoutMs, c.reprobeMaxSeconds, o.log);
    return {
      wallet,
      backend: 'builtin',
      fallback: reason,
      async close() {
        stop();
        await wallet.close();
      },
    };
  }
}

/** Asks the NWC wallet for get_info with growing pauses until it answers, then logs that a restart switches to it. */
function reprobeNwc(uri: string, timeoutMs: number, maxSeconds: number, log: WalletLog): () => void {
  return withBackoff(maxSeconds, async (stopped) => {
    const client = new NwcClient(uri, { timeoutMs });
    try {
      await client.getInfo();
      if (!stopped()) log('warn', `wallet: the NWC wallet ${client.walletPubkey.slice(0, 16)} answers now; restart Timmy to use it (the built-in wallet stays in use until then)`);
      return true;
    } catch {
      return stopped();
    } finally {
      await client.close();
    }
  });
}
