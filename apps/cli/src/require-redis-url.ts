import { redactUrl } from '@fleet/logging/redact-url';
import { CliError } from './cli-error';

// Apart from redis-for-cli.ts (which starts private servers and knows S3 outputs, so loads
// @fleet/storage and with it the AWS SDK): the commands that only talk to REDIS_URL
// (status, runs, board) import this and load neither (nor pino: redactUrl comes from its own file).

/** The parts run separately share one Redis: REDIS_URL is required. */
export function requireRedisUrl(env: NodeJS.ProcessEnv, command: string): string {
  const url = env.REDIS_URL;
  if (!url) throw new CliError(`needs REDIS_URL, the fleet's shared Redis: set it, e.g. REDIS_URL=redis://host:6379 fleet ${command}`);
  return url;
}

export { redactUrl };
