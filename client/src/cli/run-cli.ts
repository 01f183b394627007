import { parseArgs } from "node:util";
import { idBounds, parseTimeParameter } from "../../../contract/id-bounds.ts";
import { boundsDocument, parsedIdDocument } from "../../../contract/id-documents.ts";
import { decodeIdAs, ID_FORMATS, parseIdFormat } from "../../../contract/id-encoding.ts";
import {
  DEFAULT_LAYOUT,
  LAYOUT_LIMITS,
  type IdLayout,
  type LayoutMath,
} from "../../../contract/id-layout-math.ts";
import { layoutFromDocument } from "../../../contract/layout-document.ts";
import { createIdClient } from "../id-client.ts";
import { fetchTransport } from "../generator-transport.ts";

/** Where the CLI writes (a port, so tests run it in-process). */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

/** Exit codes: 0 done, 1 the fleet could not serve, 2 bad arguments. */
export const CliExit = { Ok: 0, Failed: 1, Usage: 2 } as const;

const MAX_COUNT = 1_000_000;

export const USAGE = `usage:
  idfleet id --url URL [--count N]        N IDs (1..${MAX_COUNT}, default 1) from the fleet at URL, one a line
  idfleet decode <id> [layout]            the ID taken apart, as JSON (the shape of GET /v1/parse/:id)
  idfleet bounds --from T --to T [layout] {from, to, min, max}: id BETWEEN min AND max selects from <= time < to
layout: --url URL (read from the fleet's /v1/layout), or --timestamp-bits, --worker-id-bits,
  --sequence-bits, --time-unit-ms, --epoch (default ${DEFAULT_LAYOUT.timestampBits}/${DEFAULT_LAYOUT.workerIdBits}/${DEFAULT_LAYOUT.sequenceBits} bits, ${DEFAULT_LAYOUT.timeUnitMs} ms from ${DEFAULT_LAYOUT.epoch})
  --format ${ID_FORMATS.join("|")}: how <id> is written (decode) or min/max are printed (bounds); default decimal
times: RFC 3339 (2024-05-01T00:00:00Z) or Unix epoch milliseconds`;

/** Bad arguments: the message says what is allowed; exit 2. */
class UsageError extends Error {}

const LAYOUT_FLAGS = {
  "timestamp-bits": "timestampBits",
  "worker-id-bits": "workerIdBits",
  "sequence-bits": "sequenceBits",
  "time-unit-ms": "timeUnitMs",
} as const;

const options = {
  url: { type: "string" },
  count: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  format: { type: "string" },
  epoch: { type: "string" },
  help: { type: "boolean", short: "h" },
  ...Object.fromEntries(Object.keys(LAYOUT_FLAGS).map((flag) => [flag, { type: "string" }])),
} as const;

type Values = Record<string, string | boolean | undefined>;

/** Runs one command line (argv without node and the script); returns the exit code. */
export async function runCli(argv: readonly string[], output: CliOutput): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (error) {
    output.err(`idfleet: ${(error as Error).message}\n${USAGE}`);
    return CliExit.Usage;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === "help") {
    output.out(USAGE);
    return CliExit.Ok;
  }
  try {
    switch (command) {
      case "id":
        return await idCommand(values, rest, output);
      case "decode":
        return await decodeCommand(values, rest, output);
      case "bounds":
        return await boundsCommand(values, rest, output);
      default:
        throw new UsageError(
          command === undefined
            ? "a command is required"
            : `unknown command "${command}"; use id, decode or bounds`,
        );
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof RangeError || error instanceof TypeError) {
      output.err(`idfleet: ${error.message}\n${USAGE}`);
      return CliExit.Usage;
    }
    output.err(`idfleet: ${(error as Error).message}`);
    return CliExit.Failed;
  }
}

function noMore(command: string, rest: string[]): void {
  if (rest.length) throw new UsageError(`${command}: unexpected argument "${rest[0]}"`);
}

function allowOnly(command: string, values: Values, allowed: readonly string[]): void {
  for (const key of Object.keys(values)) {
    if (values[key] !== undefined && !allowed.includes(key)) {
      throw new UsageError(
        `${command} does not take --${key}; it takes ${allowed.map((a) => `--${a}`).join(", ")}`,
      );
    }
  }
}

async function idCommand(values: Values, rest: string[], output: CliOutput): Promise<number> {
  noMore("id", rest);
  allowOnly("id", values, ["url", "count"]);
  const url = values.url as string | undefined;
  if (!url) throw new UsageError("id needs --url, the fleet's base URL (e.g. http://orders-ids.shop.svc:80)");
  const countText = (values.count as string | undefined) ?? "1";
  const count = Number(countText);
  if (!/^\d+$/.test(countText) || count < 1 || count > MAX_COUNT) {
    throw new UsageError(`--count must be a whole number from 1 to ${MAX_COUNT}, got "${countText}"`);
  }
  const client = createIdClient({ endpoints: [url], failAfterMs: 5000 });
  try {
    const ids = await client.take(count);
    output.out(ids.join("\n"));
    return CliExit.Ok;
  } finally {
    await client.close();
  }
}

async function decodeCommand(values: Values, rest: string[], output: CliOutput): Promise<number> {
  const [text, ...more] = rest;
  if (text === undefined) throw new UsageError("decode needs an ID, e.g. idfleet decode 387190794185867264");
  noMore("decode", more);
  allowOnly("decode", values, ["url", "format", "epoch", ...Object.keys(LAYOUT_FLAGS)]);
  const math = await layoutOf(values);
  const id = decodeIdAs(text, parseIdFormat(values.format as string | undefined));
  output.out(JSON.stringify(parsedIdDocument(math, id), null, 2));
  return CliExit.Ok;
}

async function boundsCommand(values: Values, rest: string[], output: CliOutput): Promise<number> {
  noMore("bounds", rest);
  allowOnly("bounds", values, ["url", "from", "to", "format", "epoch", ...Object.keys(LAYOUT_FLAGS)]);
  const fromMs = parseTimeParameter("--from", values.from as string | undefined);
  const toMs = parseTimeParameter("--to", values.to as string | undefined);
  const format = parseIdFormat(values.format as string | undefined);
  const math = await layoutOf(values);
  output.out(JSON.stringify(boundsDocument(fromMs, toMs, idBounds(math, fromMs, toMs), format), null, 2));
  return CliExit.Ok;
}

/** The layout: the fleet's (--url), or the default with any layout flags applied. */
async function layoutOf(values: Values): Promise<LayoutMath> {
  const url = values.url as string | undefined;
  const flags = [...Object.keys(LAYOUT_FLAGS), "epoch"].filter((f) => values[f] !== undefined);
  if (url && flags.length) {
    throw new UsageError(`--url reads the layout from the fleet; leave out --${flags.join(", --")} or --url`);
  }
  if (url) return fetchLayout(url);
  const layout: IdLayout = { ...DEFAULT_LAYOUT };
  for (const [flag, field] of Object.entries(LAYOUT_FLAGS)) {
    const text = values[flag] as string | undefined;
    if (text === undefined) continue;
    const { min, max } = LAYOUT_LIMITS[field];
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
    }
    layout[field] = Number(text);
  }
  if (values.epoch !== undefined) layout.epoch = values.epoch as string;
  try {
    return layoutFromDocument(layout);
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (set by the layout flags)`);
  }
}

async function fetchLayout(url: string): Promise<LayoutMath> {
  const transport = fetchTransport();
  try {
    const outcome = await transport.get(`${url.replace(/\/+$/, "")}/v1/layout`, 5000);
    if (outcome.kind === "ok") return layoutFromDocument(JSON.parse(new TextDecoder().decode(outcome.body)));
    const why =
      outcome.kind === "status" ? `${outcome.status} ${outcome.code}: ${outcome.message}` : outcome.message;
    throw new Error(`could not read the layout from ${url}/v1/layout: ${why}`);
  } finally {
    transport.close();
  }
}
