// Voice benchmark: every speech engine this machine can run, against the seed targets of the voice
// issue (STT under 500 ms for a 5-second utterance on a desktop; TTS at least 5x real time on a
// Raspberry Pi 4 class CPU). A benchmark that prints figures, not a test.
//
//   npm run bench:voice                                  # Debian engines + generated tiny neural models
//   npm run bench:voice -- --models-dir data/models      # real neural models installed with `timmy models`
//   npm run bench:voice -- --runs 5 --quick              # --quick: 5 sentences of the set instead of all
//
// STT: a 5 s utterance (flite sentences, padded with silence): cold = a new engine instance's first
// call (neural: plus open), warm = median of --runs calls; the fixed set (voice/testdata/sentences.txt)
// spoken by flite and by espeak-ng, transcribed by the engine alone and through VoiceService (VAD
// + engine): mean WER and RTF. TTS: a 2-sentence text: time to first audio (first chunk of
// synthesizeStream, else the whole synthesis) and times real time, cold and warm. VAD: ms per
// second of audio. Without --models-dir the neural engines run on generated models (random
// weights): their figures are the pipeline's cost only, never a real model's speed or accuracy.
// Prints markdown; the figures also go to bench/results/voice-<date>.json.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { neuralEngines, openSpeechModel, SPEECH_MODELS } from '../main/voice-engines.js';
import { writeKokoroTestModel, writeMoonshineTestModel, writePiperTestVoice, writeWhisperTestModel } from '../test/support/voice-models.js';
import type { Audio, SttEngine, TtsEngine } from '../voice/engine.js';
import { EspeakEngine } from '../voice/engines/espeak.js';
import { FliteEngine } from '../voice/engines/flite.js';
import { PocketSphinxEngine } from '../voice/engines/pocketsphinx.js';
import { SystemTtsEngine } from '../voice/engines/system.js';
import { phonemizerTiming } from '../voice/phonemes.js';
import { selectEngines } from '../voice/select.js';
import { duration, join as joinAudio, sentences, silence } from '../voice/testing.js';
import { Vad, vadModelPath } from '../voice/vad.js';
import { resample } from '../voice/wav.js';
import { machineInfo } from './lib/report.js';
import { RESULTS_DIR } from './lib/paths.js';
import { installCleanup, registerTempDir, removeTempDir } from './lib/proc.js';
import { log } from './lib/util.js';
import { hasStream, median, runSet, serviceFor, synthTimed, timed, type SetResult, type SpokenSet } from './lib/voice-measure.js';
import { renderVoiceReport, type SttRow, type TtsRow, type VoiceReport } from './lib/voice-report.js';

const { values: args } = parseArgs({ options: { 'models-dir': { type: 'string' }, runs: { type: 'string', default: '5' }, quick: { type: 'boolean', default: false } } });
const RUNS = Math.max(1, Number(args.runs));
const TTS_TEXT = 'The weather is clear and the meeting starts at nine. Please bring the report and a cup of coffee.';

installCleanup();
const machine = machineInfo(undefined);
const load0 = loadavg();

// Neural models: the user's real ones, else generated tiny ones in a scratch directory.
let modelsDir = args['models-dir'];
const generated = modelsDir === undefined;
if (generated) {
  modelsDir = mkdtempSync(join(tmpdir(), 'timmy-bench-voice-'));
  registerTempDir(modelsDir);
  log('writing generated test models (random weights) to ' + modelsDir);
  await writeWhisperTestModel(join(modelsDir, 'whisper-tiny'));
  await writeMoonshineTestModel(join(modelsDir, 'moonshine-tiny'));
  // Sized so the test text comes out about as long as real speech (~5.5 s), so the audio lengths
  // and the cost of writing them are realistic (Piper ids are phonemes with a pad after each).
  await writePiperTestVoice(join(modelsDir, 'piper-en_US-lessac-medium'), 'en_US-lessac-medium', { samplesPerId: 600 });
  await writeKokoroTestModel(join(modelsDir, 'kokoro-82m'), { samplesPerToken: 1300 });
}
const dir = modelsDir!;
const modelLabel = generated ? 'generated' : 'real';

// The default choice, without and with the models (the VAD is measured below).
const plain = await selectEngines({ vad: false });
const neural = await neuralEngines(dir);
const withModels = await selectEngines({ vad: false, modelsDir: dir, extraStt: neural.stt, extraTts: neural.tts });
const defaults = {
  noModels: { stt: plain.stt?.id ?? null, tts: plain.tts?.id ?? null },
  withModels: { stt: withModels.stt?.id ?? null, tts: withModels.tts?.id ?? null, models: modelLabel },
};
await Promise.allSettled([...neural.stt, ...neural.tts].map((e) => e.close?.()));

// VAD first: it also loads onnxruntime, so no engine's cold figure pays for that.
log('VAD');
const vadOpen = await timed(() => Vad.open(vadModelPath()));
const vad = vadOpen.value;

log('synthesizing the fixed set with flite and espeak-ng');
const texts = args.quick ? sentences().slice(0, 5) : sentences();
const sets: SpokenSet[] = [];
for (const tts of [new FliteEngine(), new EspeakEngine()]) {
  if (!(await tts.info()).available) continue;
  const clips: Audio[] = [];
  for (const t of texts) clips.push(resample(await tts.synthesize(t, { language: 'en' }), 16_000));
  sets.push({ voice: tts.id, texts, clips });
}
const fliteSet = sets.find((s) => s.voice === 'flite');
const baseClips = fliteSet?.clips ?? sets[0]?.clips ?? [];

// The 5 s utterance: whole sentences while they fit, then silence up to 5.0 s.
const parts: Audio[] = [silence(0.2)];
for (const c of baseClips) if (duration(joinAudio([...parts, c])) <= 4.8) parts.push(c, silence(0.2));
const utter5 = joinAudio([...parts, silence(5 - duration(joinAudio(parts)))]);
// 30 s of speech and pauses for the VAD.
const long: Audio[] = [];
for (let i = 0; duration(joinAudio(long)) < 30 && baseClips.length > 0; i++) long.push(baseClips[i % baseClips.length]!, silence(0.5));
const audio30 = long.length > 0 ? joinAudio(long) : silence(30);
const vadCold = await timed(() => vad.segments(audio30));
const vadWarm: number[] = [];
for (let i = 0; i < RUNS; i++) vadWarm.push((await timed(() => vad.segments(audio30))).ms);
const vadRow = { openMs: vadOpen.ms, audioSec: duration(audio30), coldMsPerSec: vadCold.ms / duration(audio30), warmMsPerSec: median(vadWarm) / duration(audio30) };

// --- Speech-to-text ---
const stt: SttRow[] = [];
const sttCandidates: { id: string; family: 'system' | 'neural'; open: () => Promise<SttEngine> }[] = [{ id: 'pocketsphinx', family: 'system', open: async () => new PocketSphinxEngine() }];
const tts: TtsRow[] = [];
const ttsCandidates: { id: string; family: 'system' | 'neural'; open: () => Promise<TtsEngine> }[] = [
  { id: 'system', family: 'system', open: async () => new SystemTtsEngine() },
  { id: 'flite', family: 'system', open: async () => new FliteEngine() },
  { id: 'espeak-ng', family: 'system', open: async () => new EspeakEngine() },
];
for (const m of SPEECH_MODELS.filter((x) => existsSync(join(dir, x.id)))) {
  const open = () => openSpeechModel(m, join(dir, m.id));
  if (m.task === 'stt') sttCandidates.push({ id: m.id, family: 'neural', open: open as () => Promise<SttEngine> });
  else ttsCandidates.push({ id: m.id, family: 'neural', open: open as () => Promise<TtsEngine> });
}

for (const c of sttCandidates) {
  const opened = await timed(c.open);
  const e = opened.value;
  const info = await e.info();
  const gen = c.family === 'neural' && generated;
  if (!info.available) {
    stt.push({ engine: c.id, family: c.family, generated: gen, available: false, detail: info.detail });
    continue;
  }
  log(`stt ${c.id}: 5 s utterance, cold and ${RUNS} warm`);
  const cold = await timed(() => e.transcribe(utter5, { language: 'en' }));
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) warm.push((await timed(() => e.transcribe(utter5, { language: 'en' }))).ms);
  // The fixed cost of a call, whatever the audio (PocketSphinx loads its model per call; Whisper encodes a 30 s window).
  const floor: number[] = [];
  for (let i = 0; i < 3; i++) floor.push((await timed(() => e.transcribe(silence(0.5), { language: 'en' }))).ms);
  const alone: SetResult[] = [];
  const service: SetResult[] = [];
  const svc = serviceFor(e, info, vad);
  for (const set of sets) {
    log(`stt ${c.id}: ${set.clips.length} ${set.voice} sentences, alone and through VoiceService`);
    alone.push(await runSet(set, async (a) => (await e.transcribe(a, { language: 'en' })).text));
    service.push(await runSet(set, async (a) => (await svc.transcribeAudio(a, { language: 'en' })).text));
  }
  stt.push({ engine: c.id, family: c.family, generated: gen, available: true, detail: info.detail, openMs: opened.ms, coldMs: cold.ms, warmMs: median(warm), warmRuns: warm, floorMs: median(floor), alone, service, heard5s: cold.value.text });
  await e.close?.();
}

for (const c of ttsCandidates) {
  const opened = await timed(c.open);
  const e = opened.value;
  const info = await e.info();
  const gen = c.family === 'neural' && generated;
  if (!info.available) {
    tts.push({ engine: c.id, family: c.family, generated: gen, available: false, detail: info.detail });
    continue;
  }
  log(`tts ${c.id}: cold and ${RUNS} warm`);
  const phonemizerWasWarm = phonemizerTiming().calls > 0;
  const cold = await synthTimed(e, TTS_TEXT);
  const warm = [];
  for (let i = 0; i < RUNS; i++) warm.push(await synthTimed(e, TTS_TEXT));
  const warmTotal = median(warm.map((w) => w.totalMs));
  tts.push({
    engine: c.id, family: c.family, generated: gen, available: true, detail: info.detail, streams: hasStream(e),
    openMs: opened.ms, cold, warmTotalMs: warmTotal, warmFirstAudioMs: median(warm.map((w) => w.firstAudioMs)), audioSec: warm[0]!.audioSec,
    xRealTime: warm[0]!.audioSec / (warmTotal / 1000), ...(c.family === 'neural' ? { phonemizerWasWarm } : {}),
  });
  await e.close?.();
}
await vad.close();
if (generated) removeTempDir(dir);

const report: VoiceReport = {
  machine, loadavg: { start: load0, end: loadavg() }, runs: RUNS, quick: args.quick ?? false, models: { dir: generated ? '(generated, deleted)' : dir, kind: modelLabel },
  utterance: { seconds: duration(utter5), speechSeconds: duration(joinAudio(parts)) }, ttsText: TTS_TEXT, sentences: texts.length,
  defaults, vad: vadRow, phonemizer: phonemizerTiming(), stt, tts,
};
const md = renderVoiceReport(report);
console.log('\n' + md);
mkdirSync(RESULTS_DIR, { recursive: true });
const file = join(RESULTS_DIR, `voice-${new Date().toISOString().slice(0, 10)}${args.quick ? '-quick' : ''}.json`);
writeFileSync(file, JSON.stringify(report, null, 2));
writeFileSync(file.replace(/\.json$/, '.md'), md + '\n');
log(`wrote ${file}`);
