import type { JobPayload } from '@fleet/jobs';
import type { Logger } from '@fleet/logging';
import { openStore } from '@fleet/storage';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { versionOf } from './dalle-listing';
import { fetchToFile } from './fetch-to-file';
import { cogTranslateArgs, runGdalTranslate } from './gdal-translate';
import { isPrepared, writePreparedRecord } from './prepared-record';

export interface PrepareOptions {
  threads: number;
  /** Default: the system temp folder. */
  tmpDir?: string;
  /** Default: gdal_translate on PATH. */
  gdalTranslate?: string;
}

export interface PrepareResult {
  status: 'converted' | 'skipped';
  sourceVersion: string;
  bytes: number;
  ms: number;
}

/** A dalle that vanished between listing and conversion: nothing to retry. */
export class SourceMissingError extends Error {
  readonly permanent = true;
}

/**
 * One dalle: skip it when its COG already records the source's current version; otherwise
 * convert it (a local source is read in place, a remote one is fetched to a temp file) and
 * upload the COG atomically, then its record.
 */
export async function prepareDalle(payload: JobPayload<'prepare-dalle'>, options: PrepareOptions, log: Logger): Promise<PrepareResult> {
  const started = Date.now();
  const source = openStore(payload.source);
  const output = openStore(payload.output);
  const name = `${source.location}/${payload.sourceKey}`;
  const work = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'fleet-prepare-'));
  try {
    const head = await source.head(payload.sourceKey);
    if (!head) throw new SourceMissingError(`${name}: source dalle not found`);
    // the current version, not the enqueued one: a dalle rewritten since is converted as it is now
    const sourceVersion = versionOf(head);
    if (await isPrepared(output, payload.outputKey, sourceVersion)) {
      return { status: 'skipped', sourceVersion, bytes: 0, ms: Date.now() - started };
    }
    let input = source.localPath(payload.sourceKey);
    if (input === undefined) {
      input = join(work, 'source.jp2');
      await fetchToFile(source, payload.sourceKey, head.size, input);
    }
    const cog = join(work, 'cog.tif');
    const args = cogTranslateArgs(input, cog, {
      threads: options.threads,
      metadata: { FLEET_SOURCE: name, FLEET_SOURCE_VERSION: sourceVersion },
    });
    await runGdalTranslate(args, name, options.gdalTranslate);
    // a dalle rewritten while it was read would give a COG of mixed versions: try again
    const after = await source.head(payload.sourceKey);
    if (!after || versionOf(after) !== sourceVersion) throw new Error(`${name}: changed while being converted; will retry`);
    await output.putFile(payload.outputKey, cog);
    await writePreparedRecord(output, payload.outputKey, { source: name, sourceVersion, preparedAt: new Date().toISOString() });
    const bytes = (await output.head(payload.outputKey))?.size ?? 0;
    const ms = Date.now() - started;
    log.info({ source: name, output: `${output.location}/${payload.outputKey}`, bytes, ms }, 'dalle converted');
    return { status: 'converted', sourceVersion, bytes, ms };
  } finally {
    await rm(work, { recursive: true, force: true });
    await Promise.all([source.close(), output.close()]);
  }
}
