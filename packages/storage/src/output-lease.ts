import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

import type { LocalStore } from './local-store';
import { ObjectNotFoundError } from './object-store';
import type { S3Store } from './s3-store';

/** Where the lease lives in the output store. */
export const LEASE_KEY = '_fleet/lease.json';
/** How often a live holder rewrites the lease (pushing its expiry forward). */
export const LEASE_RENEW_MS = 10_000;
/** How long a lease stays valid without a renewal: a run that died frees its output after this. */
export const LEASE_TTL_MS = 60_000;

/** What the lease object holds: who writes into this output, since when, until when. */
export interface LeaseHolder {
  host: string;
  pid: number;
  runId: string;
  /** ISO time the holder took the lease. */
  since: string;
  /** ISO time of the last renewal. */
  renewedAt: string;
  /** ISO time after which the lease is free unless renewed (the holder's clock). */
  expiresAt: string;
  /** Random: tells this holder's lease from a later one of the same host, pid and run. */
  token: string;
}

export interface OutputLeaseOptions {
  runId: string;
  /** @default LEASE_TTL_MS (60 s) */
  ttlMs?: number;
  /** @default LEASE_RENEW_MS (10 s) */
  renewMs?: number;
  /**
   * Pause between writing the lease and reading it back to check this process won (the only
   * guard on a store whose conditional PUT is not honoured, and against two takers of one
   * expired lease).
   * @default 200
   */
  settleMs?: number;
  /** Called once if the lease is found taken by another holder, or could not be renewed before it expired. */
  onLost?: (why: string) => void;
  /** Called when one renewal fails (it is tried again at the next tick). */
  onRenewError?: (err: unknown) => void;
}

/** A live run holds the output: refused with who holds it. */
export class LeaseHeldError extends Error {
  constructor(readonly location: string, readonly holder: LeaseHolder) {
    super(
      `${location} is being written by run ${holder.runId} (host ${holder.host}, pid ${holder.pid}, since ${holder.since}, lease valid until ${holder.expiresAt}): ` +
        'wait for it to finish or stop it (Ctrl-C / SIGTERM), or use another --out; the lease of a run that died expires by itself',
    );
    this.name = 'LeaseHeldError';
  }
}

type LeaseStore = LocalStore | S3Store;

/**
 * One writer per output: a lease object in the output store itself, so it holds across
 * separate Redis servers and machines. Taken by reading it (a live one refuses), then the
 * store's exclusive create (local folder: link(), which fails when the file exists, so two
 * racers cannot both win; S3: a conditional PUT `If-None-Match: *`, honoured by AWS S3 and
 * MinIO but ignored by s3rver 3.7, the test server, where the guard is the read before and
 * a read-after-write check `settleMs` later, which a very close race can still pass). A lease past its expiry, or held by a process of this host that no longer
 * exists, is taken over. The holder renews it every `renewMs`, and checks on each renewal
 * that it is still its own (if not, onLost: the caller stops writing).
 */
export class OutputLease {
  private timer: NodeJS.Timeout | undefined;
  private lost = false;
  private lastRenewed: number;

  private constructor(private readonly store: LeaseStore, private holder: LeaseHolder, private readonly options: Required<Pick<OutputLeaseOptions, 'ttlMs' | 'renewMs'>> & OutputLeaseOptions) {
    this.lastRenewed = Date.now();
  }

  /** The lease as this process holds it. */
  get current(): LeaseHolder {
    return this.holder;
  }

  /** Takes the output's lease or throws LeaseHeldError naming the live holder. */
  static async acquire(store: LeaseStore, options: OutputLeaseOptions): Promise<OutputLease> {
    const ttlMs = options.ttlMs ?? LEASE_TTL_MS;
    const renewMs = options.renewMs ?? LEASE_RENEW_MS;
    const settleMs = options.settleMs ?? 200;
    const now = new Date();
    const mine: LeaseHolder = {
      host: hostname(),
      pid: process.pid,
      runId: options.runId,
      since: now.toISOString(),
      renewedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
      token: randomBytes(12).toString('hex'),
    };
    const body = Buffer.from(`${JSON.stringify(mine, null, 2)}\n`);
    for (let attempt = 0; attempt < 5; attempt++) {
      // look first: on a server that ignores If-None-Match (s3rver) the conditional PUT
      // below would overwrite a live lease; the read-back then only catches a close race
      const held = await readLease(store);
      if (held !== undefined) {
        if (!isFree(held)) throw new LeaseHeldError(store.location, held);
        // expired or its process is gone: remove it, then race for the exclusive create
        // (a concurrent taker that deletes the winner's new lease is caught by the read-back)
        await store.delete(LEASE_KEY);
      }
      if (!(await store.putIfAbsent(LEASE_KEY, body))) continue; // someone was quicker: look again
      await sleep(settleMs);
      const found = await readLease(store);
      if (found?.token === mine.token) {
        const lease = new OutputLease(store, mine, { ...options, ttlMs, renewMs });
        lease.startRenewing();
        return lease;
      }
      if (found) throw new LeaseHeldError(store.location, found);
      // deleted under us by a taker of what it thought expired: try again
    }
    throw new Error(`could not take the lease ${LEASE_KEY} in ${store.location}: it kept changing`);
  }

  /** Stops renewing and deletes the lease if it is still this process's. */
  async release(): Promise<void> {
    this.stopRenewing();
    const found = await readLease(this.store).catch(() => undefined);
    if (found?.token === this.holder.token) await this.store.delete(LEASE_KEY);
  }

  /** Stops the renewal timer (the lease then expires after its TTL). */
  stopRenewing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private startRenewing(): void {
    this.timer = setInterval(() => void this.renew(), this.options.renewMs);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.lost) return;
    try {
      const found = await readLease(this.store);
      if (found?.token !== this.holder.token) {
        return this.lose(found ? `run ${found.runId} (host ${found.host}, pid ${found.pid}) took over the output's lease` : 'the output lease was deleted by someone else');
      }
      const now = Date.now();
      const next = { ...this.holder, renewedAt: new Date(now).toISOString(), expiresAt: new Date(now + this.options.ttlMs).toISOString() };
      await this.store.put(LEASE_KEY, Buffer.from(`${JSON.stringify(next, null, 2)}\n`));
      this.holder = next;
      this.lastRenewed = now;
    } catch (err) {
      this.options.onRenewError?.(err);
      if (Date.now() - this.lastRenewed > this.options.ttlMs) this.lose(`the output lease could not be renewed for ${Math.round(this.options.ttlMs / 1000)} s and expired`);
    }
  }

  private lose(why: string): void {
    if (this.lost) return;
    this.lost = true;
    this.stopRenewing();
    this.options.onLost?.(why);
  }
}

/**
 * The lease in the store, or undefined when there is none. Content that does not parse is
 * read again a few times (s3rver, unlike S3, can serve an object half-written by a concurrent
 * PUT), then treated as an expired lease: a foreign or torn file nobody renews.
 */
export async function readLease(store: LeaseStore): Promise<LeaseHolder | undefined> {
  for (let attempt = 0; ; attempt++) {
    let raw: Buffer;
    try {
      raw = await store.get(LEASE_KEY);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return undefined;
      throw err;
    }
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as LeaseHolder;
      if (typeof parsed.token === 'string' && typeof parsed.expiresAt === 'string') return parsed;
    } catch {
      // torn or foreign: look again
    }
    if (attempt >= 3) return expiredPlaceholder();
    await sleep(100);
  }
}

function expiredPlaceholder(): LeaseHolder {
  const epoch = new Date(0).toISOString();
  return { host: '?', pid: 0, runId: '?', since: epoch, renewedAt: epoch, expiresAt: epoch, token: '' };
}

/**
 * Free when past its expiry, or when its holder was a process of this host that is gone (a
 * run killed with SIGKILL need not make the next one wait a whole TTL). Hosts are told apart
 * by hostname only: two machines with one hostname writing one output would wait the TTL.
 */
function isFree(holder: LeaseHolder): boolean {
  if (Date.parse(holder.expiresAt) <= Date.now()) return true;
  return holder.host === hostname() && holder.pid !== process.pid && !processExists(holder.pid);
}

function processExists(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM'; // exists, owned by someone else
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
