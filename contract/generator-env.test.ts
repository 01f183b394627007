import { describe, expect, it } from "vitest";
import {
  GENERATOR_ENV_DEFAULTS,
  GeneratorEnv,
  parseGeneratorEnv,
  renderGeneratorEnv,
  type RenderedEnvVar,
} from "./generator-env.ts";
import { DEFAULT_LAYOUT } from "./id-layout-math.ts";

const leaseEnv = {
  POD_NAME: "ids-0",
  POD_UID: "0b6d7c1e-1111-2222-3333-444455556666",
  POD_NAMESPACE: "default",
  IDGEN_FLEET: "ids",
};

/** What the pod would see: literal values as-is, downward-API values resolved from a fake pod. */
function asPodEnv(vars: RenderedEnvVar[]): Record<string, string> {
  const pod: Record<string, string> = {
    "metadata.name": leaseEnv.POD_NAME,
    "metadata.uid": leaseEnv.POD_UID,
    "metadata.namespace": leaseEnv.POD_NAMESPACE,
  };
  return Object.fromEntries(
    vars.map((v) => [v.name, "value" in v ? v.value : (pod[v.valueFrom.fieldRef.fieldPath] ?? "")]),
  );
}

describe("parseGeneratorEnv", () => {
  it("applies defaults in standalone mode", () => {
    const config = parseGeneratorEnv({ IDGEN_WORKER_ID: "7" });
    expect(config).toEqual({
      host: "0.0.0.0",
      port: 8080,
      idSpace: "default",
      layout: DEFAULT_LAYOUT,
      sequenceStart: "zero",
      ntpServers: [],
      ntpPollSeconds: 16,
      maxDriftMs: 100,
      maxBackwardWaitMs: 5,
      maxBatch: GENERATOR_ENV_DEFAULTS.maxBatch,
      drainSeconds: GENERATOR_ENV_DEFAULTS.drainSeconds,
      mode: { kind: "standalone", workerId: 7 },
    });
  });

  it("parses lease mode with its defaults", () => {
    const config = parseGeneratorEnv(leaseEnv);
    expect(config.mode).toEqual({
      kind: "lease",
      podName: "ids-0",
      podUid: leaseEnv.POD_UID,
      podNamespace: "default",
      fleet: "ids",
      ledgerNamespace: "default",
      leaseDurationSeconds: 15,
      renewIntervalSeconds: 5,
      safetyMarginSeconds: 3,
      reserveAheadMs: 10_000,
      releaseOnShutdown: true,
    });
  });

  it("names every missing lease-mode variable and points at standalone mode", () => {
    expect(() => parseGeneratorEnv({})).toThrow(
      /POD_NAME must be set.*IDGEN_WORKER_ID.*POD_UID must be set.*POD_NAMESPACE must be set.*IDGEN_FLEET must be set/,
    );
  });

  it("parses NTP servers with optional ports, IPv6 in brackets", () => {
    const config = parseGeneratorEnv({
      IDGEN_WORKER_ID: "1",
      IDGEN_NTP_SERVERS: " 127.0.0.1:11123, time.example , [::1]:1230",
    });
    expect(config.ntpServers).toEqual([
      { host: "127.0.0.1", port: 11123 },
      { host: "time.example", port: 123 },
      { host: "::1", port: 1230 },
    ]);
  });

  it.each([
    [{ IDGEN_PORT: "http" }, /IDGEN_PORT must be a whole number between 1 and 65535/],
    [{ IDGEN_PORT: "70000" }, /IDGEN_PORT must be between 1 and 65535/],
    [{ IDGEN_MAX_BATCH: "1000000" }, /IDGEN_MAX_BATCH must be between 1 and 100000/],
    [{ IDGEN_DRAIN_SECONDS: "301" }, /IDGEN_DRAIN_SECONDS must be between 0 and 300/],
    [{ IDGEN_NTP_SERVERS: "a:b:c" }, /IDGEN_NTP_SERVERS entry "a:b:c" must be host or host:port/],
    [{ IDGEN_ID_SPACE: "Orders!" }, /IDGEN_ID_SPACE must be a DNS label/],
    [{ IDGEN_SEQUENCE_BITS: "13" }, /must be 63, got 41 \+ 10 \+ 13.*IDGEN_SEQUENCE_BITS/],
    [{ IDGEN_EPOCH: "2999-01-01T00:00:00Z" }, /epoch.*in the future/],
    [
      { IDGEN_TIMESTAMP_BITS: "33", IDGEN_SEQUENCE_BITS: "20" },
      /timestamp bits .* ran out on 2024-04-09T10:05:34.592Z; no more IDs fit. Use a layout that lasts longer.*IDGEN_TIMESTAMP_BITS/,
    ],
    [
      { IDGEN_WORKER_ID: "1024" },
      /IDGEN_WORKER_ID: 1024 does not fit in IDGEN_WORKER_ID_BITS=10 bits; use 0..1023/,
    ],
  ])("rejects %o with a message naming the variable", (env, message) => {
    expect(() => parseGeneratorEnv({ IDGEN_WORKER_ID: "1", ...env })).toThrow(message);
  });

  it("rejects lease timings that would self-fence between renewals", () => {
    expect(() =>
      parseGeneratorEnv({
        ...leaseEnv,
        IDGEN_LEASE_DURATION_SECONDS: "6",
        IDGEN_RENEW_INTERVAL_SECONDS: "5",
      }),
    ).toThrow(/IDGEN_RENEW_INTERVAL_SECONDS \(5\) must be less than/);
    expect(() => parseGeneratorEnv({ ...leaseEnv, IDGEN_SAFETY_MARGIN_SECONDS: "15" })).toThrow(
      /IDGEN_SAFETY_MARGIN_SECONDS \(15\) must be less than IDGEN_LEASE_DURATION_SECONDS/,
    );
    expect(() => parseGeneratorEnv({ ...leaseEnv, IDGEN_RELEASE_ON_SHUTDOWN: "yes" })).toThrow(
      /IDGEN_RELEASE_ON_SHUTDOWN must be "true" or "false"/,
    );
  });

  it("reads IDGEN_SEQUENCE_START and names the allowed values", () => {
    expect(parseGeneratorEnv({ IDGEN_WORKER_ID: "1", IDGEN_SEQUENCE_START: "rolling" }).sequenceStart).toBe(
      "rolling",
    );
    expect(() => parseGeneratorEnv({ IDGEN_WORKER_ID: "1", IDGEN_SEQUENCE_START: "random" })).toThrow(
      "IDGEN_SEQUENCE_START: IDGEN_SEQUENCE_START must be one of zero, rolling",
    );
  });

  it("treats empty values as unset", () => {
    expect(parseGeneratorEnv({ IDGEN_WORKER_ID: "3", IDGEN_PORT: "", IDGEN_NTP_SERVERS: "" }).port).toBe(
      8080,
    );
  });
});

describe("renderGeneratorEnv", () => {
  it("round-trips through the parser", () => {
    const rendered = renderGeneratorEnv({
      fleet: "ids",
      idSpace: "orders",
      port: 9090,
      layout: {
        timestampBits: 39,
        workerIdBits: 16,
        sequenceBits: 8,
        timeUnitMs: 10,
        epoch: "2014-09-01T00:00:00Z",
      },
      ntpServers: [{ host: "10.0.0.1", port: 123 }, "pool.example:1123", { host: "fd00::1", port: 123 }],
      maxDriftMs: 50,
      maxBackwardWaitMs: 10,
      maxBatch: 500,
      leaseDurationSeconds: 20,
      renewIntervalSeconds: 4,
      safetyMarginSeconds: 5,
      reserveAheadMs: 5000,
      releaseOnShutdown: false,
      sequenceStart: "rolling",
      drainSeconds: 12,
    });
    expect(rendered.filter((v) => "valueFrom" in v).map((v) => v.name)).toEqual([
      GeneratorEnv.podName,
      GeneratorEnv.podUid,
      GeneratorEnv.podNamespace,
    ]);
    const config = parseGeneratorEnv(asPodEnv(rendered));
    expect(config).toMatchObject({
      port: 9090,
      idSpace: "orders",
      layout: { timestampBits: 39, workerIdBits: 16, sequenceBits: 8, timeUnitMs: 10 },
      ntpServers: [
        { host: "10.0.0.1", port: 123 },
        { host: "pool.example", port: 1123 },
        { host: "fd00::1", port: 123 },
      ],
      maxDriftMs: 50,
      maxBackwardWaitMs: 10,
      maxBatch: 500,
      sequenceStart: "rolling",
      drainSeconds: 12,
      mode: {
        kind: "lease",
        fleet: "ids",
        podName: "ids-0",
        leaseDurationSeconds: 20,
        renewIntervalSeconds: 4,
        safetyMarginSeconds: 5,
        reserveAheadMs: 5000,
        releaseOnShutdown: false,
      },
    });
  });

  it("leaves unset values out so the generator's defaults apply", () => {
    expect(renderGeneratorEnv({ workerId: 0 })).toEqual([{ name: "IDGEN_WORKER_ID", value: "0" }]);
  });
});
