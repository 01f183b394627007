import { describe, expect, it } from "vitest";
import { encodeId, layoutMath, DEFAULT_LAYOUT } from "../../../contract/id-layout-math.ts";
import { CliExit, runCli } from "./run-cli.ts";

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("idfleet CLI", () => {
  it("decodes an ID into the /v1/parse shape with the default layout", async () => {
    const id = encodeId(layoutMath(DEFAULT_LAYOUT), 92_313_478_991, 5, 7);
    const { code, out } = await cli("decode", String(id));
    expect(code).toBe(CliExit.Ok);
    expect(JSON.parse(out)).toEqual({
      id: String(id),
      time: "2026-12-04T10:37:58.991Z",
      timestamp: 92_313_478_991,
      workerId: 5,
      sequence: 7,
      formats: expect.objectContaining({ decimal: String(id) }),
    });
  });

  it("decodes with layout flags and other formats", async () => {
    const { code, out } = await cli(
      "decode",
      "0000000001Z",
      "--format",
      "base62",
      "--sequence-bits",
      "22",
      "--worker-id-bits",
      "0",
    );
    expect(code).toBe(CliExit.Usage); // worker id bits must be at least 1
    expect(out).toBe("");
    const ok = await cli(
      "decode",
      "0000000001Z",
      "--format",
      "base62",
      "--sequence-bits",
      "11",
      "--worker-id-bits",
      "11",
    );
    expect(JSON.parse(ok.out)).toMatchObject({ id: "97", sequence: 97, workerId: 0 }); // 1 * 62 + 35 ("Z");
  });

  it("prints bounds like /v1/bounds", async () => {
    const { code, out } = await cli("bounds", "--from", "2026-01-01T00:00:00Z", "--to", "1767225600001");
    expect(code).toBe(CliExit.Ok);
    expect(JSON.parse(out)).toEqual({
      from: "2026-01-01T00:00:00.000Z",
      to: "2026-01-01T00:00:00.001Z",
      min: "264905529753600000",
      max: "264905529757794303",
    });
  });

  it.each([
    [[], /a command is required/],
    [["frob"], /unknown command "frob"; use id, decode or bounds/],
    [["id"], /id needs --url/],
    [
      ["id", "--url", "http://x", "--count", "0"],
      /--count must be a whole number from 1 to 1000000, got "0"/,
    ],
    [["id", "--url", "http://x", "--from", "1"], /id does not take --from; it takes --url, --count/],
    [["decode"], /decode needs an ID/],
    [["decode", "12x"], /"12x" is not a decimal ID/],
    [["decode", "1", "--format", "hex"], /format "hex" is not one of decimal, base62, base32/],
    [["decode", "1", "--url", "http://x", "--epoch", "2020-01-01T00:00:00Z"], /leave out --epoch or --url/],
    [["bounds", "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z"], /from must be before to/],
    [["bounds", "--from", "yesterday", "--to", "1"], /--from "yesterday" is not a time: use RFC 3339/],
    [["bounds", "--to", "1"], /--from is required/],
    [["--bogus"], /Unknown option '--bogus'/],
  ])("exits 2 on %j, saying what is allowed", async (argv, message) => {
    const { code, err } = await cli(...(argv as string[]));
    expect(code).toBe(CliExit.Usage);
    expect(err).toMatch(message);
    expect(err).toMatch(/usage:/);
  });

  it("prints usage on --help", async () => {
    const { code, out } = await cli("--help");
    expect(code).toBe(CliExit.Ok);
    expect(out).toMatch(/idfleet id --url URL \[--count N\]/);
  });
});
