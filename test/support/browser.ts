// Browser tests: Debian's chromium driven by playwright-core (headless, --no-sandbox), with a
// NIP-07 signer injected into every page (`window.nostr`, backed by a key in this test process),
// and screenshots kept as artifacts under $TIMMY_ARTIFACTS (default: test-artifacts/, not committed).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { finalizeEvent, generateSecretKey, getPublicKey } from '../../nostr/verify.js';
import type { EventTemplate } from '../../nostr/verify.js';
import { ROOT } from './cli.js';

export const CHROMIUM = process.env.TIMMY_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = process.env.TIMMY_ARTIFACTS ?? join(ROOT, 'test-artifacts');

/** `args`: extra Chromium switches (e.g. the fake microphone of test/browser/voice.test.ts). */
export async function launchBrowser(o: { args?: readonly string[] } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); npm test does it when run as root`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', ...(o.args ?? [])] });
}

export interface Signer {
  readonly sk: Uint8Array;
  readonly pubkey: string;
  /** What the page asked to sign, in order. */
  readonly signed: EventTemplate[];
}

export const newSigner = (): Signer => {
  const sk = generateSecretKey();
  return { sk, pubkey: getPublicKey(sk), signed: [] };
};

/**
 * A browser context whose pages have `window.nostr` (NIP-07: getPublicKey, signEvent) signing with
 * `signer`'s key; without a signer the pages have no extension.
 */
export async function contextWith(browser: Browser, signer?: Signer, o: { viewport?: { width: number; height: number } } = {}): Promise<BrowserContext> {
  const ctx = await browser.newContext({ viewport: o.viewport ?? { width: 1280, height: 900 } });
  if (signer) {
    await ctx.exposeBinding('__timmyTestSign', (_src, t: EventTemplate) => {
      signer.signed.push(t);
      return finalizeEvent(t, signer.sk);
    });
    await ctx.addInitScript((pubkey: string) => {
      const sign = (globalThis as unknown as { __timmyTestSign: (t: unknown) => Promise<unknown> }).__timmyTestSign;
      (globalThis as unknown as { nostr: unknown }).nostr = {
        getPublicKey: async () => pubkey,
        signEvent: async (t: unknown) => sign(t),
      };
    }, signer.pubkey);
  }
  return ctx;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Signs in through the page's button (NIP-07 + NIP-98) and waits for the reload. */
export async function signIn(page: Page): Promise<void> {
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Sign in with Nostr' }).click()]);
}
