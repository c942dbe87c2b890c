// Signed Nostr events in request bodies: parsed, shape-checked and verified, or a 400.
import { checkEventShape, type NostrEvent } from '../../nostr/nip01.js';
import { verifyEvent } from '../../nostr/verify.js';
import { HttpError } from '../http.js';
import type { AppDeps } from '../deps.js';

/** The body as a signed event (id and signature checked); `kinds` bounds the kind when given. */
export function signedEvent(text: string, kinds?: { min: number; max: number; what: string }): NostrEvent {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `invalid JSON: ${(err as Error).message}`);
  }
  const shape = checkEventShape(body);
  if (!shape.ok) throw new HttpError(400, `invalid event: ${shape.reason}`);
  const e = shape.value;
  if (kinds && (e.kind < kinds.min || e.kind > kinds.max)) throw new HttpError(400, `${kinds.what} has a kind from ${kinds.min} to ${kinds.max}, not ${e.kind}`);
  if (!verifyEvent(e)) throw new HttpError(400, 'invalid event: bad id or signature');
  return e;
}

/** A signed NIP-90 job request for a kind the agents here serve. */
export function jobRequestEvent(app: AppDeps, text: string): NostrEvent {
  const e = signedEvent(text, { min: 5000, max: 5999, what: 'a job request' });
  if (!app.dvm.kinds().includes(e.kind)) throw new HttpError(400, `no agent here serves kind ${e.kind} (served: ${app.dvm.kinds().join(', ')})`);
  return e;
}
