import { pino, type DestinationStream, type Logger } from "pino";

/**
 * Log levels the operator writes. The same shape as the generator's log (fastify's pino):
 * a level, a message a person reads, and fields a machine filters on.
 */
export const LogLevel = { debug: "debug", info: "info", warn: "warn", error: "error" } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** The operator's one log port: every part takes this, main.ts passes the pino logger. */
export type OperatorLog = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/** A log that drops everything (tests that do not look at logs). */
export const silentLog: OperatorLog = () => undefined;

/**
 * The operator's log: pino JSON lines (`level`, `time`, `msg`, then the fields), one per
 * call, on `destination` (stdout by default).
 */
export function createOperatorLog(
  options: { level?: LogLevel; destination?: DestinationStream } = {},
): OperatorLog {
  const logger: Logger = pino({ level: options.level ?? LogLevel.info }, options.destination);
  return (level, message, fields) => logger[level](fields ?? {}, message);
}
