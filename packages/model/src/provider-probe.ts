import { FALLBACKS } from './provider-fallbacks';
import { InferenceThread } from './inference-thread-client';
import type { ExecutionProvider } from './inference-thread-protocol';
import { OnnxGraphBuilder } from './onnx-graph-builder';

export interface ProbeOptions {
  /** As InferenceOptions.fallback: `'cpu'` allows falling back (with a warning). Default none. */
  fallback?: 'cpu';
  /** Receives the fallback warnings. Default: ignored. */
  onWarning?: (msg: string) => void;
}

/**
 * Creates a session of a one-node graph (Identity) on `provider`, on its own thread as the
 * engine does, and releases it: resolves to the provider in use, or rejects with a
 * ProviderUnavailableError when the provider cannot be loaded and no fallback is allowed. A
 * process that has no model to load yet asserts its accelerator at start with this.
 */
export async function probeProvider(provider: ExecutionProvider, options: ProbeOptions = {}): Promise<ExecutionProvider> {
  if (!(provider in FALLBACKS)) throw new Error(`unknown provider ${String(provider)}; expected one of cpu, cuda, tensorrt`);
  const g = new OnnxGraphBuilder({ channels: 1, graphName: 'provider-probe' });
  g.output(g.input);
  const bytes = g.build();
  const model = new Uint8Array(bytes).buffer;
  const { thread, provider: inUse } = await InferenceThread.start(
    { model, source: `provider probe (${provider})`, providers: options.fallback === 'cpu' ? FALLBACKS[provider] : [provider], intraOpThreads: 1 },
    { onWarning: options.onWarning ?? ((): void => undefined) },
  );
  await thread.close();
  return inUse;
}
