// Voice commands understood by the configured language model: asked for one JSON object with the
// intent and slots (voice/nlu.ts's shape), checked field by field. The rules stay behind it: when the
// model is unreachable, slow, or answers something that is not a known intent, the rules decide.
// The rules also go first when they are sure (an anchored pattern), which costs no model call.
import type { TextGenerator } from './skills/generate.js';
import { checkIntent, INTENTS, parseIntent, type Intent, type IntentRouter } from '../voice/nlu.js';

const SYSTEM = `You turn a spoken command for a dashboard of AI agents into JSON. Answer with ONE JSON object and nothing else:
{"intent": one of ${JSON.stringify(INTENTS)}, "slots": {...}, "confidence": 0..1}
Slots: for "submit": "kind" (5001 summarize, 5002 translate, 5050 generate text, 5302 search notes, 5250 speak) and "text", plus "language" (ISO 639-1) for 5002; for "show-agent": "agent" (a name); for "approve" and "status" of one job: "job" (hex id prefix or "latest").`;

export interface LlmIntentRouterOptions {
  /** Rules at or above this confidence are taken without asking the model (default 0.9). */
  readonly trustRulesAbove?: number;
  /** How long the model may take (default 8 s). */
  readonly timeoutMs?: number;
}

/** The first {...} in a model's answer (models wrap JSON in prose or code fences). */
export function firstJsonObject(text: string): unknown {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return undefined;
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

export function llmIntentRouter(llm: TextGenerator, o: LlmIntentRouterOptions = {}): IntentRouter {
  const trust = o.trustRulesAbove ?? 0.9;
  return {
    async detect(utterance, opts = {}) {
      const rules = parseIntent(utterance);
      if (rules.confidence >= trust || !utterance.trim()) return rules;
      const signal = AbortSignal.any([AbortSignal.timeout(o.timeoutMs ?? 8000), ...(opts.signal ? [opts.signal] : [])]);
      try {
        const r = await llm.generate({ messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: utterance.slice(0, 2000) }], maxTokens: 200, temperature: 0 }, signal);
        const got: Intent | undefined = checkIntent(firstJsonObject(r.text));
        if (!got || (got.intent === 'unknown' && rules.intent !== 'unknown')) return rules;
        return { ...got, source: 'llm' };
      } catch {
        return rules;
      }
    },
  };
}
