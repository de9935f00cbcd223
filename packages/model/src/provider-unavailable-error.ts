import type { ExecutionProvider } from './inference-thread-protocol';

/** The provider asked for cannot be loaded on this machine and no fallback was allowed. */
export class ProviderUnavailableError extends Error {
  constructor(
    readonly provider: ExecutionProvider,
    reason: string,
  ) {
    super(`execution provider ${provider} cannot be loaded on this machine and no fallback is allowed (${reason})`);
    this.name = 'ProviderUnavailableError';
  }
}
