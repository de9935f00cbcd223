import { InferenceEngine, type InferenceOptions } from '@fleet/model';

/**
 * One inference session per (model, top-k) per process, created on first use: sessions are
 * costly (weights, memory arenas, GPU context, a thread) and shared by every run that uses the
 * model with that k. k is part of the key because the wrapped graph computes the top-k itself.
 */
export class ModelEngines {
  private readonly engines = new Map<string, Promise<InferenceEngine>>();

  constructor(private readonly options: Omit<InferenceOptions, 'topK'>) {}

  /** The top-k a run asks for unless it says otherwise, and the one FLEET_MODEL is preloaded with. */
  static readonly DEFAULT_TOP_K = 2;

  get(location: string, topK: number): Promise<InferenceEngine> {
    const key = JSON.stringify([location, topK]);
    let engine = this.engines.get(key);
    if (!engine) {
      engine = InferenceEngine.load(location, { ...this.options, topK });
      engine.catch(() => this.engines.delete(key));
      this.engines.set(key, engine);
    }
    return engine;
  }

  async close(): Promise<void> {
    const all = [...this.engines.values()];
    this.engines.clear();
    await Promise.all(all.map((e) => e.then((x) => x.close()).catch(() => undefined)));
  }
}
