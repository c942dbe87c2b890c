// Page routes. Each page module registers its own paths; HTML fragments for HTMX live beside the
// page that uses them (…/fragment paths).
import type { WebContext } from '../context.js';
import type { Router } from '../http.js';
import { registerOverview } from './overview.js';
import { registerAgentPages } from './agents.js';
import { registerJobPages } from './jobs.js';
import { registerSubmitPage } from './submit.js';
import { registerWalletPage } from './wallet.js';
import { registerRelayPage } from './relay.js';
import { registerSwarmPage } from './swarm.js';
import { registerPeersPage } from './peers.js';

export function registerPages(r: Router, ctx: WebContext): void {
  registerOverview(r, ctx);
  registerAgentPages(r, ctx);
  registerJobPages(r, ctx);
  registerSubmitPage(r, ctx);
  registerWalletPage(r, ctx);
  registerRelayPage(r, ctx);
  registerSwarmPage(r, ctx);
  registerPeersPage(r, ctx);
}
