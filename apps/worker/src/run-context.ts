import type { RunGeometry, WindowPlan } from '@fleet/grid';
import { geometryOf, RunState, type RunSpec } from '@fleet/jobs';
import { MosaicReader } from '@fleet/raster';
import { openStore, type ObjectStore } from '@fleet/storage';
import type IORedis from 'ioredis';

/** What a worker keeps per run it serves: the spec, its stores, open input files. */
export interface RunContext {
  spec: RunSpec;
  plan: WindowPlan;
  /** Groups, the windows of a group, the blocks a window feeds. */
  geometry: RunGeometry;
  state: RunState;
  output: ObjectStore;
  reader: MosaicReader;
}

/**
 * Per-run contexts, built on the first job of a run and reused for every later one (a
 * worker serves ~10^4 windows of the same run, and re-opening inputs per window would cost
 * more than the read itself). Only a few runs are kept.
 */
export class RunContexts {
  private readonly contexts = new Map<string, Promise<RunContext>>();

  constructor(private readonly redis: IORedis, private readonly prefix: string, private readonly keep = 4) {}

  get(runId: string): Promise<RunContext> {
    let ctx = this.contexts.get(runId);
    if (!ctx) {
      ctx = this.build(runId);
      ctx.catch(() => this.contexts.delete(runId));
      this.contexts.set(runId, ctx);
      if (this.contexts.size > this.keep) {
        const [oldest] = this.contexts.keys();
        const evicted = this.contexts.get(oldest!)!;
        this.contexts.delete(oldest!);
        void evicted.then((c) => c.reader.close()).catch(() => undefined);
      }
    }
    return ctx;
  }

  private async build(runId: string): Promise<RunContext> {
    const state = new RunState(this.redis, this.prefix, runId);
    const spec = await state.spec();
    if (!spec) throw new Error(`run ${runId} has no spec in Redis (was it enqueued with the same FLEET_QUEUE_PREFIX?)`);
    const geometry = geometryOf(spec);
    const reader = new MosaicReader(spec.sources.map((s) => ({ role: s.role, store: openStore(s.location), dalles: s.dalles })));
    return { spec, plan: geometry.plan, geometry, state, output: openStore(spec.output), reader };
  }

  async close(): Promise<void> {
    const all = [...this.contexts.values()];
    this.contexts.clear();
    await Promise.all(all.map((c) => c.then((x) => x.reader.close()).catch(() => undefined)));
  }
}
