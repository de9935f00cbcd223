import { logEnv, parseEnv, redisEnv } from '@fleet/config';
import { z } from 'zod';
import { MIN_TOKEN_LENGTH } from './board-auth';

export const boardEnvShape = {
  ...redisEnv,
  ...logEnv,
  /**
   * The board's credential: a bearer token, or the basic-auth password (any user). Required
   * when the board listens beyond loopback (`fleet board` refuses to start otherwise). Unset or
   * empty: no auth, loopback only.
   */
  FLEET_BOARD_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine((v) => v === undefined || v.length >= MIN_TOKEN_LENGTH, `at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 24)`),
};

export type BoardEnv = z.infer<z.ZodObject<typeof boardEnvShape>>;

export function parseBoardEnv(env: NodeJS.ProcessEnv = process.env): BoardEnv {
  return parseEnv(boardEnvShape, env);
}
