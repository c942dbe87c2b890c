// The neural engines wired into the instance (main/voice-engines.ts): model directories under
// <dataDir>/models/ (generated tiny models in the upstream layouts, random weights) become engines
// that `timmy voice info` lists and selectEngines prefers over the Debian ones; a directory with
// missing files is listed as unavailable with the reason; voice.stt in the config still wins; and
// startAgentVoice serves through the chosen neural engines.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../main/config.js';
import { startAgentVoice } from '../main/voice.js';
import { hardwareTier, neuralEngines, warmUpTts } from '../main/voice-engines.js';
import type { Audio } from '../voice/engine.js';
import { FliteEngine } from '../voice/engines/flite.js';
import { onPath } from '../voice/proc.js';
import { runCli } from './support/cli.js';
import { NEURAL_TEST_TEXT, writePiperTestVoice, writeWhisperTestModel } from './support/voice-models.js';

const PIPER = 'piper-en_US-lessac-medium';
const hasPocketSphinx = onPath('pocketsphinx_continuous') !== undefined;

interface InfoJson {
  stt: { engine: string | null };
  tts: { engine: string | null };
  engines: { id: string; kind: string; family: string; available: boolean; chosen: boolean; detail: string }[];
  notes: string[];
}

const tone = (seconds: number): Audio => ({ sampleRate: 16000, samples: Float32Array.from({ length: seconds * 16000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 16000)) });

describe('neural engines from <dataDir>/models', () => {
  let data: string;
  before(async () => {
    data = await mkdtemp(join(tmpdir(), 'timmy-neural-'));
    const models = join(data, 'models');
    await writeWhisperTestModel(join(models, 'whisper-tiny'));
    await writePiperTestVoice(join(models, PIPER), 'en_US-lessac-medium');
    // Installed by halves: listed, not available, with the missing files named.
    await mkdir(join(models, 'moonshine-tiny'), { recursive: true });
    await writeFile(join(models, 'moonshine-tiny', 'config.json'), '{}');
    await mkdir(join(models, 'kokoro-82m'), { recursive: true });
  });
  after(() => rm(data, { recursive: true, force: true }));

  it('timmy voice info lists them, available, and chooses them before the system engines', { timeout: 120_000 }, async () => {
    const r = await runCli(['voice', 'info', '--json', '--data-dir', data], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as InfoJson;
    assert.equal(info.stt.engine, 'whisper-tiny');
    assert.equal(info.tts.engine, PIPER);
    const byId = new Map(info.engines.map((e) => [e.id, e]));
    assert.deepEqual({ ...byId.get('whisper-tiny'), detail: undefined }, { id: 'whisper-tiny', kind: 'stt', family: 'neural', available: true, chosen: true, detail: undefined, languages: ['en', 'de'] });
    assert.equal(byId.get(PIPER)?.available, true);
    assert.equal(byId.get(PIPER)?.chosen, true);
    assert.equal(byId.get(PIPER)?.family, 'neural');
    assert.equal(byId.get('moonshine-tiny')?.available, false);
    assert.match(byId.get('moonshine-tiny')!.detail, /onnx\/encoder_model\.onnx/);
    assert.equal(byId.get('kokoro-82m')?.available, false);
    assert.match(byId.get('kokoro-82m')!.detail, /model\.onnx.*tokenizer\.json/);
    // neural first in the listing, as in the choice
    const stt = info.engines.filter((e) => e.kind === 'stt').map((e) => e.family);
    assert.deepEqual(stt, [...stt].sort((a, b) => (a === b ? 0 : a === 'neural' ? -1 : 1)));
    assert.deepEqual(info.notes, []);
    const text = await runCli(['voice', 'info', '--data-dir', data], { timeoutMs: 120_000 });
    assert.match(text.stdout, /^speech-to-text: whisper-tiny$/m);
    assert.match(text.stdout, /^\s+\* tts\s+piper-en_US-lessac-medium\s+neural\s+available/m);
    assert.match(text.stdout, /^\s+stt\s+moonshine-tiny\s+neural\s+missing/m);
  });

  it('voice.stt in the config wins over the neural default', { skip: hasPocketSphinx ? false : 'needs pocketsphinx (apt install pocketsphinx pocketsphinx-en-us)', timeout: 120_000 }, async () => {
    const file = join(data, 'voice.json');
    await writeFile(file, JSON.stringify({ voice: { stt: 'pocketsphinx' } }));
    const r = await runCli(['voice', 'info', '--json', '--data-dir', data, '--config', file], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as InfoJson;
    assert.equal(info.stt.engine, 'pocketsphinx');
    assert.equal(info.tts.engine, PIPER);
    assert.equal(info.engines.find((e) => e.id === 'whisper-tiny')?.chosen, false);
  });

  it('startAgentVoice serves through them and warms the phonemizer up in the background', { timeout: 120_000 }, async () => {
    const file = join(data, 'empty.json');
    await writeFile(file, '{}'); // a file of our own, so no timmy.config.json of the working directory is read
    const { config } = loadConfig({ file, env: {}, flags: { dataDir: data } });
    const logs: string[] = [];
    const voice = await startAgentVoice(config, (level, msg) => logs.push(`${level} ${msg}`));
    try {
      assert.ok(voice.port, logs.join('\n'));
      assert.match(logs.join('\n'), /voice: speech-to-text whisper-tiny, text-to-speech piper-en_US-lessac-medium/);
      assert.match(logs.join('\n'), /warn voice: model moonshine-tiny is installed but cannot run/);
      // Real speech when flite is here, so the VAD passes a segment on (it drops a pure tone);
      // the generated model reads anything as its one text.
      const speech = onPath('flite') ? await new FliteEngine().synthesize('hello there, this is a test') : undefined;
      const t = await voice.port.transcribe(speech ?? tone(2));
      assert.equal(t.engine, 'whisper-tiny');
      if (speech) assert.equal(t.text, NEURAL_TEST_TEXT);
      const a = await voice.port.speak('Hello there. This is a test.');
      assert.equal(a.sampleRate, 22050);
      assert.ok(a.samples.length > 0);
    } finally {
      await voice.close();
    }
  });

  it('neuralEngines opens what is complete, keeps what is not, and skips missing directories', { timeout: 120_000 }, async () => {
    // A small machine's order: the lighter models first (hardwareTier).
    const n = await neuralEngines(join(data, 'models'), undefined, hardwareTier(2, 4 * 2 ** 30));
    assert.deepEqual(n.stt.map((e) => e.id), ['moonshine-tiny', 'whisper-tiny']);
    assert.deepEqual(n.tts.map((e) => e.id), [PIPER, 'kokoro-82m']);
    const whisper = n.stt[1]!;
    assert.equal((await whisper.transcribe(tone(2), { language: 'en' })).text, NEURAL_TEST_TEXT);
    await assert.rejects(n.tts[1]!.synthesize('hello'), /kokoro-82m is not available/);
    await warmUpTts(n.tts[0]); // a Piper voice: resolves once the phonemizer is warm
    assert.equal(warmUpTts(n.tts[1]), undefined);
    await Promise.all([...n.stt, ...n.tts].map((e) => e.close?.()));
    assert.deepEqual(await neuralEngines(join(data, 'no-such-models')), { stt: [], tts: [] });
  });
});
