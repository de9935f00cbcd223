import type { ExecutionProvider } from './inference-thread-protocol';

/** Providers to try, best first, when a fallback is allowed: each falls back to the next with a warning. */
export const FALLBACKS: Record<ExecutionProvider, ExecutionProvider[]> = {
  tensorrt: ['tensorrt', 'cuda', 'cpu'],
  cuda: ['cuda', 'cpu'],
  cpu: ['cpu'],
};
