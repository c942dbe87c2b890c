// The LLM router: providers in the operator's order, each behind its own circuit breaker. A request
// goes to the first provider whose circuit lets it through; a failure is recorded and the next one
// is tried. When none answers, the job fails with a SkillError that names what was tried and why,
// which the DVM turns into NIP-90 `error` feedback. Nothing waits longer than the providers' timeouts.
import { SkillError } from '../../dvm/skill.js';
import { inSpan } from '../../dvm/tracing.js';
import { CircuitBreaker, CIRCUIT_STATE_VALUE, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js';
import type { GenerateRequest, GenerateResult, LlmProvider } from './provider.js';

export interface ProviderStatus {
  readonly provider: string;
  readonly endpoint: string;
  readonly state: CircuitState;
  /** CIRCUIT_STATE_VALUE[state], for a `timmy_llm_circuit_state{provider}` gauge. */
  readonly stateValue: number;
  readonly consecutiveFailures: number;
  /** The last failure's reason, if the last request failed. */
  readonly lastError?: string;
  /** Milliseconds until an open circuit lets a trial request through. */
  readonly retryInMs: number;
}

/** One request to one provider, as the router saw it (for metrics: no prompt, no job id). */
export interface LlmRequestInfo {
  readonly provider: string;
  /** The model that answered (success only). */
  readonly model?: string;
  /** From sending the request to the answer or the failure. */
  readonly ms: number;
  readonly ok: boolean;
  readonly tokensIn?: number;
  readonly tokensOut?: number;
}

export interface LlmRouterOptions extends CircuitBreakerOptions {
  /** Told about each provider failure (for logs); the message never carries credentials. */
  onProviderError?(provider: string, reason: string): void;
  /** Told about each request a provider answered or failed (not those cut short by the caller's signal). */
  onRequest?(e: LlmRequestInfo): void;
}

interface Slot {
  readonly provider: LlmProvider;
  readonly breaker: CircuitBreaker;
  lastError?: string;
}

const pickTokens = (r: GenerateResult): { tokensIn?: number; tokensOut?: number } => ({
  ...(r.tokensIn !== undefined ? { tokensIn: r.tokensIn } : {}),
  ...(r.tokensOut !== undefined ? { tokensOut: r.tokensOut } : {}),
});

const NEVER: AbortSignal = new AbortController().signal;

/** One provider call in a `timmy.llm` span, a child of the active one (the job's timmy.skill; dvm/tracing.ts). */
function traced(provider: LlmProvider, req: GenerateRequest, signal: AbortSignal): Promise<GenerateResult> {
  const attrs = {
    'gen_ai.operation.name': 'chat',
    'timmy.llm.provider': provider.name,
    'timmy.llm.endpoint': provider.endpoint,
    ...(req.model ? { 'gen_ai.request.model': req.model } : {}),
    ...(req.maxTokens !== undefined ? { 'gen_ai.request.max_tokens': req.maxTokens } : {}),
  };
  return inSpan('timmy.llm', attrs, async (span) => {
    const out = await provider.generate(req, signal);
    span.setAttribute('gen_ai.response.model', out.model);
    if (out.tokensIn !== undefined) span.setAttribute('gen_ai.usage.input_tokens', out.tokensIn);
    if (out.tokensOut !== undefined) span.setAttribute('gen_ai.usage.output_tokens', out.tokensOut);
    return out;
  });
}

export class LlmRouter {
  private readonly slots: Slot[];

  constructor(
    providers: readonly LlmProvider[],
    private readonly opts: LlmRouterOptions = {},
  ) {
    const names = new Set<string>();
    for (const p of providers) {
      if (names.has(p.name)) throw new Error(`two LLM providers are named ${p.name}`);
      names.add(p.name);
    }
    this.slots = providers.map((provider) => ({ provider, breaker: new CircuitBreaker(opts) }));
  }

  /**
   * Asks the providers in order. Rejects with SkillError when none could answer, or with the
   * signal's reason when the signal aborts (the job was cancelled: no provider is blamed).
   */
  async generate(req: GenerateRequest, signal: AbortSignal = NEVER): Promise<GenerateResult> {
    if (this.slots.length === 0) throw new SkillError('no language model is configured on this instance');
    const tried: string[] = [];
    for (const slot of this.slots) {
      signal.throwIfAborted();
      const { provider, breaker } = slot;
      if (!breaker.tryAcquire()) {
        const wait = Math.ceil(breaker.retryInMs() / 1000);
        tried.push(`${provider.name} (circuit open${wait > 0 ? `, retry in ${wait} s` : ', trial in progress'})`);
        continue;
      }
      const started = performance.now();
      try {
        const out = await traced(provider, req, signal);
        breaker.onSuccess();
        slot.lastError = undefined;
        this.told({ provider: provider.name, model: out.model, ms: performance.now() - started, ok: true, ...pickTokens(out) });
        return out;
      } catch (err) {
        if (signal.aborted) {
          breaker.release();
          throw signal.reason ?? err;
        }
        const reason = err instanceof Error ? err.message : String(err);
        breaker.onFailure();
        slot.lastError = reason;
        tried.push(`${provider.name} at ${provider.endpoint} (${reason})`);
        this.opts.onProviderError?.(provider.name, reason);
        this.told({ provider: provider.name, ms: performance.now() - started, ok: false });
      }
    }
    throw new SkillError(`no language model is reachable: tried ${tried.join('; ')}`);
  }

  /** An observer's failure must not fail the job. */
  private told(e: LlmRequestInfo): void {
    try {
      this.opts.onRequest?.(e);
    } catch {
      // metrics are best effort
    }
  }

  /** One entry per provider, in order: circuit state and the last failure, for the dashboard and metrics. */
  status(): ProviderStatus[] {
    return this.slots.map(({ provider, breaker, lastError }) => ({
      provider: provider.name,
      endpoint: provider.endpoint,
      state: breaker.state,
      stateValue: CIRCUIT_STATE_VALUE[breaker.state],
      consecutiveFailures: breaker.consecutiveFailures,
      retryInMs: breaker.retryInMs(),
      ...(lastError !== undefined ? { lastError } : {}),
    }));
  }
}
