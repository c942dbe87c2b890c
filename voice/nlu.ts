// Intent detection for spoken commands on the dashboard: what the user wants (status, submit a job,
// show an agent, approve a job, help) and the pieces of the sentence that say how (the slots).
// Rule-based: transcripts from PocketSphinx are lowercase, unpunctuated and sometimes wrong, so the
// rules look for a few anchor words and take the rest of the sentence as the job's text. An LLM
// router can replace the rules when one is configured (agents/voice-intents.ts), behind the same
// IntentRouter interface, and falls back to these rules when the model does not answer.

export const INTENTS = ['status', 'submit', 'show-agent', 'approve', 'help', 'unknown'] as const;
export type IntentName = (typeof INTENTS)[number];

export interface IntentSlots {
  /** submit: the NIP-90 request kind. */
  kind?: number;
  /** submit: the text the job works on. */
  text?: string;
  /** submit 5002: target language, ISO 639-1. */
  language?: string;
  /** show-agent: the agent's name as spoken. */
  agent?: string;
  /** approve / status: a job id prefix (hex), or "latest". */
  job?: string;
}

export interface Intent {
  readonly intent: IntentName;
  readonly slots: IntentSlots;
  /** 0..1: how sure the router is (rules: 0.9 for an anchored pattern, 0.6 for a keyword, 0 unknown). */
  readonly confidence: number;
  /** Which router decided ("rules", "llm"). */
  readonly source?: string;
}

/** Anything that turns an utterance into an intent (the rules below, or an LLM with the rules behind it). */
export interface IntentRouter {
  detect(utterance: string, o?: { signal?: AbortSignal }): Promise<Intent>;
}

export const SUMMARIZE = 5001;
export const TRANSLATE = 5002;
export const GENERATE = 5050;
export const SEARCH = 5302;
export const SPEAK = 5250;

/** Spoken language names to ISO 639-1. */
export const LANGUAGES: Readonly<Record<string, string>> = {
  english: 'en',
  french: 'fr',
  german: 'de',
  spanish: 'es',
  italian: 'it',
  portuguese: 'pt',
  dutch: 'nl',
  russian: 'ru',
  japanese: 'ja',
  chinese: 'zh',
  mandarin: 'zh',
  korean: 'ko',
  arabic: 'ar',
  hindi: 'hi',
  polish: 'pl',
  swedish: 'sv',
  greek: 'el',
  turkish: 'tr',
};

const DIGITS: Readonly<Record<string, string>> = {
  zero: '0', oh: '0', one: '1', two: '2', to: '2', too: '2', three: '3', four: '4', for: '4', five: '5',
  six: '6', seven: '7', eight: '8', nine: '9', a: 'a', b: 'b', c: 'c', d: 'd', e: 'e', f: 'f',
  bee: 'b', be: 'b', see: 'c', sea: 'c', dee: 'd', ee: 'e', eff: 'f', ef: 'f',
};

/** Lowercase, punctuation (but not the colon after a command) to spaces, spaces collapsed. */
export function normalize(utterance: string): string {
  return utterance
    .toLowerCase()
    .replace(/[’']/g, "'")
    .replace(/[^a-z0-9:' -]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A job reference as spoken: "latest", a hex id, or spelled digits/letters ("a b three one"). */
export function parseJobRef(words: string): string | undefined {
  const w = words.replace(/^(number|id|with id|called)\s+/, '').trim();
  if (/^(the )?(latest|last|newest|next|first|oldest|pending|waiting)( one)?$/.test(w) || w === '') return w === '' ? undefined : 'latest';
  const compact = w.replace(/\s+/g, '');
  if (/^[0-9a-f]{4,64}$/.test(compact)) return compact;
  const spelled = w.split(' ').map((x) => DIGITS[x] ?? (/^[0-9a-f]+$/.test(x) ? x : undefined));
  if (spelled.every((x) => x !== undefined) && spelled.join('').length >= 1) return spelled.join('');
  return undefined;
}

const clean = (s: string | undefined): string => (s ?? '').replace(/^[:\s-]+|[\s:]+$/g, '').trim();

const intent = (name: IntentName, slots: IntentSlots, confidence: number): Intent => ({ intent: name, slots, confidence, source: 'rules' });

interface Rule {
  readonly re: RegExp;
  readonly make: (m: RegExpExecArray) => Intent | undefined;
}

// Order matters: the first rule that matches and makes an intent wins. The anchored command forms
// come first; bare keywords last, with a lower confidence.
const RULES: readonly Rule[] = [
  { re: /^(help|what can (you|i) (do|say|ask)|what are (the|my) (commands|options)|how does this work|commands)\b/, make: () => intent('help', {}, 0.9) },
  {
    re: /^(please )?(approve|accept|okay|ok|confirm)( the)? job\s*(.*)$/,
    make: (m) => {
      const job = parseJobRef(clean(m[4]));
      return intent('approve', job ? { job } : {}, job ? 0.9 : 0.7);
    },
  },
  {
    re: /^(please )?approve (the )?(latest|last|next|first|pending|waiting)( one| job)?$/,
    make: () => intent('approve', { job: 'latest' }, 0.85),
  },
  {
    re: /^(please )?(show|open|display|find|go to)( me)?( the)? agent (called |named )?([a-z0-9_-]+)/,
    make: (m) => intent('show-agent', { agent: m[6]! }, 0.9),
  },
  { re: /^(who is|tell me about|show me) ([a-z0-9_-]+) the agent$/, make: (m) => intent('show-agent', { agent: m[2]! }, 0.8) },
  { re: /^(show|open)( me)? ([a-z0-9_-]+)'?s? (profile|page)$/, make: (m) => intent('show-agent', { agent: m[3]! }, 0.75) },
  {
    re: /^(please )?translate (this|the following|the text)?\s*:?\s*(.+?)\s+(in|into|to)\s+([a-z]+)$/,
    make: (m) => {
      const lang = LANGUAGES[m[5]!] ?? (/^[a-z]{2}$/.test(m[5]!) ? m[5]! : undefined);
      const text = clean(m[3]);
      if (!lang || !text) return undefined;
      return intent('submit', { kind: TRANSLATE, text, language: lang }, 0.9);
    },
  },
  {
    re: /^(please )?translate (this |the following |the text )?(in|into|to) ([a-z]+)\s*:?\s*(.+)$/,
    make: (m) => {
      const lang = LANGUAGES[m[4]!];
      const text = clean(m[5]);
      return lang && text ? intent('submit', { kind: TRANSLATE, text, language: lang }, 0.85) : undefined;
    },
  },
  {
    re: /^(please )?(summarize|summarise|sum up|give me a summary of|make a summary of)( this| the following| the text)?\s*:?\s*(.+)$/,
    make: (m) => intent('submit', { kind: SUMMARIZE, text: clean(m[4]) }, 0.9),
  },
  {
    re: /^(please )?(search|look)( the)?( notes| events| nostr)?( for| up)\s+(notes |posts )?(about |on |with )?(.+)$/,
    make: (m) => intent('submit', { kind: SEARCH, text: clean(m[8]) }, 0.9),
  },
  { re: /^(please )?find (notes|posts|events) (about|on|with|for|mentioning) (.+)$/, make: (m) => intent('submit', { kind: SEARCH, text: clean(m[4]) }, 0.9) },
  {
    re: /^(please )?(generate|write|compose|draft)( some| a| an)?( text| story| poem| paragraph| note)?( about| on| for| saying|:)?\s*(.+)$/,
    make: (m) => intent('submit', { kind: GENERATE, text: clean(m[6]) }, m[4] || m[2] === 'generate' ? 0.9 : 0.75),
  },
  { re: /^(please )?(say|speak|read) (this |aloud |out loud )*:?\s*(.+)$/, make: (m) => intent('submit', { kind: SPEAK, text: clean(m[4]) }, 0.7) },
  {
    re: /^(please )?(submit|send|create|start|run)( a| an| the)?( new)? job( of)?( kind)? (\d{4})( with| for| on)?( the)?( text)?\s*:?\s*(.*)$/,
    make: (m) => {
      const kind = Number(m[7]);
      const text = clean(m[11]);
      return intent('submit', text ? { kind, text } : { kind }, text ? 0.9 : 0.6);
    },
  },
  {
    re: /^(what is|what's|whats|show|tell me|give me|how is|how's)( me)?( the)? (status|state|situation|overview)( of (the )?job (.+)| of (the )?(system|swarm|instance|agents))?$/,
    make: (m) => {
      const job = m[7] ? parseJobRef(clean(m[7])) : undefined;
      return intent('status', job ? { job } : {}, 0.9);
    },
  },
  { re: /^(status|status report|system status|how are (things|we doing)|how is (it|everything) going|what is going on|what's going on|what's happening|what is happening)$/, make: () => intent('status', {}, 0.9) },
];

// Bare keywords: a command word somewhere in the sentence, when no pattern matched.
const KEYWORDS: readonly [RegExp, (s: string) => Intent][] = [
  [/\b(help|commands)\b/, () => intent('help', {}, 0.6)],
  [/\bapprove\b/, (s) => {
    const m = /\bapprove\b(?: the)?(?: job)?\s*(.*)$/.exec(s);
    const job = m ? parseJobRef(clean(m[1])) : undefined;
    return intent('approve', job ? { job } : {}, 0.6);
  }],
  [/\bstatus\b/, () => intent('status', {}, 0.6)],
  [/\bagent\b/, (s) => {
    const m = /\bagent (called |named )?([a-z0-9_-]+)/.exec(s);
    return intent('show-agent', m ? { agent: m[2]! } : {}, m ? 0.6 : 0.4);
  }],
  [/\b(summarize|summarise|summary)\b/, (s) => intent('submit', { kind: SUMMARIZE, text: clean(s.replace(/^.*?\b(summarize|summarise|summary)\b( of)?( this)?/, '')) }, 0.6)],
];

/** The rules on one utterance (synchronous; the IntentRouter below wraps it). */
export function parseIntent(utterance: string): Intent {
  const s = normalize(utterance);
  if (!s) return intent('unknown', {}, 0);
  for (const r of RULES) {
    const m = r.re.exec(s);
    if (!m) continue;
    const i = r.make(m);
    if (i && (i.intent !== 'submit' || i.slots.text !== '' || i.slots.kind !== undefined)) return i;
  }
  for (const [re, make] of KEYWORDS) if (re.test(s)) return make(s);
  return intent('unknown', {}, 0);
}

export const ruleIntentRouter = (): IntentRouter => ({ detect: async (u) => parseIntent(u) });

/** Checks an intent that came from elsewhere (an LLM's JSON): known name, slots of the right types. */
export function checkIntent(value: unknown): Intent | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.intent !== 'string' || !(INTENTS as readonly string[]).includes(v.intent)) return undefined;
  const raw = (v.slots && typeof v.slots === 'object' ? v.slots : {}) as Record<string, unknown>;
  const slots: IntentSlots = {};
  if (typeof raw.kind === 'number' && Number.isInteger(raw.kind) && raw.kind >= 5000 && raw.kind <= 5999) slots.kind = raw.kind;
  else if (typeof raw.kind === 'string' && /^5\d{3}$/.test(raw.kind)) slots.kind = Number(raw.kind);
  if (typeof raw.text === 'string' && raw.text.trim()) slots.text = raw.text.trim();
  if (typeof raw.language === 'string' && /^[a-z]{2,3}$/.test(raw.language)) slots.language = raw.language;
  if (typeof raw.agent === 'string' && /^[a-z0-9_-]{1,64}$/i.test(raw.agent)) slots.agent = raw.agent.toLowerCase();
  if (typeof raw.job === 'string') {
    const job = parseJobRef(raw.job.toLowerCase());
    if (job) slots.job = job;
  }
  const c = typeof v.confidence === 'number' && v.confidence >= 0 && v.confidence <= 1 ? v.confidence : 0.8;
  return { intent: v.intent as IntentName, slots, confidence: c };
}
