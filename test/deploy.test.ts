// The files in deploy/: Prometheus scrapes the dashboard's /metrics every 15 s, the Grafana
// dashboard is valid JSON whose panels all query Timmy's metrics, promtail parses the JSON logs.
// That every metric the dashboard uses is exposed is checked against a live instance in
// test/metrics.test.ts. With promtool installed, it checks the Prometheus config too.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string): string => readFileSync(`${root}deploy/${p}`, 'utf8');

type Json = Record<string, unknown>;

describe('deploy files', () => {
  it('prometheus.yml scrapes localhost:8080/metrics every 15 s', (t) => {
    const cfg = parse(read('prometheus.yml')) as { global?: Json; scrape_configs?: Json[] };
    assert.equal(cfg.global?.scrape_interval, '15s');
    const job = cfg.scrape_configs?.find((j) => j.job_name === 'timmy');
    assert.ok(job, 'a timmy scrape job');
    assert.equal(job.metrics_path, '/metrics');
    assert.equal(job.scrape_interval, '15s');
    const targets = (job.static_configs as { targets: string[] }[]).flatMap((s) => s.targets);
    assert.deepEqual(targets, ['localhost:8080']);

    const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
    if (!promtool) return t.diagnostic('promtool not installed: `promtool check config` skipped');
    const r = spawnSync(promtool, ['check', 'config', `${root}deploy/prometheus.yml`], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('grafana/timmy.json is a dashboard whose panels query Timmy metrics', () => {
    const d = JSON.parse(read('grafana/timmy.json')) as { title: string; uid: string; panels: { type: string; title: string; targets?: { expr: string; datasource?: unknown }[]; gridPos?: Json }[] };
    assert.equal(d.title, 'Timmy');
    assert.ok(d.uid);
    const graphs = d.panels.filter((p) => p.type !== 'row');
    assert.ok(graphs.length >= 12);
    for (const p of graphs) {
      assert.ok(p.gridPos, `${p.title} has a position`);
      assert.ok(p.targets && p.targets.length > 0, `${p.title} has queries`);
      for (const q of p.targets) assert.match(q.expr, /\b(timmy|process|nodejs)_[a-z0-9_]+/, `${p.title}: ${q.expr}`);
    }
    const all = graphs.flatMap((p) => p.targets!.map((q) => q.expr)).join('\n');
    // The panels the issue asks for.
    for (const m of ['timmy_tasks_total', 'timmy_auction_duration_seconds_bucket', 'timmy_llm_request_duration_seconds_bucket', 'timmy_agent_health', 'timmy_relay_events_total', 'timmy_relay_ingest_duration_seconds_bucket', 'timmy_lightning_balance_sats', 'timmy_escrow_sats'])
      assert.ok(all.includes(m), m);
    assert.match(all, /histogram_quantile\(0\.95, sum by \(le\) \(rate\(timmy_auction_duration_seconds_bucket/);
  });

  it('loki/promtail.yml parses JSON log lines: level, module and event', () => {
    const cfg = parse(read('loki/promtail.yml')) as { clients: { url: string }[]; scrape_configs: { job_name: string; pipeline_stages: Json[] }[] };
    assert.match(cfg.clients[0]!.url, /\/loki\/api\/v1\/push$/);
    assert.ok(cfg.scrape_configs.length >= 1);
    for (const job of cfg.scrape_configs) {
      const json = job.pipeline_stages.find((s) => 'json' in s)?.json as { expressions: Record<string, string> } | undefined;
      assert.ok(json, `${job.job_name} parses JSON`);
      for (const k of ['level', 'module', 'event']) assert.equal(json.expressions[k], k, `${job.job_name} extracts ${k}`);
      const labels = job.pipeline_stages.find((s) => 'labels' in s)?.labels as Json;
      assert.deepEqual(Object.keys(labels).sort(), ['event', 'level', 'module']);
      // `event` only when it is a dotted name: a free-form message must not become a label value.
      const regex = job.pipeline_stages.find((s) => 'regex' in s)?.regex as { source: string; expression: string };
      assert.equal(labels.event, 'event_name');
      assert.equal(regex.source, 'event');
      const re = new RegExp(regex.expression.replace('(?P<', '(?<'));
      assert.equal(re.exec('job.delivered')?.groups?.event_name, 'job.delivered');
      assert.equal(re.exec('http.request')?.groups?.event_name, 'http.request');
      assert.equal(re.exec('bidder muse: connection refused to 10.0.0.1'), null);
    }
  });
});
