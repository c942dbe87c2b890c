// `timmy voice info`: which speech engines this machine can run, which ones serve by default, and
// whether the VAD loads. Works without a running instance (it looks at the machine and the config).
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { selectEngines } from '../voice/select.js';
import { VoiceService, type VoiceInfo } from '../voice/service.js';
import { loadConfig } from './config.js';
import { closeUnchosen, hardwareTier, neuralEngines } from './voice-engines.js';

export const VOICE_HELP: Record<string, string> = {
  main: `Usage: timmy voice <command> [options]

Local speech: speech-to-text and text-to-speech engines (nothing leaves the machine).

Commands:
  info [--json]     the engines, whether each is available and why, which one serves, the VAD

Options:
  --data-dir <dir>  where data lives (default ./data; models in <dir>/models)   env TIMMY_DATA_DIR
  --config <file>   JSON config file (voice.stt and voice.tts choose engines)
  -h, --help        show this help`,
  info: `Usage: timmy voice info [--json] [options]

Lists every speech engine with its kind (stt, tts), family (neural engines need model files from
'timmy models'; system ones need Debian packages: pocketsphinx pocketsphinx-en-us, espeak-ng,
flite), whether it is available and why not, and marks the one chosen by default (voice.stt and
voice.tts in the config, else the best available). Also says whether the Silero VAD loads and
which converters (ffmpeg, sox) read compressed audio.

Options:
  --json            the same as GET /voice/info, as one JSON object
  --data-dir <dir>  where data lives (default ./data)   env TIMMY_DATA_DIR
  --config <file>   JSON config file
  -h, --help        show this help`,
};

const OPTIONS = {
  json: { type: 'boolean' },
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

export class VoiceCliError extends Error {
  override name = 'VoiceCliError';
}

/** Runs `timmy voice <argv>`; returns the exit code. Output goes to stdout. */
export async function voiceCommand(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new VoiceCliError((err as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  const { values, positionals } = parsed;
  const [cmd, ...rest] = positionals;
  if (cmd === undefined || cmd === 'help') {
    out(VOICE_HELP[rest[0] ?? 'main'] ?? VOICE_HELP.main!);
    return 0;
  }
  if (cmd !== 'info' || rest.length > 0) throw new VoiceCliError(`unknown command "voice ${positionals.join(' ')}"; run 'timmy voice --help'`);
  if (values.help) return (out(VOICE_HELP.info!), 0);
  const { config } = loadConfig({ file: values.config, env: process.env, flags: values['data-dir'] ? { dataDir: values['data-dir'] } : {} });
  const modelsDir = join(config.dataDir, 'models');
  const neural = await neuralEngines(modelsDir);
  const engines = await selectEngines({ modelsDir, prefer: { stt: config.voice.stt, tts: config.voice.tts }, extraStt: neural.stt, extraTts: neural.tts });
  await closeUnchosen(neural, engines);
  const service = new VoiceService(engines, { language: config.voice.language, maxBytes: config.voice.maxUploadBytes });
  try {
    const info = service.info();
    const hw = hardwareTier();
    if (values.json) out(JSON.stringify({ ...info, enabled: config.voice.enabled, hardware: hw }, null, 2));
    else {
      for (const l of formatInfo(info, config.voice.enabled)) out(l);
      out(`hardware: ${hw.cores} cores, ${hw.memGiB} GiB: ${hw.tier} tier; installed models are preferred in this order: ${hw.preference.join(', ')}`);
    }
  } finally {
    await service.close();
  }
  return 0;
}

export function formatInfo(info: VoiceInfo, enabled = true): string[] {
  const lines: string[] = [];
  if (!enabled) lines.push('voice is disabled in the config (voice.enabled: false); what it would use:');
  lines.push(`speech-to-text: ${info.stt.engine ?? 'none'}${info.stt.engine ? '' : ` (${info.stt.detail})`}`);
  lines.push(`text-to-speech: ${info.tts.engine ?? 'none'}${info.tts.engine ? '' : ` (${info.tts.detail})`}`);
  lines.push(`VAD: ${info.vad.available ? 'yes' : 'no'}: ${info.vad.detail}`);
  lines.push(`converters: ${info.converters.length > 0 ? info.converters.join('; ') : 'none (only WAV and PCM are accepted; apt install ffmpeg)'}`);
  if (info.modelsDir) lines.push(`models: ${info.modelsDir}`);
  lines.push('', 'engines:');
  const w = Math.max(...info.engines.map((e) => e.id.length), 4);
  for (const e of info.engines) {
    lines.push(`  ${e.chosen ? '*' : ' '} ${e.kind}  ${e.id.padEnd(w)}  ${e.family.padEnd(6)}  ${(e.available ? 'available' : 'missing').padEnd(9)}  ${e.detail}`);
  }
  lines.push('  (* = chosen by default)');
  for (const n of info.notes) lines.push(`note: ${n}`);
  return lines;
}
