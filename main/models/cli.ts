// `timmy models ...`: the model files of the neural engines. Works on the data directory alone
// (the instance need not run); the engines pick up an installed model when they next start.
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig } from '../config.js';
import { findModel } from './catalog.js';
import { InterruptedError } from './download.js';
import { installModel } from './install.js';
import { formatBytes, stderrProgress } from './progress.js';
import { ModelError, listModels, modelDir, modelStatus, removeModel, verifyModel, type VerifyResult } from './store.js';

const COMMON = `  --data-dir <dir>  where data lives (default ./data)   env TIMMY_DATA_DIR
  --config <file>   JSON config file
  -h, --help        show this help`;

export const MODELS_HELP: Record<string, string> = {
  main: `Usage: timmy models <command> [options]

The model files of the neural engines (speech: Whisper, Moonshine, Piper, Kokoro; memory: ONNX
sentence embedders), in <data-dir>/models/<id>/. Nothing is downloaded unless you ask; see
docs/models.md for where the real weights are.

Commands:
  list [--json]        the catalog with each model's state (missing, installed, partial, corrupt)
  verify [<id>]        re-hash the files and compare with the manifest and known hashes
  install <id> --from <dir|url|hf>   copy or download a model (resumes an interrupted download)
  remove <id>          delete a model's directory
  path <id>            print a model's directory

Options:
${COMMON}`,
  list: `Usage: timmy models list [--json] [options]

Lists the known models with engine, task, approximate size and state: missing, installed, partial
(some required files missing, or an interrupted download waiting), corrupt (a file's size differs
from its manifest). Sizes are compared, not hashed: use 'timmy models verify' for that.

Options:
  --json            one JSON array on standard output
${COMMON}`,
  verify: `Usage: timmy models verify [<id>] [--json] [options]

Re-hashes every file of a model (or of every model that is not missing) and compares it with the
size and sha256 its manifest recorded at install time, and with the catalog's sha256 where known.
Exit 0 when all are intact, 1 otherwise.

Options:
  --json            one JSON array on standard output
${COMMON}`,
  install: `Usage: timmy models install <id> --from <dir|url|hf> [options]
       timmy models install <id> --file <name>=<url|path> [--file ...] [options]

Copies or downloads a model's files into <data-dir>/models/<id>/.
  --from <dir>      a copy of the upstream repository (nested, e.g. onnx/model.onnx) or the same
                    files side by side (flat, e.g. model.onnx)
  --from <url>      a base URL: each file is fetched from <url>/<upstream path>, e.g.
                    https://huggingface.co/<repo>/resolve/main/ or a mirror
  --from hf         the model's Hugging Face repository (needs internet)
Downloads show progress on stderr and go to <file>.part first: if one stops (network, Ctrl-C),
the same command resumes it with an HTTP Range request. A file whose sha256 is known (catalog
or --sha256) must match, or it is deleted and the install fails. Files already installed are skipped.

Options:
  --file <name>=<src>    install this file from this URL or path (repeatable); for a model that is
                         not in the catalog, its files
  --sha256 <name>=<hex>  expected sha256 of a file (repeatable)
  --force                reinstall files that are already there
  --retries <n>          retries per file after network errors (default 5)
  --engine <engine>      for a model outside the catalog: whisper, moonshine, piper, kokoro, sentence-embedder
${COMMON}`,
  remove: `Usage: timmy models remove <id> [options]

Deletes <data-dir>/models/<id>/ with everything in it (including interrupted downloads).

Options:
${COMMON}`,
  path: `Usage: timmy models path <id> [options]

Prints the directory the engines open for a model (whether or not it is installed yet).

Options:
${COMMON}`,
};

const OPTIONS = {
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  from: { type: 'string' },
  file: { type: 'string', multiple: true },
  sha256: { type: 'string', multiple: true },
  force: { type: 'boolean' },
  retries: { type: 'string' },
  engine: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

const ENGINES = ['whisper', 'moonshine', 'piper', 'kokoro', 'sentence-embedder'] as const;

function pairs(flag: string, list: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list ?? []) {
    const i = s.indexOf('=');
    if (i <= 0 || i === s.length - 1) throw new ModelsUsageError(`--${flag} wants <name>=<value>, got "${s}"`);
    out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}

function verifyLines(r: VerifyResult): string[] {
  const head = `${r.id}: ${r.ok ? 'ok' : r.state} (${r.files.length} file${r.files.length === 1 ? '' : 's'} checked)`;
  return [head, ...r.files.filter((f) => f.check !== 'ok').map((f) => `  ${f.path}: ${f.check === 'unrecorded' ? 'note' : f.check}${f.detail === f.check ? '' : `: ${f.detail}`}`)];
}

/** A mistake in the command line: exit 2, like the other commands' usage errors. */
class ModelsUsageError extends ModelError {
  override name = 'ModelsUsageError';
}

/**
 * Runs `timmy models <argv>`; returns the exit code (2 for usage errors, printed here). Other
 * errors are thrown: the caller prints them as one line and exits 1.
 */
export async function modelsCommand(argv: readonly string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    if (!(err instanceof ModelsUsageError)) throw err;
    console.error(`timmy: ${err.message}`);
    return 2;
  }
}

async function run(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ModelsUsageError(`${(err as Error).message.split('\n')[0] ?? 'bad arguments'}; run 'timmy models --help'`);
  }
  const { values: v, positionals } = parsed;
  const [cmd, id, ...extra] = positionals;
  if (cmd === undefined || cmd === 'help') return (console.log(MODELS_HELP[id ?? 'main'] ?? MODELS_HELP.main), 0);
  const help = MODELS_HELP[cmd];
  if (help === undefined || cmd === 'main') throw new ModelsUsageError(`unknown models command "${cmd}"; run 'timmy models --help'`);
  if (v.help) return (console.log(help), 0);
  if (extra.length > 0 || (cmd === 'list' && id !== undefined)) throw new ModelsUsageError(`unexpected argument "${[...(cmd === 'list' ? [id] : []), ...extra][0]}"; run 'timmy models ${cmd} --help'`);
  const needId = (): string => {
    if (id === undefined) throw new ModelsUsageError(`missing model id; run 'timmy models ${cmd} --help'`);
    return id;
  };
  const { config } = loadConfig({ file: v.config, env: process.env, flags: v['data-dir'] !== undefined ? { dataDir: v['data-dir'] } : {} });
  const dataDir = config.dataDir;

  switch (cmd) {
    case 'list': {
      const all = listModels(dataDir);
      if (v.json) return (console.log(JSON.stringify(all, null, 2)), 0);
      const rows = all.map((m) => [m.id, m.engine ?? '?', m.task ?? '?', m.state, m.sizeMB !== undefined ? `~${m.sizeMB} MB` : formatBytes(m.installedBytes), m.description + (m.detail ? ` [${m.detail}]` : '')]);
      const head = ['ID', 'ENGINE', 'TASK', 'STATE', 'SIZE', 'DESCRIPTION'];
      const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const r of [head, ...rows]) console.log(r.map((c, i) => (i < r.length - 1 ? c.padEnd(w[i]!) : c)).join('  '));
      return 0;
    }
    case 'verify': {
      const ids = id !== undefined ? [id] : listModels(dataDir).filter((m) => m.state !== 'missing').map((m) => m.id);
      if (ids.length === 0) {
        if (v.json) console.log('[]');
        else console.log('no models installed');
        return 0;
      }
      const results: VerifyResult[] = [];
      for (const x of ids) results.push(await verifyModel(dataDir, x));
      if (v.json) console.log(JSON.stringify(results, null, 2));
      else for (const r of results) for (const l of verifyLines(r)) console.log(l);
      return results.every((r) => r.ok) ? 0 : 1;
    }
    case 'install': {
      const target = needId();
      let retries: number | undefined;
      if (v.retries !== undefined) {
        retries = Number(v.retries);
        if (!/^\d+$/.test(v.retries) || retries > 100) throw new ModelsUsageError(`--retries must be a whole number from 0 to 100, got "${v.retries}"`);
      }
      if (v.engine !== undefined && !(ENGINES as readonly string[]).includes(v.engine)) throw new ModelsUsageError(`--engine must be one of ${ENGINES.join(', ')}`);
      const ac = new AbortController();
      const onSigint = (): void => ac.abort();
      process.once('SIGINT', onSigint);
      try {
        const r = await installModel(dataDir, target, {
          ...(v.from !== undefined ? { from: v.from } : {}),
          files: pairs('file', v.file),
          sha256: pairs('sha256', v.sha256),
          ...(v.force ? { force: true } : {}),
          ...(retries !== undefined ? { retries } : {}),
          ...(v.engine !== undefined ? { engine: v.engine as (typeof ENGINES)[number] } : {}),
          signal: ac.signal,
          progress: stderrProgress(),
          log: (l) => console.error(l),
        });
        const bytes = r.installed.reduce((s, f) => s + f.size, 0);
        console.log(`${r.id}: ${r.state}, ${r.installed.length} file${r.installed.length === 1 ? '' : 's'} installed (${formatBytes(bytes)}), ${r.skipped.length} skipped, in ${resolve(r.dir)}`);
        return 0;
      } catch (err) {
        if (err instanceof InterruptedError) {
          console.error(`timmy: ${err.message}`);
          return 130;
        }
        throw err;
      } finally {
        process.off('SIGINT', onSigint);
      }
    }
    case 'remove': {
      const target = needId();
      if (!removeModel(dataDir, target)) throw new ModelError(`${target} is not installed in ${modelDir(dataDir, target)}`);
      console.log(`removed ${modelDir(dataDir, target)}`);
      return 0;
    }
    case 'path': {
      const target = needId();
      if (!findModel(target) && modelStatus(dataDir, target).state === 'missing') throw new ModelError(`unknown model "${target}"; see 'timmy models list'`);
      console.log(resolve(modelDir(dataDir, target)));
      return 0;
    }
  }
  return 0;
}
