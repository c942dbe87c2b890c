// Test support for reputation: real signed invoices with their preimages (payment proofs), and
// signed job labels.
import { randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { encodeBolt11 } from '../../wallet/bolt11.js';
import { finalizeEvent } from '../../nostr/verify.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import { jobLabelTemplate, type JobLabelInput } from '../../reputation/labels.js';

/** A real signed invoice and its preimage: what a payer holds after paying. */
export function paidInvoice(amountMsat = 21_000): { bolt11: string; preimage: string } {
  const preimage = randomBytes(32);
  const bolt11 = encodeBolt11(
    {
      network: 'regtest',
      amountMsat,
      timestamp: Math.floor(Date.now() / 1000),
      tags: [
        { tag: 'p', value: bytesToHex(sha256(preimage)) },
        { tag: 's', value: bytesToHex(randomBytes(32)) },
        { tag: 'd', value: 'job' },
      ],
    },
    randomBytes(32),
  );
  return { bolt11, preimage: bytesToHex(preimage) };
}

export const randomJobId = (): string => bytesToHex(randomBytes(32));

/** A signed job label; `paid` adds a fresh payment proof. */
export function label(sk: Uint8Array, i: Omit<JobLabelInput, 'proof'> & { paid?: boolean }): NostrEvent {
  const { paid, ...rest } = i;
  return finalizeEvent(jobLabelTemplate({ request: randomJobId(), ...rest, ...(paid ? { proof: paidInvoice() } : {}) }), sk);
}
