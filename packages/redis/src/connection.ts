// the narrow entry: connecting must not load pino (fleet status starts fast: BENCHMARKS.md, "CLI start")
import { redactUrl } from '@fleet/logging/redact-url';
import IORedis, { type RedisOptions } from 'ioredis';

/**
 * A Redis connection for BullMQ. Workers need `maxRetriesPerRequest: null` (BullMQ blocks on
 * commands and must keep retrying through a Redis restart rather than fail them); the same
 * setting is harmless for queues. rediss:// URLs get TLS from ioredis.
 *
 * Errors it emits never carry the password: ioredis attaches the failed command to a reply
 * error (`command: { name: 'auth', args: ['default', '<password>'] }`), and BullMQ re-emits
 * that object, which node prints whole when nobody listens. See scrubRedisError.
 */
export function createRedisConnection(url: string, extra: RedisOptions = {}): IORedis {
  return scrubErrors(
    new IORedis(url, {
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      // reconnect for ever with a capped backoff: a restarted Redis must be picked up again
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
      ...extra,
    }),
  );
}

/** Commands whose arguments hold credentials (AUTH password, HELLO ... AUTH user password). */
const SECRET_COMMANDS = new Set(['auth', 'hello', 'migrate', 'config', 'acl']);

/**
 * Blanks the arguments of a credential-bearing command attached to an ioredis error (in place,
 * so every holder of the object sees the scrubbed version); returns the error.
 */
export function scrubRedisError<T>(err: T): T {
  const command = (err as { command?: { name?: unknown; args?: unknown } } | null)?.command;
  if (command && typeof command.name === 'string' && SECRET_COMMANDS.has(command.name.toLowerCase()) && Array.isArray(command.args)) {
    command.args = command.args.map(() => '[redacted]');
  }
  return err;
}

/**
 * Scrubs every 'error' event of a connection before any listener (BullMQ's included) sees it,
 * and does the same for its duplicates (BullMQ's blocking connections are `duplicate()`s).
 */
function scrubErrors(connection: IORedis): IORedis {
  const emit = connection.emit.bind(connection);
  connection.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event === 'error') args.forEach(scrubRedisError);
    return emit(event, ...args);
  }) as IORedis['emit'];
  const duplicate = connection.duplicate.bind(connection);
  connection.duplicate = ((override?: Partial<RedisOptions>) => scrubErrors(duplicate(override))) as IORedis['duplicate'];
  return connection;
}

/** Why a Redis could not be used: `unreachable` may pass on retry, `refused` (AUTH, TLS) will not. */
export class RedisProbeError extends Error {
  constructor(message: string, readonly kind: 'unreachable' | 'refused') {
    super(message);
    this.name = 'RedisProbeError';
  }
}

/**
 * Connects to `url`, authenticates and PINGs within `timeoutMs`, then disconnects. Rejects with
 * a one-line RedisProbeError naming the URL without its password: a URL pointing at nothing, a
 * wrong password or a TLS handshake that fails ends in seconds instead of BullMQ's endless
 * reconnects.
 */
export async function probeRedis(url: string, timeoutMs: number): Promise<void> {
  const where = redactUrl(url);
  const connection = createRedisConnection(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    reconnectOnError: () => false,
  });
  let lastError: Error | undefined;
  connection.on('error', (err: Error) => (lastError = err));
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisProbeError(`cannot reach Redis at ${where} within ${timeoutMs} ms (FLEET_REDIS_CONNECT_TIMEOUT_MS)`, 'unreachable')), timeoutMs);
    });
    await Promise.race([
      (async () => {
        await connection.connect();
        await connection.ping();
      })(),
      timeout,
    ]);
  } catch (err) {
    if (err instanceof RedisProbeError) throw err;
    const reason = oneLine(scrubRedisError(lastError ?? (err as Error)).message, url);
    const refused = /WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username|certificate|self[- ]signed|SSL|TLS|handshake|wrong version number/i.test(reason);
    const message = refused ? `Redis at ${where} refused the connection: ${reason}` : `cannot reach Redis at ${where}: ${reason}`;
    throw new RedisProbeError(message, refused ? 'refused' : 'unreachable');
  } finally {
    clearTimeout(timer);
    // a connection already ended (refused, no retry) is left alone: ioredis's disconnect would
    // arm a 2 s timer to destroy a socket that is gone, keeping the process alive for nothing
    if (connection.status !== 'end') connection.disconnect();
  }
}

/** First line of a message, with the URL's password (if it is echoed at all) blanked. */
function oneLine(message: string, url: string): string {
  let text = (message.split('\n')[0] ?? '').replace(/\.$/, '');
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password) text = text.split(password).join('redacted');
  } catch {
    // an unparseable URL was already refused by ioredis
  }
  return text;
}
