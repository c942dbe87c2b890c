// The always-available engines on real audio. THE FIXED SYNTHETIC SET: every sentence of
// voice/testdata/sentences.txt is spoken by flite and by espeak-ng and transcribed by PocketSphinx;
// the mean word error rate per TTS engine must stay under a bound measured on this machine with a
// margin (flite 0.06, espeak-ng 0.83 measured: PocketSphinx's acoustic model hears flite's `slt`
// voice much better than espeak-ng's formant synthesis). The figures are printed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { VoiceError, type TtsEngine } from '../engine.js';
import { mapLimit, onPath } from '../proc.js';
import { duration, join, sentences, silence } from '../testing.js';
import { wer } from '../wer.js';
import { EspeakEngine, parseVoiceList } from './espeak.js';
import { FliteEngine } from './flite.js';
import { isEnglish, parsePocketSphinx, PocketSphinxEngine } from './pocketsphinx.js';

const have = (...tools: string[]) => tools.every((t) => onPath(t) !== undefined);
const is = (status: number) => (e: unknown) => e instanceof VoiceError && e.status === status;

/** Bounds on the mean WER of the fixed set, per TTS engine (measured: flite 0.058, espeak-ng 0.835). */
const WER_BOUND: Record<string, number> = { flite: 0.25, 'espeak-ng': 0.95 };

describe('PocketSphinx output parsing', () => {
  it('turns `-time yes` output into one segment per utterance, without fillers or alternates', () => {
    const out = ['the weather is nice', '<s> 0.000 0.180 1.000100', 'the(2) 0.190 0.310 0.093212', 'weather 0.320 0.650 0.046820', '<sil> 0.66 0.70 1.0', 'is 0.700 0.900 0.5', '[NOISE] 0.9 1.0 1', 'nice 1.000 1.400 0.2', '</s> 1.410 1.500 1.000000', 'today', '<s> 2.000 2.100 1.0', 'today 2.100 2.600 0.9', '</s> 2.6 2.7 1', ''].join('\n');
    assert.deepEqual(parsePocketSphinx(out), [
      { start: 0.19, end: 1.4, text: 'the weather is nice' },
      { start: 2.1, end: 2.6, text: 'today' },
    ]);
    assert.deepEqual(parsePocketSphinx(''), []);
  });

  it('knows English tags', () => {
    for (const l of [undefined, '', 'en', 'EN', 'en-US', 'en_GB']) assert.equal(isEnglish(l), true, String(l));
    for (const l of ['de', 'fr-FR', 'eng-x', 'english']) assert.equal(isEnglish(l), false, l);
  });

  it('parses espeak-ng --voices', () => {
    const out = 'Pty Language       Age/Gender VoiceName          File                 Other Languages\n 5  af              --/M      Afrikaans          gmw/af\n 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)\n';
    assert.deepEqual(parseVoiceList(out), ['af', 'en-us']);
  });
});

describe('Debian engines on real audio', { skip: have('pocketsphinx_continuous', 'espeak-ng', 'flite') ? false : 'needs pocketsphinx, pocketsphinx-en-us, espeak-ng and flite (apt)' }, () => {
  const ps = new PocketSphinxEngine();

  it('reports themselves available, and unavailable with a reason when the binary is missing', async () => {
    for (const e of [ps, new EspeakEngine(), new FliteEngine()]) {
      const i = await e.info();
      assert.equal(i.available, true, `${e.id}: ${i.detail}`);
      assert.equal(i.family, 'system');
    }
    const missing = await new PocketSphinxEngine({ binary: 'no-such-pocketsphinx' }).info();
    assert.equal(missing.available, false);
    assert.match(missing.detail, /not found.*apt install/);
    assert.equal((await new PocketSphinxEngine({ modelDir: '/nonexistent' }).info()).available, false);
    assert.equal((await new FliteEngine({ binary: 'no-such-flite' }).info()).available, false);
  });

  it('THE FIXED SYNTHETIC SET: flite and espeak-ng spoken, PocketSphinx transcribed, mean WER under the bound', { timeout: 600_000 }, async () => {
    const set = sentences();
    assert.ok(set.length >= 10 && set.length <= 15, `${set.length} sentences`);
    const engines: TtsEngine[] = [new FliteEngine(), new EspeakEngine()];
    const lines: string[] = [`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores`];
    for (const tts of engines) {
      const t0 = performance.now();
      const clips = [];
      for (const text of set) clips.push(await tts.synthesize(text));
      const ttsSec = (performance.now() - t0) / 1000;
      const audioSec = clips.reduce((s, c) => s + duration(c), 0);
      const t1 = performance.now();
      const heard = await mapLimit(clips, 2, async (clip) => (await ps.transcribe(clip, { language: 'en' })).text);
      const sttSec = (performance.now() - t1) / 1000;
      const rows = set.map((text, i) => ({ text, heard: heard[i]!, wer: wer(text, heard[i]!) }));
      const mean = rows.reduce((s, r) => s + r.wer, 0) / rows.length;
      lines.push(`${tts.id}: mean WER ${mean.toFixed(3)} over ${rows.length} sentences (bound ${WER_BOUND[tts.id]}); ${audioSec.toFixed(1)} s of speech; TTS ${(audioSec / ttsSec).toFixed(0)}x real time; PocketSphinx RTF ${(sttSec / audioSec).toFixed(2)} (wall clock, 2 at a time)`);
      for (const r of rows.filter((x) => x.wer > 0)) lines.push(`  ${r.wer.toFixed(2)}  "${r.text}" -> "${r.heard}"`);
      assert.ok(mean < WER_BOUND[tts.id]!, `${tts.id}: mean WER ${mean.toFixed(3)}`);
    }
    console.log(lines.join('\n'));
  });

  it('gives word times: a sentence after 1 s of silence starts after about 1 s', async () => {
    const speech = await new FliteEngine().synthesize('please open the door');
    const r = await ps.transcribe(join([silence(1), speech, silence(0.5)]));
    assert.match(r.text, /open the/);
    assert.equal(r.engine, 'pocketsphinx');
    const first = r.segments[0]!;
    assert.ok(first.start > 0.8 && first.start < 1.5 && first.end <= duration(speech) + 1.6, JSON.stringify(r.segments));
  });

  it('refuses other languages with 422 and kills the child on abort', async () => {
    await assert.rejects(ps.transcribe(silence(1), { language: 'de' }), is(422));
    const long = join(Array.from({ length: 30 }, () => silence(2)));
    const ac = new AbortController();
    const p = ps.transcribe(long, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('client went away')), 50);
    await assert.rejects(p, /client went away/);
  });

  it('espeak-ng maps languages to voices; flite speaks English only', async () => {
    const es = new EspeakEngine();
    assert.equal(await es.voiceFor({ language: 'en' }), 'en-us');
    assert.equal(await es.voiceFor({ language: 'de-DE' }), 'de');
    assert.equal(await es.voiceFor({ language: 'fr' }), 'fr-fr');
    await assert.rejects(es.voiceFor({ language: 'xx-nowhere' }), is(422));
    await assert.rejects(es.voiceFor({ voice: '--help' }), is(400));
    const de = await es.synthesize('Guten Tag', { language: 'de' });
    assert.ok(duration(de) > 0.3 && de.sampleRate === 22050);
    // A text starting with "-" is text, not an option (stdin / -f file).
    assert.ok(duration(await es.synthesize('-v is not an option here')) > 0.5);
    assert.ok(duration(await new FliteEngine().synthesize('--help me')) > 0.3);
    await assert.rejects(new FliteEngine().synthesize('bonjour', { language: 'fr' }), is(422));
    await assert.rejects(new FliteEngine().synthesize('hello', { voice: 'nosuchvoice' }), is(422));
  });
});
