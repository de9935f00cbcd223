import { InferenceEngine, type InferenceOptions } from '@fleet/model';

/**
 * One inference session per model per process, created on first use: sessions are costly
 * (weights, memory arenas, GPU context) and shared by every run that uses the model.
 */
export class ModelEngines {
  private readonly engines = new Map<string, Promise<InferenceEngine>>();

  constructor(private readonly options: InferenceOptions) {}

  get(location: string): Promise<InferenceEngine> {
    let engine = this.engines.get(location);
    if (!engine) {
      engine = InferenceEngine.load(location, this.options);
      engine.catch(() => this.engines.delete(location));
      this.engines.set(location, engine);
    }
    return engine;
  }

  async close(): Promise<void> {
    const all = [...this.engines.values()];
    this.engines.clear();
    await Promise.all(all.map((e) => e.then((x) => x.close()).catch(() => undefined)));
  }
}
