// The embedded relay assembled: SQLite store (one writer thread, reader threads), the core with
// its default policies, and periodic NIP-40 purging. "Sane defaults" only appends to hook arrays.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Filter, NostrEvent } from '../nostr/nip01.js';
import { canonicalJson } from '../nostr/nip01.js';
import { checkEvent } from '../nostr/verify.js';
import type { RelayConfig } from './config.js';
import { RelayCore } from './core.js';
import { emptyHooks, type Hooks } from './hooks.js';
import { ReaderPool } from './pipeline/reader-pool.js';
import { WriterHandle } from './pipeline/writer.js';
import { authForReads, authForWrites, refuseAuthEventsAsEvents } from './policies/auth.js';
import { eventLimits } from './policies/event-limits.js';
import { refuseExpired } from './policies/expiration.js';
import { protectedEvents } from './policies/protected.js';

export interface Clock {
  /** Unix time in seconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Math.floor(Date.now() / 1000) };

export function applyDefaultPolicies(h: Hooks, cfg: RelayConfig, clock: Clock): void {
  const now = () => clock.now();
  h.rejectEvent.push(
    refuseAuthEventsAsEvents(),
    eventLimits({ ...cfg, now }),
    refuseExpired(now),
    authForWrites(cfg.auth),
    protectedEvents(),
  );
  h.rejectFilter.push(authForReads(cfg.auth));
}

export class EmbeddedRelay {
  private purgeTimer: NodeJS.Timeout;

  private constructor(
    readonly cfg: RelayConfig,
    readonly clock: Clock,
    readonly dbPath: string,
    readonly core: RelayCore,
    private readonly writer: WriterHandle,
    private readonly readers: ReaderPool,
  ) {
    this.purgeTimer = setInterval(() => void this.purgeExpired().catch(() => undefined), cfg.purgeIntervalSeconds * 1000);
    this.purgeTimer.unref();
  }

  static async open(cfg: RelayConfig, dataDir: string, clock: Clock = systemClock): Promise<EmbeddedRelay> {
    mkdirSync(dataDir, { recursive: true });
    const dbPath = join(dataDir, 'relay.sqlite');
    const writer = new WriterHandle(dbPath, cfg.durability);
    await writer.started(); // the writer creates and migrates the database before readers open it
    const readers = new ReaderPool(dbPath, cfg.readerThreads);
    const hooks = emptyHooks();
    hooks.storeEvent.push((item) => writer.save(item));
    hooks.queryEvents.push((filters, opts, sched) => readers.query(filters, opts, sched));
    hooks.countEvents.push((filters, ctx, sched) => readers.count(filters, ctx, sched));
    hooks.queryRecords.push((filter, ctx) => readers.records(filter, ctx));
    applyDefaultPolicies(hooks, cfg, clock);
    const core = new RelayCore(cfg, hooks, () => clock.now());
    return new EmbeddedRelay(cfg, clock, dbPath, core, writer, readers);
  }

  get hooks(): Hooks {
    return this.core.hooks;
  }

  /** Publishes an event in-process, through the same policies and store as a websocket client. */
  async publish(e: NostrEvent): Promise<{ ok: boolean; message: string }> {
    const check = checkEvent(e);
    if (!check.ok) return { ok: false, message: `invalid: ${check.reason}` };
    return this.core.onEvent(null, e, canonicalJson(e));
  }

  /** NIP-77 records of the events matching a filter, as this relay would answer a NEG-OPEN (no AUTH: public kinds only). */
  records(filter: Filter, maxRecords = this.cfg.negentropy.maxRecords): Promise<{ records: [number, string][]; tooMany: boolean }> {
    return this.readers.records(filter, { now: this.clock.now(), privateKinds: [...this.cfg.auth.privateKinds, ...this.cfg.auth.readKinds], viewers: [], maxRecords });
  }

  /** Stored events by id (canonical JSON parsed), for uploads in a sync. */
  async eventsById(ids: readonly string[]): Promise<NostrEvent[]> {
    const out: NostrEvent[] = [];
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      const r = await this.readers.query([{ ids: [...chunk] }], { now: this.clock.now(), privateKinds: [], viewers: [], defaultLimit: chunk.length, maxLimit: chunk.length, budgetMs: 60_000 });
      for (const raw of r.events) out.push(JSON.parse(raw) as NostrEvent);
    }
    return out;
  }

  purgeExpired(): Promise<number> {
    return this.writer.purgeExpired(this.clock.now());
  }

  /**
   * Fault injection for tests (docs/reliability.md, "Fault injection"): 'full' makes every commit
   * fail as on a full disk until cleared with null. Reads go on; nothing is reachable from config.
   */
  injectWriteFault(fault: 'full' | null): Promise<void> {
    return this.writer.injectFault(fault);
  }

  /** Stops reading, commits every accepted event, checkpoints the WAL. */
  async close(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await this.core.close();
    await this.writer.close();
    await this.readers.close();
  }
}
