import { parseExpression } from 'cron-parser';
import { z } from 'zod';
import { sourceRoles } from './run-spec';

/**
 * A schedule's name is its BullMQ job scheduler id and part of Redis keys: a département
 * ("92", "2A") or any short label. No ':' (BullMQ ids), no spaces (command lines, logs).
 */
export const scheduleNameSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'schedule name: 1-64 letters, digits, _ or -');

/**
 * The run request a schedule fires, as `fleet enqueue` builds it from its options (the
 * coordinator's RunRequest). Loose: a field the coordinator's request gains travels with the
 * schedule without this schema knowing it. No run id: each firing's id derives from the inputs
 * as they are that night (see the README, "Scheduled refreshes").
 */
export const scheduledRequestSchema = z
  .object({
    sources: z.partialRecord(z.enum(sourceRoles), z.string().min(1)),
    model: z.string().min(1),
    output: z.string().min(1),
    overlap: z.number().int().nonnegative().optional(),
    blockSize: z.number().int().positive().optional(),
    topK: z.number().int().positive().optional(),
  })
  .loose();
export type ScheduledRequest = z.infer<typeof scheduledRequestSchema>;

/** The payload of each firing (the scheduler's job template). */
export const scheduleFiringSchema = z.object({ schedule: scheduleNameSchema, request: scheduledRequestSchema });
export type ScheduleFiring = z.infer<typeof scheduleFiringSchema>;

/**
 * Problems with a cron expression and time zone, one line each (empty when BullMQ will accept
 * them). The expression is parsed by cron-parser, the parser BullMQ's job schedulers use, so
 * what passes here fires there. 5 fields (minute hour day month weekday) or 6 (seconds first);
 * cron-parser itself fills missing fields, which would turn a typo such as "30 1 *" into a
 * schedule firing every day at 01:30 of every month: the field count is checked first. The
 * zone is checked with Intl, whose error is clearer than cron-parser's ("unhandled timestamp").
 */
export function cronProblems(cron: string, tz?: string): string[] {
  const problems: string[] = [];
  const fields = cron.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5 && fields.length !== 6) {
    problems.push(`--cron "${cron}": ${fields.length} field(s); give 5 (minute hour day-of-month month day-of-week, e.g. "30 1 * * *") or 6 (seconds first)`);
  }
  if (tz !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
    } catch {
      problems.push(`--tz "${tz}": unknown time zone; give an IANA name such as Europe/Paris or UTC`);
    }
  }
  if (problems.length > 0) return problems;
  try {
    parseExpression(cron, tz === undefined ? {} : { tz });
  } catch (err) {
    problems.push(`--cron "${cron}": ${err instanceof Error ? err.message : String(err)}`);
  }
  return problems;
}

/** When `cron` next fires after `from` (epoch ms), in zone `tz`; for listings and messages. */
export function nextFiring(cron: string, tz: string | undefined, from = Date.now()): number {
  return parseExpression(cron, { currentDate: new Date(from), ...(tz === undefined ? {} : { tz }) }).next().getTime();
}
