// The swarm graph: agents, customers and the coordinator as a force-directed graph (force-graph,
// served locally), jobs and payments as its edges, refreshed from the live feed by
// web/static/swarm.js. GET /api/swarm/graph (and /swarm/graph.json, the page's copy) is the data; the page also renders it as tables, the
// text alternative to the canvas. `?synthetic=N` (page and API) makes a stable made-up graph of N
// nodes for the frame-rate measurement (test/browser/swarm.test.ts).
import type { JobRow } from '../../dvm/jobs/store.js';
import type { JobState } from '../../dvm/jobs/states.js';
import type { WebContext } from '../context.js';
import type { AppDeps } from '../deps.js';
import { HttpError, sendHtml, sendJson, type Ctx, type Router } from '../http.js';
import { html, type Html } from '../html.js';
import { page, shortNpub } from './layout.js';
import { pageUser } from './common.js';

export type NodeType = 'agent' | 'customer' | 'coordinator';
export type NodeStatus = 'idle' | 'busy' | 'offline' | 'customer';

export interface GraphNode {
  /** Agents and the coordinator: hex pubkey; customers: `customer:` + short npub (never the full key). */
  readonly id: string;
  readonly label: string;
  readonly type: NodeType;
  readonly status: NodeStatus;
  /** Agents: reputation score; customers: standing as a rater; the coordinator: 1. All in [0, 1]. */
  readonly score: number;
  /** force-graph's nodeVal (area-like): from the score, plus activity for customers. */
  readonly size: number;
  /** Agents: their page. */
  readonly href?: string;
}

export interface GraphLink {
  readonly source: string;
  readonly target: string;
  /** job: customer -> the agent that got it (or the coordinator while unassigned); payment: customer -> coordinator (paid in), coordinator -> agent (paid out). */
  readonly type: 'job' | 'payment';
  readonly sats: number;
  readonly count: number;
}

export interface SwarmGraph {
  readonly nodes: GraphNode[];
  readonly links: GraphLink[];
  /** How many recent jobs the edges are made of. */
  readonly jobs: number;
  readonly synthetic: boolean;
}

/** The edges are made of this many most recent jobs. */
export const GRAPH_JOBS = 500;
export const MAX_SYNTHETIC = 1000;
/** Rows of each table in the page's text alternative. */
const TABLE_ROWS = 100;

const OPEN: ReadonlySet<JobState> = new Set(['received', 'awaiting-approval', 'awaiting-payment', 'bidding', 'assigned', 'executing']);
/** States in which a priced job's payment sits with the coordinator (refunded and unpaid jobs are not counted). */
const PAID_IN: ReadonlySet<JobState> = new Set(['bidding', 'assigned', 'executing', 'delivered']);

const round3 = (n: number): number => Math.round(n * 1000) / 1000;
const agentSize = (score: number): number => round3(3 + 17 * score);
const customerSize = (standing: number, jobs: number): number => round3(1 + 2 * standing + Math.min(2, Math.log2(1 + jobs) / 2));
const COORDINATOR_SIZE = 10;

class LinkSet {
  private readonly map = new Map<string, { source: string; target: string; type: 'job' | 'payment'; sats: number; count: number }>();
  add(source: string, target: string, type: 'job' | 'payment', msat: number): void {
    if (source === target) return;
    const key = `${source}>${target}>${type}`;
    const l = this.map.get(key) ?? { source, target, type, sats: 0, count: 0 };
    l.sats += msat / 1000;
    l.count++;
    this.map.set(key, l);
  }
  has(source: string, target: string, type: 'job' | 'payment'): boolean {
    return this.map.has(`${source}>${target}>${type}`);
  }
  get size(): number {
    return this.map.size;
  }
  list(): GraphLink[] {
    return [...this.map.values()].map((l) => ({ ...l, sats: round3(l.sats) }));
  }
}

/** The graph of this instance from its swarm and its most recent jobs. */
export function buildSwarmGraph(app: AppDeps, limit = GRAPH_JOBS): SwarmGraph {
  const jobs: JobRow[] = app.jobs.list(limit);
  const nodes = new Map<string, GraphNode>();
  const coord = app.coordinatorPubkey;
  const busy = jobs.some((j) => OPEN.has(j.state));
  nodes.set(coord, { id: coord, label: 'coordinator', type: 'coordinator', status: busy ? 'busy' : 'idle', score: 1, size: COORDINATOR_SIZE });
  for (const a of app.swarm.agents) {
    const score = round3(app.book.score(a.pubkey));
    const status: NodeStatus = a.alive() ? (a.active > 0 ? 'busy' : 'idle') : 'offline';
    nodes.set(a.pubkey, { id: a.pubkey, label: a.persona.displayName, type: 'agent', status, score, size: agentSize(score), href: `/agents/${a.name}` });
  }
  // Customers: counted first, then added (their size depends on how many jobs they sent).
  const customers = new Map<string, { id: string; jobs: number }>();
  const nodeOf = (pubkey: string): string => {
    if (nodes.has(pubkey)) return pubkey; // an agent or the coordinator asking (chained jobs)
    let c = customers.get(pubkey);
    if (!c) customers.set(pubkey, (c = { id: `customer:${shortNpub(pubkey)}`, jobs: 0 }));
    return c.id;
  };
  const links = new LinkSet();
  for (const j of jobs) {
    const from = nodeOf(j.customer);
    const c = customers.get(j.customer);
    if (c) c.jobs++;
    const agent = j.agent && nodes.has(j.agent) ? j.agent : null;
    const paidIn = j.priceMsat > 0 && PAID_IN.has(j.state);
    links.add(from, agent ?? coord, 'job', paidIn ? j.priceMsat : 0);
    if (paidIn) links.add(from, coord, 'payment', j.priceMsat);
    // The agent is paid out of escrow when it delivers.
    if (agent && j.state === 'delivered' && j.priceMsat > 0) links.add(coord, agent, 'payment', j.agentPriceMsat ?? 0);
  }
  for (const [pubkey, c] of customers) {
    const standing = round3(app.book.standing(pubkey));
    nodes.set(c.id, { id: c.id, label: c.id.slice('customer:'.length), type: 'customer', status: 'customer', score: standing, size: customerSize(standing, c.jobs) });
  }
  return { nodes: [...nodes.values()], links: links.list(), jobs: jobs.length, synthetic: false };
}

/** Small deterministic PRNG (mulberry32): the same N gives the same graph on every refetch. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** N made-up nodes (a coordinator, about N/15 agents, the rest customers) and about 1.5 N links. */
export function syntheticGraph(n: number): SwarmGraph {
  const rnd = prng(0x5eed + n);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const nodes: GraphNode[] = [{ id: 'synthetic:coordinator', label: 'coordinator', type: 'coordinator', status: 'busy', score: 1, size: COORDINATOR_SIZE }];
  const agentCount = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n / 15)));
  const statuses: NodeStatus[] = ['idle', 'idle', 'busy', 'busy', 'busy', 'offline'];
  for (let i = 1; i <= agentCount; i++) {
    const score = round3(0.2 + 0.8 * rnd());
    nodes.push({ id: `synthetic:agent-${i}`, label: `agent ${i}`, type: 'agent', status: pick(statuses), score, size: agentSize(score) });
  }
  for (let i = 1; nodes.length < n; i++) {
    const standing = round3(rnd() * 0.6);
    nodes.push({ id: `synthetic:customer-${i}`, label: `customer ${i}`, type: 'customer', status: 'customer', score: standing, size: customerSize(standing, 1 + Math.floor(rnd() * 8)) });
  }
  const coord = nodes[0]!.id;
  const agents = nodes.filter((x) => x.type === 'agent').map((x) => x.id);
  const customers = nodes.filter((x) => x.type === 'customer').map((x) => x.id);
  const want = Math.round(1.5 * n);
  const links = new LinkSet();
  const job = (): number => (1 + Math.floor(rnd() * 50)) * 1000 * (rnd() < 0.8 ? 1 : 20);
  // Every customer sent a job to some agent; about half paid; every agent was paid out.
  for (const c of customers) if (links.size < want && agents.length) links.add(c, pick(agents), 'job', job());
  for (const c of customers) if (links.size < want && rnd() < 0.5) links.add(c, coord, 'payment', job());
  for (const a of agents) if (links.size < want) links.add(coord, a, 'payment', job() * 5);
  // Then more jobs between random customers and agents, up to 1.5 N links.
  for (let tries = 0; links.size < want && tries < want * 20 && customers.length && agents.length; tries++) {
    const c = pick(customers);
    const a = pick(agents);
    if (!links.has(c, a, 'job')) links.add(c, a, 'job', job());
  }
  return { nodes, links: links.list(), jobs: 0, synthetic: true };
}

/** `?synthetic=N`: undefined when absent; 400 unless 1 <= N <= MAX_SYNTHETIC. */
export function syntheticParam(url: URL): number | undefined {
  const s = url.searchParams.get('synthetic');
  if (s === null || s === '') return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > MAX_SYNTHETIC) throw new HttpError(400, `synthetic must be a whole number from 1 to ${MAX_SYNTHETIC}`);
  return n;
}

function graphFor(ctx: WebContext, url: URL): SwarmGraph | undefined {
  const n = syntheticParam(url);
  if (n !== undefined) return syntheticGraph(n);
  return ctx.deps.app ? buildSwarmGraph(ctx.deps.app) : undefined;
}

const STATUS_TEXT: Record<NodeStatus, string> = { idle: 'idle', busy: 'busy', offline: 'offline', customer: 'customer' };

export function describeGraph(g: SwarmGraph): string {
  const agents = g.nodes.filter((n) => n.type === 'agent').length;
  const customers = g.nodes.filter((n) => n.type === 'customer').length;
  return `Swarm graph: ${agents} agents, ${customers} customers and the coordinator, joined by ${g.links.length} edges (jobs and payments). The same data is in the tables below the graph.`;
}

function tables(g: SwarmGraph): Html {
  const label = new Map(g.nodes.map((n) => [n.id, n.label]));
  const more = (shown: number, all: number, what: string): Html | '' => (all > shown ? html`<p class="more" data-more="${what}">Showing ${shown} of ${all} ${what}.</p>` : '');
  const nodes = g.nodes.slice(0, TABLE_ROWS);
  const links = [...g.links].sort((a, b) => b.sats - a.sats || b.count - a.count).slice(0, TABLE_ROWS);
  return html`<div class="table-scroll"><table class="compact" id="graph-nodes"><caption>Nodes (${g.nodes.length})</caption>
<thead><tr><th scope="col">name</th><th scope="col">type</th><th scope="col">status</th><th scope="col">score</th></tr></thead><tbody>
${nodes.map((n) => html`<tr data-node-type="${n.type}"><td>${n.href ? html`<a href="${n.href}">${n.label}</a>` : n.label}</td><td>${n.type}</td><td>${STATUS_TEXT[n.status]}</td><td>${n.score.toFixed(3)}</td></tr>`)}
</tbody></table></div>
${more(nodes.length, g.nodes.length, 'nodes')}
<div class="table-scroll"><table class="compact" id="graph-links"><caption>Edges (${g.links.length}), most sats first</caption>
<thead><tr><th scope="col">from</th><th scope="col">to</th><th scope="col">type</th><th scope="col">sats</th><th scope="col">count</th></tr></thead><tbody>
${links.map((l) => html`<tr><td>${label.get(l.source) ?? l.source}</td><td>${label.get(l.target) ?? l.target}</td><td>${l.type}</td><td>${l.sats.toLocaleString('en-US')}</td><td>${l.count}</td></tr>`)}
</tbody></table></div>
${more(links.length, g.links.length, 'edges')}`;
}

const LEGEND: readonly (readonly [string, string])[] = [
  ['idle', 'idle'],
  ['busy', 'busy (working on jobs)'],
  ['offline', 'offline'],
  ['customer', 'customer'],
];

const sendGraph = (ctx: WebContext, c: Ctx): void => {
  const g = graphFor(ctx, c.url);
  if (!g) throw new HttpError(503, 'the agents are not running on this instance (agents.enabled is false)');
  sendJson(c.res, 200, g);
};

/**
 * GET /api/swarm/graph, public. The API router is not the pages router (web/server.ts sends
 * /api/* to the API's): web/api/index.ts calls this.
 */
export function registerSwarmApi(r: Router, ctx: WebContext): void {
  r.get('/api/swarm/graph', (c) => sendGraph(ctx, c));
}

export function registerSwarmPage(r: Router, ctx: WebContext): void {
  // The page's own data, the same as /api/swarm/graph, beside the page (like the HTMX fragments).
  r.get('/swarm/graph.json', (c) => sendGraph(ctx, c));

  r.get('/swarm/graph', (c) => {
    const user = pageUser(ctx, c.req);
    const n = syntheticParam(c.url);
    const g = graphFor(ctx, c.url);
    const body = g
      ? html`
<p class="graph-intro">Agents, customers and the coordinator of this instance, from the last ${GRAPH_JOBS} jobs; live.
Node size is reputation (customers: standing as raters), colour is status; edges are jobs and payments, wider for more sats.
Drag to move, scroll to zoom, click an agent to open its page.${n !== undefined ? html` <strong>Synthetic data: ${n} made-up nodes.</strong>` : ''}</p>
<div class="graph-controls" role="group" aria-label="Graph controls">
  <button type="button" id="graph-pause" aria-pressed="false">Pause motion</button>
  <button type="button" id="graph-fit">Fit to view</button>
  <label><input type="checkbox" id="graph-live" checked> Live updates</label>
  <label><input type="checkbox" id="graph-names" checked> Names</label>
  <span id="graph-status" class="graph-status" aria-live="polite">loading the graph…</span>
</div>
<div id="graph" role="img" aria-label="${describeGraph(g)}" aria-describedby="graph-text-h" data-src="/swarm/graph.json${n !== undefined ? `?synthetic=${n}` : ''}"></div>
<ul class="legend" aria-label="Legend">
  ${LEGEND.map(([k, text]) => html`<li><span class="swatch swatch-${k}" aria-hidden="true"></span>${text}</li>`)}
  <li><span class="swatch swatch-coordinator" aria-hidden="true"></span>coordinator (white ring; coloured idle or busy)</li>
  <li><span class="edge edge-job" aria-hidden="true"></span>job</li>
  <li><span class="edge edge-payment" aria-hidden="true"></span>payment (curved, arrow shows the direction)</li>
</ul>
<details class="graph-text" id="graph-text">
  <summary id="graph-text-h">The graph as tables</summary>
  <div id="graph-tables">${tables(g)}</div>
</details>`
      : html`<p class="notice">The agents are not running on this instance (agents.enabled is false), so there is no swarm to draw. <a href="/swarm/graph?synthetic=150">See a synthetic graph</a>.</p>`;
    sendHtml(c.res, 200, page({ title: 'Swarm graph', active: '/swarm/graph', user, body, scripts: g ? ['force-graph.min.js', 'swarm.js'] : [] }));
  });
}
