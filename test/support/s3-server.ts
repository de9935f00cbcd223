/**
 * In-process S3 server for integration tests: a real s3rver speaking HTTP on 127.0.0.1 at a
 * free port, storing into its own temp folder. Tests reach it through the real AWS SDK (never
 * a mock); `env` holds what a store or an app process needs to find it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { IncomingMessage, Server } from 'node:http';
import { join } from 'node:path';

/** The part of s3rver this harness touches (s3rver ships no types). */
interface S3rverInstance {
  store: { putBucket(name: string): Promise<unknown> };
  httpServer: Server;
}
interface S3rverMain {
  startS3rver(options: { port?: number; directory: string; buckets?: string[] }): Promise<{
    server: S3rverInstance;
    port: number;
  }>;
  stopS3rver(server: S3rverInstance): Promise<void>;
}

// The s3rver settings live in the plain-JS entry point, shared with the out-of-process use.
const { startS3rver, stopS3rver } = require('./s3-server-main.js') as S3rverMain;

/** The fixed account s3rver accepts. It rejects other key ids but does not verify SigV4 signatures. */
export const S3RVER_ACCESS_KEY_ID = 'S3RVER';
export const S3RVER_SECRET_ACCESS_KEY = 'S3RVER';

/** One HTTP request the server received, for tests that check how a client talks to S3. */
export interface S3RequestRecord {
  method: string;
  /** Path and query, e.g. "/bucket/key?uploadId=..." */
  url: string;
  /** The Range header, when there was one. */
  range?: string;
}

export interface S3TestServer {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  /** The temp folder s3rver stores buckets in (removed by stop). */
  readonly directory: string;
  /** Creates a bucket (no-op when it exists). */
  bucket(name: string): Promise<void>;
  /**
   * Environment for a client of this server: S3_ENDPOINT, AWS_ACCESS_KEY_ID,
   * AWS_SECRET_ACCESS_KEY, AWS_REGION, S3_FORCE_PATH_STYLE.
   */
  readonly env: Record<string, string>;
  /** Every request received so far, oldest first; tests may empty it (`requests.length = 0`). */
  readonly requests: S3RequestRecord[];
  /** Closes the server and its connections and deletes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startS3Server(): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  let started: { server: S3rverInstance; port: number };
  try {
    started = await startS3rver({ port: 0, directory });
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const { server, port } = started;
  const endpoint = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  const requests: S3RequestRecord[] = [];
  server.httpServer.on('request', (request: IncomingMessage) => {
    const range = request.headers.range;
    requests.push({ method: request.method ?? '', url: request.url ?? '', ...(range === undefined ? {} : { range }) });
  });

  return {
    endpoint,
    port,
    directory,
    async bucket(name: string): Promise<void> {
      await server.store.putBucket(name);
    },
    env: {
      S3_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: S3RVER_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: S3RVER_SECRET_ACCESS_KEY,
      AWS_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
    },
    requests,
    stop(): Promise<void> {
      stopped ??= (async () => {
        await stopS3rver(server);
        await rm(directory, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
