import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear in a log object: credentials must never reach
 * logs, even when a whole config or error object is logged.
 */
export const REDACTED_PATHS = [
  'password',
  'secret',
  'token',
  'accessKeyId',
  'secretAccessKey',
  'sessionToken',
  'credentials',
  'authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.accessKeyId',
  '*.secretAccessKey',
  '*.sessionToken',
  '*.credentials',
  '*.authorization',
  'redisUrl',
  '*.redisUrl',
  // S3 error replies echo the request's key id (InvalidAccessKeyId, SignatureDoesNotMatch),
  // and the AWS SDK copies every field of the reply onto the error object it throws
  'AWSAccessKeyId',
  '*.AWSAccessKeyId',
  'SignatureProvided',
  '*.SignatureProvided',
  // ioredis attaches the failed command to its reply errors: AUTH's arguments are the password
  'command.args',
  '*.command.args',
];

/** Root logger options. Level from LOG_LEVEL (default "info"). */
export function rootLoggerOptions(level = process.env.LOG_LEVEL ?? 'info'): LoggerOptions {
  return { level, base: { pid: process.pid }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
}

let root: Logger | undefined;

/**
 * The process's root logger, writing JSON lines to LOG_FILE when set (`fleet run` keeps its
 * terminal for the progress bar), else to stderr (stdout stays for command output).
 */
export function rootLogger(): Logger {
  const file = process.env.LOG_FILE;
  root ??= pino(rootLoggerOptions(), file ? pino.destination({ dest: file, mkdir: true, sync: false }) : pino.destination({ fd: 2, sync: false }));
  return root;
}

/** One child logger per component: `log.info({ runId, windowId, ms }, 'window inferred')`. */
export function createLogger(component: string, parent: Logger = rootLogger()): Logger {
  return parent.child({ component });
}
