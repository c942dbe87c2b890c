// Wallet benchmark (issue "Lightning wallet", part 6): invoices created and settled per second
// through each backend — the built-in ledger, and LndWallet against the test LND over gRPC/TLS —
// and BOLT12 invoice-request decode + signature verification per second.
//   npm run bench:wallet [-- --quick]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { BuiltinWallet } from '../wallet/builtin.js';
import { walletConfigSchema } from '../wallet/config.js';
import { decodeInvoiceRequest } from '../wallet/bolt12/index.js';
import { lndPair, tempLndWallet } from '../test/support/test-lnd/pair.js';

const quick = process.argv.includes('--quick');
const log = (m: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

async function builtin(n: number): Promise<{ n: number; ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-bench-wallet-'));
  const w = BuiltinWallet.open({ path: join(dir, 'wallet.sqlite'), nodeKey: secp256k1.utils.randomSecretKey(), config: walletConfigSchema.parse({ network: 'regtest' }) });
  try {
    await w.fund('user:bob', n * 2000, 'bench');
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const inv = await w.createInvoice({ amountMsat: 1000, description: `bench ${i}`, account: 'agent:bench' });
      await w.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' });
    }
    return { n, ms: performance.now() - t0 };
  } finally {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function viaTestLnd(n: number): Promise<{ n: number; ms: number }> {
  const pair = await lndPair();
  const A = await tempLndWallet(pair.a);
  const B = await tempLndWallet(pair.b);
  try {
    await B.wallet.fund('user:bob', n * 5000, 'bench');
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const inv = await A.wallet.createInvoice({ amountMsat: 1000, description: `bench ${i}`, account: 'agent:bench' });
      const settled = new Promise<void>((resolve) => A.wallet.subscribeInvoice(inv.paymentHash, () => resolve()));
      await B.wallet.pay({ bolt11: inv.bolt11, fromAccount: 'user:bob' });
      await settled;
    }
    return { n, ms: performance.now() - t0 };
  } finally {
    await A.cleanup();
    await B.cleanup();
    await pair.close();
  }
}

function bolt12(n: number): { n: number; ms: number } {
  const vectors = JSON.parse(readFileSync(new URL('../../test/vectors/bolt12/signature-test.json', import.meta.url), 'utf8')) as { bolt12?: string }[];
  const lnr = vectors.find((v) => v.bolt12?.startsWith('lnr1'))!.bolt12!;
  for (let i = 0; i < 200; i++) decodeInvoiceRequest(lnr);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) decodeInvoiceRequest(lnr);
  return { n, ms: performance.now() - t0 };
}

log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, Node ${process.version}`);
const b = await builtin(quick ? 300 : 2000);
log(`built-in ledger: ${b.n} invoices created and paid (settled) in ${b.ms.toFixed(0)} ms = ${rate(b.n, b.ms)}/s`);
const l = await viaTestLnd(quick ? 50 : 300);
log(`LndWallet over gRPC/TLS to the test LND (B pays A over the in-memory network, A sees it settle): ${l.n} in ${l.ms.toFixed(0)} ms = ${rate(l.n, l.ms)}/s`);
const d = bolt12(quick ? 1000 : 5000);
log(`BOLT12 invoice_request decode + BIP-340 merkle signature check: ${d.n} in ${d.ms.toFixed(0)} ms = ${rate(d.n, d.ms)}/s`);
