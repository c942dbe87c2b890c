// The swarm graph page (/swarm/graph): draws /api/swarm/graph with force-graph (window.ForceGraph,
// served from /assets/force-graph.min.js), refetches it when the live feed says something happened
// (app.js turns the SSE into 'job' and 'nostr' events on document.body) and merges the new data
// into the drawn graph so that nodes keep their positions. window.timmySwarm measures frames.
// Plain script, no build step, nothing inline (CSP script-src 'self').
(() => {
  'use strict';
  const el = document.getElementById('graph');
  if (!el || typeof window.ForceGraph !== 'function') return;
  const $ = (id) => document.getElementById(id);
  const status = $('graph-status');
  const say = (text) => status && (status.textContent = text);

  // The page says where its data is (with its ?synthetic=N); /api/swarm/graph is the same.
  const synthetic = new URLSearchParams(location.search).get('synthetic');
  const API = el.dataset.src || `/api/swarm/graph${synthetic ? `?synthetic=${encodeURIComponent(synthetic)}` : ''}`;
  const reduced = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;

  // Keep in step with the legend's swatches in app.css.
  const COLOUR = { idle: '#3fb950', busy: '#f0a020', offline: '#7d8590', customer: '#58a6ff' };
  const LINK_COLOUR = { job: 'rgba(170, 180, 220, 0.45)', payment: 'rgba(255, 196, 0, 0.8)' };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const linkKey = (l) => `${typeof l.source === 'object' ? l.source.id : l.source}>${typeof l.target === 'object' ? l.target.id : l.target}>${l.type}`;
  const linkWidth = (l) => Math.min(8, 0.6 + Math.log10(1 + l.sats) * 1.1);
  let names = true;

  const graph = window
    .ForceGraph()(el)
    .backgroundColor('#0f1020')
    .nodeId('id')
    .nodeVal((n) => n.size)
    .nodeRelSize(4)
    .nodeColor((n) => COLOUR[n.status] || '#cccccc')
    .nodeLabel((n) => `<strong>${esc(n.label)}</strong><br>${esc(n.type)}, ${esc(n.status)} · score ${Number(n.score).toFixed(3)}`)
    .nodeCanvasObjectMode((n) => (n.type === 'customer' ? undefined : 'after'))
    .nodeCanvasObject((n, ctx, scale) => {
      const r = Math.sqrt(Math.max(0, n.size)) * 4;
      if (n.type === 'coordinator') {
        ctx.beginPath();
        ctx.arc(n.x, n.y, r + 2 / scale, 0, 2 * Math.PI);
        ctx.strokeStyle = '#ffffff';
        ctx.lineWidth = 2 / scale;
        ctx.stroke();
      }
      if (!names) return;
      const size = 12 / scale;
      ctx.font = `${size}px system-ui, sans-serif`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      ctx.fillStyle = '#e6e6f0';
      ctx.fillText(n.label, n.x, n.y + r + 2 / scale);
    })
    .linkSource('source')
    .linkTarget('target')
    .linkColor((l) => LINK_COLOUR[l.type])
    .linkWidth(linkWidth)
    .linkCurvature((l) => (l.type === 'payment' ? 0.25 : 0))
    .linkDirectionalArrowLength((l) => (l.type === 'payment' ? 4 : 0))
    .linkDirectionalArrowRelPos(0.9)
    .linkLabel((l) => `${esc(l.type)}: ${l.count} × · ${Number(l.sats).toLocaleString('en-US')} sats`)
    .onNodeClick((n) => n.href && location.assign(n.href));
  if (reduced) graph.warmupTicks(150).cooldownTicks(0);
  else graph.cooldownTime(8000);

  // force-graph sizes itself to the window by default; follow the box instead (no horizontal scroll on phones).
  const fit = () => graph.width(el.clientWidth).height(el.clientHeight);
  fit();
  if (window.ResizeObserver) new ResizeObserver(fit).observe(el);
  else window.addEventListener('resize', fit);

  // ---- data ----
  let current = { nodes: [], links: [] };
  let fitted = false;

  /** Merges fresh data into the drawn graph: same node objects (positions kept), new nodes start beside a neighbour. */
  function apply(data) {
    const old = new Map(current.nodes.map((n) => [n.id, n]));
    const oldLinks = new Set(current.links.map(linkKey));
    const topologyChanged = data.nodes.length !== current.nodes.length || data.links.length !== current.links.length || data.nodes.some((n) => !old.has(n.id)) || data.links.some((l) => !oldLinks.has(linkKey(l)));
    const nodes = data.nodes.map((n) => {
      const o = old.get(n.id);
      if (!o) return { ...n };
      Object.assign(o, n);
      return o;
    });
    if (!topologyChanged) {
      // Only sizes, colours or sats changed: update in place, redraw, no re-layout.
      const byKey = new Map(data.links.map((l) => [linkKey(l), l]));
      for (const l of current.links) {
        const f = byKey.get(linkKey(l));
        if (f) Object.assign(l, { sats: f.sats, count: f.count });
      }
      graph.nodeColor((n) => COLOUR[n.status] || '#cccccc').linkWidth((l) => linkWidth(l));
    } else {
      const byId = new Map(nodes.map((n) => [n.id, n]));
      for (const l of data.links) {
        const s = byId.get(l.source);
        const t = byId.get(l.target);
        const placed = s && s.x !== undefined ? s : t && t.x !== undefined ? t : undefined;
        for (const n of [s, t]) {
          if (n && n.x === undefined && placed) {
            n.x = placed.x + (Math.random() - 0.5) * 30;
            n.y = placed.y + (Math.random() - 0.5) * 30;
          }
        }
      }
      current = { nodes, links: data.links.map((l) => ({ ...l })) };
      graph.graphData(current);
    }
    el.setAttribute('aria-label', describe(data));
    renderTables(data);
    say(`${data.nodes.length} nodes, ${data.links.length} edges · updated ${new Date().toLocaleTimeString()}`);
    if (!fitted && data.nodes.length) {
      fitted = true;
      setTimeout(firstFit, reduced ? 0 : 1200);
    }
  }

  // force-graph lays the new data out on its next update: fit once the nodes have positions.
  function firstFit(tries = 0) {
    const box = graph.getGraphBbox();
    if (!box || !Number.isFinite(box.x[0]) || !Number.isFinite(box.y[0])) return void (tries < 100 && setTimeout(() => firstFit(tries + 1), 50));
    graph.zoomToFit(reduced ? 0 : 400, 30);
  }

  function describe(g) {
    const agents = g.nodes.filter((n) => n.type === 'agent').length;
    const customers = g.nodes.filter((n) => n.type === 'customer').length;
    return `Swarm graph: ${agents} agents, ${customers} customers and the coordinator, joined by ${g.links.length} edges (jobs and payments). The same data is in the tables below the graph.`;
  }

  // The text alternative, rebuilt with textContent only (labels are data, never markup).
  const ROWS = 100;
  function cell(tr, text, href) {
    const td = document.createElement('td');
    if (href) {
      const a = document.createElement('a');
      a.href = href;
      a.textContent = text;
      td.append(a);
    } else td.textContent = text;
    tr.append(td);
  }
  function fillTable(id, caption, rows, all, what) {
    const table = $(id);
    if (!table) return;
    table.caption.textContent = caption;
    const body = table.tBodies[0];
    body.replaceChildren(...rows);
    const wrap = table.parentElement;
    let more = wrap.nextElementSibling && wrap.nextElementSibling.matches('p.more') ? wrap.nextElementSibling : null;
    if (all > rows.length) {
      if (!more) {
        more = document.createElement('p');
        more.className = 'more';
        wrap.after(more);
      }
      more.textContent = `Showing ${rows.length} of ${all} ${what}.`;
    } else if (more) more.remove();
  }
  function renderTables(g) {
    const label = new Map(g.nodes.map((n) => [n.id, n.label]));
    const nodeRows = g.nodes.slice(0, ROWS).map((n) => {
      const tr = document.createElement('tr');
      tr.dataset.nodeType = n.type;
      cell(tr, n.label, n.href);
      cell(tr, n.type);
      cell(tr, n.status);
      cell(tr, Number(n.score).toFixed(3));
      return tr;
    });
    fillTable('graph-nodes', `Nodes (${g.nodes.length})`, nodeRows, g.nodes.length, 'nodes');
    const links = [...g.links].sort((a, b) => b.sats - a.sats || b.count - a.count).slice(0, ROWS);
    const linkRows = links.map((l) => {
      const tr = document.createElement('tr');
      cell(tr, label.get(l.source) || l.source);
      cell(tr, label.get(l.target) || l.target);
      cell(tr, l.type);
      cell(tr, Number(l.sats).toLocaleString('en-US'));
      cell(tr, String(l.count));
      return tr;
    });
    fillTable('graph-links', `Edges (${g.links.length}), most sats first`, linkRows, g.links.length, 'edges');
  }

  let inflight = false;
  async function refresh() {
    if (inflight) return void (again = true);
    inflight = true;
    try {
      const r = await fetch(API, { credentials: 'same-origin', headers: { accept: 'application/json' } });
      const data = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(data.error || `${r.status} ${r.statusText}`);
      apply(data);
    } catch (err) {
      say(`Could not load the graph: ${err instanceof Error ? err.message : err}`);
    } finally {
      inflight = false;
    }
  }

  // ---- live: at most one refetch a second, the last event always followed by one ----
  const THROTTLE_MS = 1000;
  let last = 0;
  let timer = 0;
  let again = false;
  const live = $('graph-live');
  function schedule() {
    if (live && !live.checked) return;
    if (timer) return;
    const wait = Math.max(0, last + THROTTLE_MS - Date.now());
    timer = setTimeout(async () => {
      timer = 0;
      last = Date.now();
      again = false;
      await refresh();
      if (again) schedule();
    }, wait);
  }
  document.body.addEventListener('job', schedule);
  document.body.addEventListener('nostr', schedule);
  // Agents going quiet produce no event: look again now and then (not while the tab is hidden).
  setInterval(() => !document.hidden && schedule(), 15000);
  document.addEventListener('visibilitychange', () => !document.hidden && schedule());

  // ---- controls ----
  let paused = false;
  const pause = $('graph-pause');
  if (pause)
    pause.addEventListener('click', () => {
      paused = !paused;
      if (paused) graph.pauseAnimation();
      else graph.resumeAnimation();
      pause.setAttribute('aria-pressed', String(paused));
      pause.textContent = paused ? 'Resume motion' : 'Pause motion';
    });
  const fitButton = $('graph-fit');
  if (fitButton) fitButton.addEventListener('click', () => graph.zoomToFit(reduced ? 0 : 400, 30));
  const namesBox = $('graph-names');
  if (namesBox)
    namesBox.addEventListener('change', () => {
      names = namesBox.checked;
      graph.nodeColor((n) => COLOUR[n.status] || '#cccccc'); // any property change redraws
    });
  if (live) live.addEventListener('change', () => live.checked && schedule());

  // ---- frame measurement ----
  // Frames force-graph redrew, and the time spent in them (a simulation tick plus the painting).
  let rendered = 0;
  let renderMs = 0;
  let renderStart = 0;
  graph
    .onRenderFramePre(() => (renderStart = performance.now()))
    .onRenderFramePost(() => {
      rendered++;
      renderMs += performance.now() - renderStart;
    });

  /**
   * Frames per second over `ms`: requestAnimationFrame callbacks counted while the graph redraws
   * every frame and its simulation runs (a reheat), i.e. the cost of a live, moving graph.
   */
  async function fps(ms = 3000) {
    if (paused) graph.resumeAnimation();
    graph.autoPauseRedraw(false);
    if (!reduced) graph.d3ReheatSimulation();
    await new Promise((r) => requestAnimationFrame(r));
    const r0 = rendered;
    const ms0 = renderMs;
    const gaps = [];
    let first = 0;
    let prev = 0;
    let frames = 0;
    await new Promise((resolve) => {
      const tick = (t) => {
        if (frames++ === 0) first = t;
        else gaps.push(t - prev);
        prev = t;
        if (t - first < ms) requestAnimationFrame(tick);
        else resolve();
      };
      requestAnimationFrame(tick);
    });
    graph.autoPauseRedraw(true);
    if (paused) graph.pauseAnimation();
    // Frames per second from the intervals between callbacks (the first one starts the clock).
    const seconds = (prev - first) / 1000;
    gaps.sort((a, b) => a - b);
    const value = Math.round((gaps.length / seconds) * 10) / 10;
    api.last = {
      fps: value,
      frames,
      rendered: rendered - r0,
      meanRenderMs: rendered > r0 ? Math.round(((renderMs - ms0) / (rendered - r0)) * 100) / 100 : 0,
      seconds: Math.round(seconds * 1000) / 1000,
      medianFrameMs: Math.round((gaps[Math.floor(gaps.length / 2)] || 0) * 10) / 10,
      p95FrameMs: Math.round((gaps[Math.floor(gaps.length * 0.95)] || 0) * 10) / 10,
      worstFrameMs: Math.round((gaps[gaps.length - 1] || 0) * 10) / 10,
    };
    return value;
  }

  const api = {
    fps,
    nodes: () => current.nodes.length,
    links: () => current.links.length,
    /** What is drawn, without force-graph's layout fields. */
    data: () => ({
      nodes: current.nodes.map(({ id, label, type, status, score, size }) => ({ id, label, type, status, score, size })),
      links: current.links.map((l) => ({ source: typeof l.source === 'object' ? l.source.id : l.source, target: typeof l.target === 'object' ? l.target.id : l.target, type: l.type, sats: l.sats, count: l.count })),
    }),
    refresh,
    /** The ForceGraph instance (for poking at it from the console). */
    graph,
    last: null,
  };
  window.timmySwarm = api;
  refresh();
})();
