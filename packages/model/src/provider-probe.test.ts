import { ProviderUnavailableError } from './provider-unavailable-error';
import { probeProvider } from './provider-probe';

describe('probeProvider', () => {
  it('creates a session on cpu and reports cpu', async () => {
    await expect(probeProvider('cpu')).resolves.toBe('cpu');
  });

  it.each(['cuda', 'tensorrt'] as const)('%s: rejects with ProviderUnavailableError where it cannot be loaded; with fallback cpu, warns and reports cpu', async (provider) => {
    const strict = await probeProvider(provider).then(
      (p) => p,
      (err: unknown) => err,
    );
    if (strict === provider) return; // a machine with the provider's libraries and a device
    expect(strict).toBeInstanceOf(ProviderUnavailableError);
    expect((strict as ProviderUnavailableError).provider).toBe(provider);
    const warnings: string[] = [];
    await expect(probeProvider(provider, { fallback: 'cpu', onWarning: (m) => warnings.push(m) })).resolves.toBe('cpu');
    expect(warnings[0]).toMatch(new RegExp(`^provider ${provider} unavailable \\(.+\\); falling back$`));
  });

  it('refuses an unknown provider', async () => {
    await expect(probeProvider('gpu' as never)).rejects.toThrow(/^unknown provider gpu; expected one of cpu, cuda, tensorrt$/);
  });
});
