// NIP-77 in the relay: NEG-OPEN reads the (created_at, id) records of the filter's events on a
// reader thread, seals them into a negentropy storage and answers the client's initial message;
// NEG-MSG continues; NEG-CLOSE, NEG-ERR or the idle timer ends the sync. The negentropy state
// lives on the connection, so a disconnect frees it.
import type { Filter } from '../nostr/nip01.js';
import { fromHex, Negentropy, NegentropyError, NegentropyStorage, toHex } from '../nostr/nip77.js';
import type { Connection } from './connection.js';
import type { RelayConfig } from './config.js';
import type { Hooks } from './hooks.js';
import type { QueryContext } from './store/query-sql.js';

export const msgNegMsg = (subId: string, hex: string): string => JSON.stringify(['NEG-MSG', subId, hex]);
export const msgNegErr = (subId: string, reason: string): string => JSON.stringify(['NEG-ERR', subId, reason]);

export class NegentropyHandler {
  constructor(
    private readonly cfg: RelayConfig['negentropy'],
    private readonly hooks: Pick<Hooks, 'queryRecords'>,
  ) {}

  async open(c: Connection, subId: string, filter: Filter, hex: string, ctx: QueryContext): Promise<void> {
    // NIP-77: a NEG-OPEN for an open id closes that sync first.
    c.negs.delete(subId);
    if (!this.cfg.enabled) return void c.send(msgNegErr(subId, 'blocked: negentropy sync is turned off on this relay'));
    this.expireIdle(c);
    if (c.negs.size >= this.cfg.maxSyncsPerConnection) return void c.send(msgNegErr(subId, `blocked: too many open syncs (max ${this.cfg.maxSyncsPerConnection})`));
    const query = this.hooks.queryRecords[0];
    if (!query) return void c.send(msgNegErr(subId, 'blocked: this relay has no store to sync'));
    const r = await query(filter, { ...ctx, maxRecords: this.cfg.maxRecords });
    if (c.closed) return;
    if (r.tooMany) return void c.send(JSON.stringify(['NEG-ERR', subId, `blocked: this query is too big (more than ${this.cfg.maxRecords} events)`, this.cfg.maxRecords]));
    const storage = new NegentropyStorage();
    for (const [t, id] of r.records) storage.insert(t, id);
    storage.seal();
    const neg = new Negentropy(storage, this.cfg.frameSizeLimit);
    const sync = { respond: (m: Uint8Array) => neg.respond(m), lastUsed: Date.now() };
    c.negs.set(subId, sync);
    this.answer(c, subId, hex);
  }

  message(c: Connection, subId: string, hex: string): void {
    const sync = c.negs.get(subId);
    if (!sync) return void c.send(msgNegErr(subId, 'closed: no open sync with this id (send NEG-OPEN first)'));
    this.answer(c, subId, hex);
  }

  close(c: Connection, subId: string): void {
    c.negs.delete(subId);
  }

  private answer(c: Connection, subId: string, hex: string): void {
    const sync = c.negs.get(subId)!;
    sync.lastUsed = Date.now();
    try {
      c.send(msgNegMsg(subId, toHex(sync.respond(fromHex(hex)))));
    } catch (err) {
      c.negs.delete(subId);
      if (err instanceof NegentropyError) return void c.send(msgNegErr(subId, `invalid: ${err.message}`));
      throw err;
    }
  }

  /** Syncs left idle past `idleSeconds` are closed, with NEG-ERR closed: as the NIP suggests. */
  private expireIdle(c: Connection): void {
    const cutoff = Date.now() - this.cfg.idleSeconds * 1000;
    for (const [id, s] of c.negs) {
      if (s.lastUsed < cutoff) {
        c.negs.delete(id);
        c.send(msgNegErr(id, 'closed: you took too long to respond'));
      }
    }
  }
}
