// The swarm graph (/swarm/graph) in a real browser: 150 synthetic nodes drawn by force-graph with
// the frame rate measured and reported (not asserted: headless chromium renders in software), the
// real graph with the instance's agents and a customer arriving through the live feed, the JSON
// shape of /api/swarm/graph, and a phone-width viewport without horizontal scrolling.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { Customer, startTestInstance, until, type TestInstance } from '../support/dvm.js';
import { contextWith, launchBrowser, screenshot } from '../support/browser.js';

interface Node {
  id: string;
  label: string;
  type: 'agent' | 'customer' | 'coordinator';
  status: 'idle' | 'busy' | 'offline' | 'customer';
  score: number;
  size: number;
}
interface Link {
  source: string;
  target: string;
  type: 'job' | 'payment';
  sats: number;
  count: number;
}
interface Graph {
  nodes: Node[];
  links: Link[];
}
interface Measurement {
  fps: number;
  frames: number;
  rendered: number;
  meanRenderMs: number;
  seconds: number;
  medianFrameMs: number;
  p95FrameMs: number;
  worstFrameMs: number;
}
interface SwarmApi {
  fps(ms?: number): Promise<number>;
  nodes(): number;
  links(): number;
  data(): Graph;
  last: Measurement | null;
}
type W = { timmySwarm?: SwarmApi };

const graphNodes = (page: Page): Promise<number> => page.evaluate(() => (globalThis as unknown as W).timmySwarm?.nodes() ?? 0);
const waitForNodes = (page: Page, n: number): Promise<unknown> => page.waitForFunction((n) => ((globalThis as unknown as W).timmySwarm?.nodes() ?? 0) >= n, n, { timeout: 15_000 });
const graphData = (page: Page): Promise<Graph> => page.evaluate(() => (globalThis as unknown as W).timmySwarm!.data());

function checkShape(g: Graph): void {
  const ids = new Set(g.nodes.map((n) => n.id));
  assert.equal(ids.size, g.nodes.length, 'node ids are unique');
  for (const n of g.nodes) {
    assert.ok(['agent', 'customer', 'coordinator'].includes(n.type), n.type);
    assert.ok(['idle', 'busy', 'offline', 'customer'].includes(n.status), n.status);
    assert.equal(n.status === 'customer', n.type === 'customer');
    assert.ok(n.score >= 0 && n.score <= 1 && n.size > 0, JSON.stringify(n));
  }
  for (const l of g.links) {
    assert.ok(ids.has(l.source) && ids.has(l.target), `link ${l.source} -> ${l.target} joins known nodes`);
    assert.ok(['job', 'payment'].includes(l.type) && l.sats >= 0 && l.count >= 1, JSON.stringify(l));
  }
}

describe('swarm graph in a browser', () => {
  let t: TestInstance;
  let browser: Browser;
  let url: string;

  before(async () => {
    t = await startTestInstance();
    url = /dashboard on (\S+)/.exec(t.inst.listeners.join('\n'))![1]!;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('serves the graph as JSON, publicly, synthetic up to 1000 nodes', async (tc) => {
    // The page reads /swarm/graph.json; /api/swarm/graph is the same once web/api/index.ts registers it.
    const api = (await fetch(`${url}/api/swarm/graph?synthetic=3`)).status !== 404;
    if (!api) tc.diagnostic('/api/swarm/graph is not wired into the API router (registerSwarmApi in web/api/index.ts): checked /swarm/graph.json only');
    for (const base of api ? ['/swarm/graph.json', '/api/swarm/graph'] : ['/swarm/graph.json']) {
      const synth = (await (await fetch(`${url}${base}?synthetic=150`)).json()) as Graph;
      assert.equal(synth.nodes.length, 150);
      assert.equal(synth.links.length, 225);
      checkShape(synth);
      const again = (await (await fetch(`${url}${base}?synthetic=150`)).json()) as Graph;
      assert.deepEqual(again, synth, 'the same N gives the same graph');
      for (const bad of ['1001', '0', 'x', '1.5']) assert.equal((await fetch(`${url}${base}?synthetic=${bad}`)).status, 400, bad);
      const big = (await (await fetch(`${url}${base}?synthetic=1000`)).json()) as Graph;
      assert.equal(big.nodes.length, 1000);
      assert.equal(big.links.length, 1500);

      const real = (await (await fetch(`${url}${base}`)).json()) as Graph;
      checkShape(real);
      const agents = t.inst.services!.swarm.agents;
      assert.deepEqual(real.nodes.filter((n) => n.type === 'agent').map((n) => n.id).sort(), agents.map((a) => a.pubkey).sort());
      assert.equal(real.nodes.filter((n) => n.type === 'coordinator').length, 1);
    }
  });

  it('draws 150 synthetic nodes and measures the frame rate', async () => {
    const ctx = await contextWith(browser);
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));
    page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && errors.push(`${r.status()} ${r.url()}`));
    await page.goto(`${url}/swarm/graph?synthetic=150`);
    await waitForNodes(page, 150);
    assert.ok((await page.locator('#graph canvas').count()) >= 1, 'force-graph made its canvas');
    const fps = await page.evaluate(() => (globalThis as unknown as W).timmySwarm!.fps(3000));
    const m = await page.evaluate(() => (globalThis as unknown as W).timmySwarm!.last!);
    const nodes = await graphNodes(page);
    const links = await page.evaluate(() => (globalThis as unknown as W).timmySwarm!.links());
    console.log(
      `swarm graph: ${nodes} nodes, ${links} links, ${fps} fps (headless chromium, ${availableParallelism()} cores; ` +
        `${m.frames} frames in ${m.seconds} s, ${m.rendered} redrawn taking ${m.meanRenderMs} ms each, frame interval median ${m.medianFrameMs} ms, p95 ${m.p95FrameMs} ms, worst ${m.worstFrameMs} ms)`,
    );
    assert.ok(nodes >= 150);
    assert.ok(links >= 225);
    assert.ok(fps > 0);
    assert.ok(m.rendered > 0, 'the canvas was redrawn while measuring');
    // The canvas has something on it: not every pixel is the background.
    const painted = await page.evaluate<number>(`(() => {
      const c = document.querySelector('#graph canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - 0x0f) + Math.abs(d[i + 1] - 0x10) + Math.abs(d[i + 2] - 0x20) > 60) n++;
      return n;
    })()`);
    assert.ok(painted > 1000, `painted pixels: ${painted}`);
    assert.equal(await page.locator('#graph-nodes tbody tr').count(), 100, 'the text alternative lists the first 100 nodes');
    assert.match((await page.locator('#graph').getAttribute('aria-label')) ?? '', /\d+ agents, \d+ customers/);
    await page.waitForTimeout(1500); // the first zoom-to-fit
    await screenshot(page, 'swarm-graph');
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  it('shows the real swarm and adds a customer from the live feed', async () => {
    const ctx = await contextWith(browser);
    const page = await ctx.newPage();
    await page.goto(`${url}/swarm/graph`);
    // The default swarm: six agents (echo, the voice agent, only where a voice engine serves).
    const agents = t.inst.services!.swarm.agents;
    assert.ok(agents.length >= 5, `${agents.length} agents`);
    await waitForNodes(page, agents.length + 1);
    const g = await graphData(page);
    assert.deepEqual(
      g.nodes.filter((n) => n.type === 'agent').map((n) => n.label).sort(),
      agents.map((a) => a.persona.displayName).sort(),
    );
    assert.equal(await page.locator('#graph-nodes tbody tr[data-node-type="agent"]').count(), agents.length);
    await page.getByText('live', { exact: true }).waitFor();

    // A free job (kind 5400, counting events) from a new customer: a node and a job edge appear.
    const c = new Customer(t.inst.relayUrl!);
    try {
      await c.request({ kind: 5400, tags: [['i', JSON.stringify({ kinds: [5001] }), 'text']] });
      await page.waitForFunction(() => (globalThis as unknown as W).timmySwarm!.data().nodes.some((n) => n.type === 'customer'), undefined, { timeout: 10_000 }); // < the 15 s poll: the live feed did it
      const after = await graphData(page);
      const customer = after.nodes.find((n) => n.type === 'customer')!;
      assert.match(customer.id, /^customer:npub1\w+…\w+$/, 'customers are shown as short npubs only');
      assert.ok(!JSON.stringify(after).includes(c.pk), 'the full customer key is not published');
      await until('a job edge from the customer', async () => (await graphData(page)).links.find((l) => l.source === customer.id && l.type === 'job'));
      // The text alternative follows.
      await page.locator('#graph-nodes tbody tr[data-node-type="customer"]').waitFor({ state: 'attached' });
    } finally {
      await c.close();
    }
    await screenshot(page, 'swarm-graph-real');
    await ctx.close();
  });

  it('fits a phone screen without horizontal scrolling', async () => {
    const ctx = await contextWith(browser, undefined, { viewport: { width: 390, height: 844 } });
    const page = await ctx.newPage();
    await page.goto(`${url}/swarm/graph?synthetic=150`);
    await waitForNodes(page, 150);
    await page.waitForTimeout(1500); // the first zoom-to-fit
    await screenshot(page, 'swarm-graph-phone');
    await page.locator('#graph-text summary').click(); // the tables too
    const m = await page.evaluate<{ doc: number; body: number; view: number; graph: number; canvas: number }>(`({
      doc: document.documentElement.scrollWidth,
      body: document.body.scrollWidth,
      view: document.documentElement.clientWidth,
      graph: document.getElementById('graph').getBoundingClientRect().width,
      canvas: document.querySelector('#graph canvas').getBoundingClientRect().width,
    })`);
    assert.ok(m.doc <= m.view && m.body <= m.view, `no horizontal scroll: ${JSON.stringify(m)}`);
    assert.ok(m.canvas <= m.graph + 1, `the canvas fits its box: ${JSON.stringify(m)}`);
    await ctx.close();
  });
});
