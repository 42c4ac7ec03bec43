import { z } from 'zod';

export type Env = Record<string, string | undefined>;

/** The configuration is invalid; `issues` lists every problem, one per variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
  }
}

/**
 * Validates `env` against a schema whose keys are variable names. Empty strings count as unset,
 * so `FOO=` in a shell or a compose file falls back to the default.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Env): z.output<S> {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
  );
}

/** Helpers for variables, each parsing the string form. */
export const envVar = {
  int: (fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) =>
    z.coerce.number().int().min(min).max(max).default(fallback),
  bool: (fallback: boolean) => z.stringbool().default(fallback),
  /** Comma-separated list; blanks dropped. */
  list: () =>
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item.length > 0),
      )
      .optional(),
  string: () => z.string().optional(),
  oneOf: <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
    z.enum(values).default(fallback),
};

/**
 * `{ [key]: value }`, or `{}` when the value is undefined: how config objects spread optional
 * settings under `exactOptionalPropertyTypes`-style rules without writing `key: undefined`.
 */
export function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

export { exitOnStartupFailure, stopOnSignals, type ShutdownLogger } from './process-lifecycle.js';
