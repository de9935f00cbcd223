import { jobIds, type FleetQueues, type JobPayload } from '@fleet/jobs';
import type { Logger } from '@fleet/logging';
import { openStore } from '@fleet/storage';
import type { Dalle, DalleSource } from './dalle-listing';
import { isPrepared } from './prepared-record';

export interface PrepareJob {
  jobId: string;
  dalle: Dalle;
}

export interface EnqueuedPrepare {
  /** Where the dalles were found (absolute folder or s3:// URL). */
  source: string;
  output: string;
  total: number;
  /** Dalles whose COG already records their current version. */
  skipped: Dalle[];
  /** One job per dalle to convert. */
  jobs: PrepareJob[];
}

/**
 * Takes the source's dalles (listDalles), leaves out those already converted from their current version,
 * and adds one job per remaining dalle under a deterministic id: enqueueing twice adds nothing
 * while the first job is waiting or running. A finished job under the same id (its COG since
 * deleted, or a failure being tried again) is removed first, since BullMQ ignores an add
 * whose id it still holds.
 */
export async function enqueuePrepare(queues: FleetQueues, listed: DalleSource, outputLocation: string, log: Logger): Promise<EnqueuedPrepare> {
  const { store: source, dalles } = listed;
  const output = openStore(outputLocation);
  try {
    const skipped: Dalle[] = [];
    const jobs: PrepareJob[] = [];
    for (const dalle of dalles) {
      if (await isPrepared(output, dalle.outputKey, dalle.sourceVersion)) {
        skipped.push(dalle);
        continue;
      }
      const payload: JobPayload<'prepare-dalle'> = { source: source.location, output: output.location, ...dalle };
      const jobId = jobIds.dalle(payload);
      const state = await queues.prepare.getJobState(jobId);
      if (state === 'completed' || state === 'failed') await queues.prepare.remove(jobId);
      await queues.add('prepare-dalle', payload, jobId);
      jobs.push({ jobId, dalle });
    }
    log.info({ source: source.location, output: output.location, dalles: dalles.length, skipped: skipped.length, enqueued: jobs.length }, 'prepare enqueued');
    return { source: source.location, output: output.location, total: dalles.length, skipped, jobs };
  } finally {
    await output.close();
  }
}
