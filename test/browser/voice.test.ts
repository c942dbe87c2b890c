// The dashboard's voice button in a real browser (Debian chromium via playwright-core) with
// Chromium's fake microphone playing a WAV made here: the button records (MediaRecorder, WebM/Opus),
// the instance transcribes it (ffmpeg + PocketSphinx), the command runs (POST /api/voice/command)
// and the answer is spoken (POST /voice/speak, played through Web Audio). Without voice the button
// stays hidden. The speech is flite's "rms" voice: PocketSphinx reads it well, espeak-ng's formant
// voice it mostly does not. Screenshots go to test-artifacts/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { onPath } from '../../voice/proc.js';
import { POCKETSPHINX_MODEL_DIR } from '../../voice/engines/pocketsphinx.js';
import { startTestInstance, type TestInstance } from '../support/dvm.js';
import { CHROMIUM, contextWith, launchBrowser, newSigner, screenshot, signIn } from '../support/browser.js';

const missing = [
  ...['flite', 'sox', 'ffmpeg', 'pocketsphinx_continuous', 'espeak-ng'].filter((c) => !onPath(c)),
  ...(existsSync(POCKETSPHINX_MODEL_DIR) ? [] : ['pocketsphinx-en-us']),
  ...(existsSync(CHROMIUM) ? [] : ['chromium']),
];
const skip = missing.length > 0 ? `missing: ${missing.join(', ')} (apt install flite sox ffmpeg pocketsphinx pocketsphinx-en-us espeak-ng chromium)` : false;

const dashboardUrl = (t: TestInstance): string => /dashboard on (\S+)/.exec(t.inst.listeners.join('\n'))![1]!;

describe('voice button in a browser', { skip }, () => {
  let dir: string;
  let wav: string;
  let browser: Browser;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'timmy-voice-browser-'));
    const raw = join(dir, 'raw.wav');
    wav = join(dir, 'status.wav');
    execFileSync('flite', ['-voice', 'rms', '-t', 'what is the status', '-o', raw]);
    // 48 kHz mono 16-bit, with silence around it: the fake device loops the file while recording.
    execFileSync('sox', [raw, '-r', '48000', '-c', '1', '-b', '16', wav, 'pad', '0.5', '3']);
    browser = await launchBrowser({
      args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required'],
    });
  });
  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('records, transcribes, answers the status command and speaks the answer', async () => {
    const t = await startTestInstance({});
    const ctx = await contextWith(browser, newSigner());
    try {
      const page = await ctx.newPage();
      await page.goto(dashboardUrl(t) + '/');
      await signIn(page);
      const button = page.getByRole('button', { name: 'Voice command' });
      await button.waitFor({ state: 'visible', timeout: 30_000 });
      await button.click();
      await page.waitForSelector('#voice-button[aria-pressed="true"]');
      // About one loop of the fake microphone's file (3.9 s).
      await page.waitForTimeout(4500);
      await button.click();
      type Doc = { document: { querySelector(s: string): { textContent: string | null } | null } };
      await page.waitForFunction(() => /status/.test((globalThis as unknown as Doc).document.querySelector('#voice-transcript')?.textContent ?? ''), null, { timeout: 120_000 });
      const heard = await page.locator('#voice-transcript').textContent();
      await page.waitForSelector('#voice-panel[data-intent="status"]', { timeout: 60_000 });
      const answer = await page.locator('#voice-answer').textContent();
      console.log(`heard ${heard}; answered ${answer}`);
      assert.match(answer ?? '', /agents? online.*Jobs:/, answer ?? '');
      // The answer was fetched as WAV from /voice/speak and decoded by the browser.
      await page.waitForSelector('#voice-answer[data-spoken]', { timeout: 60_000 });
      const seconds = Number(await page.locator('#voice-answer').getAttribute('data-spoken'));
      assert.ok(seconds > 0.5, `spoken for ${seconds} s`);
      await screenshot(page, 'voice-status');
    } finally {
      await ctx.close();
      await t.close();
    }
  });

  it('keeps the button hidden when the instance has no voice', async () => {
    const t = await startTestInstance({ voice: { enabled: false } });
    const ctx = await contextWith(browser, newSigner());
    try {
      const page = await ctx.newPage();
      await page.goto(dashboardUrl(t) + '/');
      await signIn(page);
      const info = (await page.evaluate(async () => (await fetch('/voice/info')).json())) as { available: boolean };
      assert.equal(info.available, false);
      // voice.js marks the controls once it has read /voice/info.
      await page.waitForSelector('#voice-controls[data-voice="off"]', { state: 'attached' });
      assert.equal(await page.locator('#voice-button').count(), 1);
      assert.equal(await page.locator('#voice-button').isHidden(), true);
      await screenshot(page, 'voice-hidden');
    } finally {
      await ctx.close();
      await t.close();
    }
  });
});
