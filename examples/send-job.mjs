#!/usr/bin/env node
// Send a NIP-90 job to a Timmy instance with nostr-tools (any Nostr client works the same way).
//
//   npm start                                   # in one terminal: relay, agents, DVM, wallet
//   node examples/send-job.mjs ws://127.0.0.1:7777 "Some long text to summarize ..."
//
// It posts a kind 5001 (summarization) request, prints the invoice from the `payment-required`
// feedback and the command that pays it from a test account, then prints the result (kind 6001)
// and the command that rates it (the customer's key is saved to ./customer.nsec for that).
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { nsecEncode } from 'nostr-tools/nip19';

useWebSocketImplementation(WebSocket);

const [url = 'ws://127.0.0.1:7777', ...words] = process.argv.slice(2);
const text =
  words.join(' ') ||
  'Nostr is a simple open protocol for censorship-resistant social media. Users sign events with their keys. ' +
    'Relays store and forward events. Data vending machines sell computation over the same events. ' +
    'A customer posts a job request, service providers answer with feedback and results. ' +
    'Payments travel over Lightning invoices that the provider sends with its feedback.';

const sk = generateSecretKey();
const relay = await Relay.connect(url);
const request = finalizeEvent(
  { kind: 5001, created_at: Math.floor(Date.now() / 1000), content: '', tags: [['i', text, 'text'], ['param', 'max_sentences', '2']] },
  sk,
);

const done = new Promise((resolve) => {
  relay.subscribe([{ kinds: [7000, 6001], '#e': [request.id] }], {
    onevent(e) {
      if (e.kind === 7000) {
        const [, status, info] = e.tags.find((t) => t[0] === 'status') ?? [];
        console.log(`feedback: ${status}${info ? ` (${info})` : ''}`);
        const amount = e.tags.find((t) => t[0] === 'amount');
        if (status === 'payment-required' && amount?.[2]) {
          console.log(`\ninvoice for ${Number(amount[1]) / 1000} sat:\n${amount[2]}\n`);
          console.log('pay it from a test account (in another terminal):');
          console.log('  npx timmy wallet fund customer:demo 100');
          console.log(`  npx timmy wallet pay ${amount[2]} --from customer:demo\n`);
        }
        if (status === 'error') resolve();
      } else {
        console.log(`\nresult from ${e.pubkey.slice(0, 16)}…:\n${e.content}`);
        // The customer's key, so that the customer can rate the job (a NIP-32 label, docs/reputation.md).
        writeFileSync('customer.nsec', nsecEncode(sk) + '\n', { mode: 0o600 });
        console.log(`\nrate it:  npx timmy job rate ${request.id} 5 --key-file customer.nsec`);
        resolve();
      }
    },
  });
});

await relay.publish(request);
console.log(`sent job ${request.id} to ${url}`);
await done;
relay.close();
