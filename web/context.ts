// What every page and API module is given: the composition root's parts, the auth, the live feed.
import type { Auth } from './auth.js';
import type { WebDeps } from './deps.js';
import type { LiveFeed } from './live.js';

export interface WebContext {
  readonly deps: WebDeps;
  readonly auth: Auth;
  readonly live: LiveFeed;
}
