// NDK (a client we did not write) set up for Node 20 tests: a WebSocket global, and a fix for
// NDK 2.14's never-cleared 30 s timer per relay (a process that used NDK would never exit).
import WebSocket from 'ws';
import NDK, { NDKPrivateKeySigner, NDKRelay, NDKRelayAuthPolicies } from '@nostr-dev-kit/ndk';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Keys } from './relay.js';

(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

type RatioRelay = {
  validationRatioFn?: (r: unknown, validated: number, nonValidated: number) => number;
  validatedEventCount: number;
  nonValidatedEventCount: number;
  targetValidationRatio?: number;
  updateValidationRatio(): void;
};
(NDKRelay.prototype as unknown as RatioRelay).updateValidationRatio = function (this: RatioRelay) {
  if (this.validationRatioFn && this.validatedEventCount > 0)
    this.targetValidationRatio = this.validationRatioFn(this, this.validatedEventCount, this.nonValidatedEventCount);
  setTimeout(() => this.updateValidationRatio(), 30_000).unref();
};

export function ndkFor(url: string, k: Keys, auth = false): NDK {
  const ndk = new NDK({
    explicitRelayUrls: [url],
    signer: new NDKPrivateKeySigner(bytesToHex(k.sk)),
    autoConnectUserRelays: false,
    autoFetchUserMutelist: false,
  });
  // signIn needs the NDK instance (without it, it waits for a signer forever).
  if (auth) ndk.relayAuthDefaultPolicy = NDKRelayAuthPolicies.signIn({ ndk });
  return ndk;
}

export function disconnectNdk(ndk: NDK): void {
  for (const r of ndk.pool.relays.values()) r.disconnect();
}
