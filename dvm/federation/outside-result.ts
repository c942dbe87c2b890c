// The coordinator's side of a job won by an outside agent (a peer instance's, docs/federation.md):
// the outside agent publishes the NIP-90 result itself, signed with its own key; we wait for it
// on our relays and check it before the job counts as delivered. We never run the skill.
import type { NostrClient, Subscription } from '../../nostr/client.js';
import type { NostrEvent } from '../../nostr/nip01.js';
import { parseJobResult, resultKind, type JobRequest } from '../../nostr/nip90.js';
import { verifyEvent } from '../../nostr/verify.js';

/**
 * On an outside winner's result for a paid job: `["timmy-invoice", <bolt11>]`, the agent's invoice
 * for the price the auction pays it (docs/protocol.md). Not NIP-90's `amount` tag: the customer has
 * paid the coordinator already and must not be asked again.
 */
export const INVOICE_TAG = 'timmy-invoice';

export type OutsideResult = { readonly ok: true; readonly event: NostrEvent; readonly invoice?: string } | { readonly ok: false; readonly reason: string };

/**
 * Whether `e` is a result the outside `agent` may deliver for `request`: signed by the agent, of the
 * request's result kind, tagging the request (`e`) and the customer (`p`), with content.
 */
export function checkOutsideResult(e: NostrEvent, request: JobRequest, agent: string): OutsideResult {
  if (e.pubkey !== agent) return { ok: false, reason: 'not signed by the winner' };
  if (!verifyEvent(e)) return { ok: false, reason: 'bad id or signature' };
  if (e.kind !== resultKind(request.kind)) return { ok: false, reason: `kind ${e.kind} is not ${resultKind(request.kind)}` };
  const r = parseJobResult(e);
  if (!r.ok) return { ok: false, reason: r.reason };
  if (r.value.requestId !== request.id) return { ok: false, reason: 'its e tag is not the request' };
  if (r.value.customer !== request.customer) return { ok: false, reason: 'its p tag is not the customer' };
  if (e.content.trim() === '') return { ok: false, reason: 'empty content' };
  return { ok: true, event: e };
}

/**
 * Waits for the outside agent's result: the first event of the result kind by `agent` tagging the
 * request decides. A valid one delivers; an invalid one (signed by the agent, so its own doing)
 * fails the agent; an event whose signature does not verify is ignored (anyone can forge a pubkey
 * field). Nothing by `timeoutMs` fails it too.
 */
export function awaitOutsideResult(
  client: NostrClient,
  o: {
    request: JobRequest;
    agent: string;
    timeoutMs: number;
    signal: AbortSignal;
    /** A paid job: the result must carry an invoice this accepts (null = fine, else the reason). */
    invoice?: (bolt11: string) => Promise<string | null>;
  },
): Promise<OutsideResult> {
  return new Promise((resolve) => {
    let done = false;
    let sub: Subscription | undefined;
    const finish = (r: OutsideResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      sub?.close();
      resolve(r);
    };
    const onAbort = (): void => finish({ ok: false, reason: 'stopped' });
    const timer = setTimeout(() => finish({ ok: false, reason: `no result within ${Math.round(o.timeoutMs / 1000)} s` }), o.timeoutMs);
    sub = client.subscribe([{ kinds: [resultKind(o.request.kind)], authors: [o.agent], '#e': [o.request.id] }], {
      onEvent: (e) => {
        if (done || !verifyEvent(e)) return;
        const r = checkOutsideResult(e, o.request, o.agent);
        const bad = (reason: string): void => finish({ ok: false, reason: `invalid result ${e.id.slice(0, 12)}: ${reason}` });
        if (!r.ok) return bad(r.reason);
        if (!o.invoice) return finish(r);
        const bolt11 = e.tags.find((t) => t[0] === INVOICE_TAG)?.[1];
        if (!bolt11) return bad(`no ${INVOICE_TAG} tag for a paid job`);
        o.invoice(bolt11).then(
          (why) => (why ? bad(why) : finish({ ...r, invoice: bolt11 })),
          (err: unknown) => bad(`its invoice cannot be checked: ${(err as Error).message}`),
        );
      },
    });
    if (done) sub.close();
    if (o.signal.aborted) onAbort();
    else o.signal.addEventListener('abort', onAbort, { once: true });
  });
}
