// Liveness: each agent signs and publishes a heartbeat (kind 21281, ./events.ts) every interval,
// and an `offline` one when it stops cleanly. A reader counts an agent as gone once its last beat
// expired (three intervals) without a newer one.
import { publishWithin, type NostrClient } from '../nostr/client.js';
import type { Signer } from '../nostr/signer.js';
import { heartbeatTemplate, type AgentStatus } from './events.js';

/** How long a stopping agent waits for its offline beat to be acknowledged. */
const STOP_PUBLISH_MS = 2000;

export interface HeartbeatOptions {
  signer: Signer;
  client: NostrClient;
  /** The request kinds the agent serves. */
  kinds: readonly number[];
  /** Seconds between beats (default 30). */
  intervalSec?: number;
  /** Jobs running now and the most it runs at once. */
  load(): { active: number; capacity: number };
  /** Unix seconds clock (default: now). */
  now?: () => number;
  /** A beat that could not be signed or that no relay accepted (default: ignored). */
  onError?(err: unknown): void;
}

export interface HeartbeatHandle {
  /** Publishes one beat now (also used by the timer). */
  beat(status?: AgentStatus): Promise<void>;
  /** Stops the timer and publishes an `offline` beat. Idempotent. */
  stop(): Promise<void>;
}

/** Publishes a first beat at once, then one every interval (the timer does not keep the process alive). */
export function startHeartbeat(o: HeartbeatOptions): HeartbeatHandle {
  const intervalSec = o.intervalSec ?? 30;
  const now = o.now ?? (() => Math.floor(Date.now() / 1000));
  let stopped = false;
  const beat = async (status?: AgentStatus): Promise<void> => {
    try {
      const { active, capacity } = o.load();
      const s = status ?? (active > 0 ? 'busy' : 'idle');
      const e = await o.signer.signEvent(heartbeatTemplate({ status: s, kinds: o.kinds, active, capacity, intervalSec }, now()));
      // The offline beat is sent while stopping: a relay that is down must not hold the stop.
      const r = status === 'offline' ? await publishWithin(o.client, e, STOP_PUBLISH_MS) : await o.client.publish(e);
      if (!r.ok && r.relays.length > 0) o.onError?.(new Error(`heartbeat not accepted: ${r.relays.map((a) => `${a.relay}: ${a.message}`).join('; ')}`));
    } catch (err) {
      o.onError?.(err);
    }
  };
  const timer = setInterval(() => void beat(), intervalSec * 1000);
  timer.unref();
  void beat();
  return {
    beat,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await beat('offline');
    },
  };
}
