import { z } from "zod";
import {
  DEFAULT_LAYOUT,
  EPOCH_PATTERN,
  LAYOUT_LIMITS,
  payloadBitsProblem,
  type IdLayout,
} from "./id-layout-math.ts";

// The zod side of the layout: validation of raw input, the CRD schema and its messages.
// The math on a validated layout lives in id-layout-math.ts (no runtime dependencies).

const bits = (what: keyof typeof LAYOUT_LIMITS) => {
  const { min, max } = LAYOUT_LIMITS[what];
  return z
    .number({ error: `${what} must be a whole number of bits` })
    .int({ error: `${what} must be a whole number of bits` })
    .min(min, { error: `${what} must be at least ${min}` })
    .max(max, { error: `${what} must be at most ${max}` });
};

const unit = LAYOUT_LIMITS.timeUnitMs;
const unitRange = `timeUnitMs must be between ${unit.min} and ${unit.max} milliseconds`;

/**
 * The bit layout of one fleet's IDs. All fields are immutable once a fleet exists:
 * changing any of them can mint an ID that an earlier layout already issued.
 */
export const idLayoutSchema = z
  .object({
    timestampBits: bits("timestampBits")
      .default(DEFAULT_LAYOUT.timestampBits)
      .describe(
        "Bits for the time since epoch, in timeUnitMs ticks. timestampBits+workerIdBits+sequenceBits must be 63.",
      ),
    workerIdBits: bits("workerIdBits")
      .default(DEFAULT_LAYOUT.workerIdBits)
      .describe("Bits for the worker id; 2^workerIdBits workers can issue IDs at once in one id space."),
    sequenceBits: bits("sequenceBits")
      .default(DEFAULT_LAYOUT.sequenceBits)
      .describe("Bits for the per-tick sequence; one worker issues at most 2^sequenceBits IDs per tick."),
    timeUnitMs: z
      .number({ error: "timeUnitMs must be a whole number of milliseconds" })
      .int({ error: "timeUnitMs must be a whole number of milliseconds" })
      .min(unit.min, { error: unitRange })
      .max(unit.max, { error: unitRange })
      .default(DEFAULT_LAYOUT.timeUnitMs)
      .describe(`Length of one timestamp tick in milliseconds (${unit.min}..${unit.max}).`),
    epoch: z
      .string()
      .regex(EPOCH_PATTERN, {
        error: "epoch must be an RFC 3339 UTC timestamp such as 2024-01-01T00:00:00Z",
      })
      .default(DEFAULT_LAYOUT.epoch)
      .describe(
        "Start of the timestamp field, RFC 3339 in UTC (e.g. 2024-01-01T00:00:00Z). Must be in the past.",
      ),
  })
  .check((ctx) => {
    const { timestampBits, workerIdBits, sequenceBits } = ctx.value;
    const problem = payloadBitsProblem(timestampBits, workerIdBits, sequenceBits);
    if (problem)
      ctx.issues.push({ code: "custom", input: ctx.value, path: ["timestampBits"], message: problem });
  });

// The schema's output is the dependency-free IdLayout, field for field (a compile-time check).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesIdLayout: Same<z.output<typeof idLayoutSchema>, IdLayout> = true;
void schemaMatchesIdLayout;

/** Validates a raw layout and throws an error naming the wrong field. */
export function parseIdLayout(input: unknown, now: Date = new Date()): IdLayout {
  const parsed = idLayoutSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new Error(`invalid ID layout: ${formatIssues(parsed.error.issues)}`);
  }
  const epochMs = Date.parse(parsed.data.epoch);
  if (!Number.isFinite(epochMs)) {
    throw new Error(`invalid ID layout: epoch: ${parsed.data.epoch} is not a valid date`);
  }
  if (epochMs > now.getTime()) {
    throw new Error(
      `invalid ID layout: epoch: ${parsed.data.epoch} is in the future; pick an epoch in the past`,
    );
  }
  return parsed.data;
}

/** Formats zod issues as `path: message; path: message`. */
export function formatIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .map((issue) =>
      issue.path.length ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message,
    )
    .join("; ");
}
