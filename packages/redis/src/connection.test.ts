import { createServer, type Socket } from 'node:net';
import { createRedisConnection, probeRedis, RedisProbeError, scrubRedisError } from './connection';
import { freePort } from './private-redis';
import { testRedisUrl } from '../../../test/support/redis';

describe('Redis connections', () => {
  it('scrubs the arguments of credential-bearing commands from an error, in place', () => {
    const auth = Object.assign(new Error('WRONGPASS'), { command: { name: 'auth', args: ['default', 'hunter2'] } });
    expect(scrubRedisError(auth).command.args).toEqual(['[redacted]', '[redacted]']);
    const hello = Object.assign(new Error('x'), { command: { name: 'HELLO', args: ['3', 'AUTH', 'u', 'hunter2'] } });
    expect(JSON.stringify(scrubRedisError(hello).command)).not.toContain('hunter2');
    const get = Object.assign(new Error('x'), { command: { name: 'get', args: ['key'] } });
    expect(scrubRedisError(get).command.args).toEqual(['key']);
    expect(scrubRedisError(undefined)).toBeUndefined();
  });

  it("scrubs errors before any listener sees them, on the connection and on its duplicates", async () => {
    const connection = createRedisConnection(testRedisUrl(), { lazyConnect: true });
    const copy = connection.duplicate({ lazyConnect: true });
    const seen: unknown[] = [];
    for (const c of [connection, copy]) c.on('error', (e: unknown) => seen.push(e));
    for (const c of [connection, copy]) c.emit('error', Object.assign(new Error('WRONGPASS'), { command: { name: 'auth', args: ['hunter2'] } }));
    expect(JSON.stringify(seen.map((e) => (e as { command: unknown }).command))).not.toContain('hunter2');
    expect(seen).toHaveLength(2);
    connection.disconnect();
    copy.disconnect();
  });

  it('probeRedis: a live Redis passes; nothing listening is a one-line unreachable error with the password redacted', async () => {
    await probeRedis(testRedisUrl(), 5_000);
    const port = await freePort();
    const err = await probeRedis(`redis://:hunter2@127.0.0.1:${port}`, 5_000).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RedisProbeError);
    expect([(err as RedisProbeError).kind, (err as Error).message]).toEqual(['unreachable', `cannot reach Redis at redis://:redacted@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`]);
  });

  it('probeRedis: a server that accepts and never answers is given up after the timeout', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    try {
      const err = await probeRedis(`redis://:hunter2@127.0.0.1:${port}`, 300).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(RedisProbeError);
      expect((err as Error).message).toBe(`cannot reach Redis at redis://:redacted@127.0.0.1:${port} within 300 ms (FLEET_REDIS_CONNECT_TIMEOUT_MS)`);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => silent.close(r));
    }
  });
});
