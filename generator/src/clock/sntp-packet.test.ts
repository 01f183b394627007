import { describe, expect, it } from "vitest";
import {
  buildSntpRequest,
  NTP_PACKET_BYTES,
  parseSntpReply,
  readNtpTimestamp,
  sntpSample,
  writeNtpTimestamp,
} from "./sntp-packet.ts";

function reply(request: Buffer, edit: (b: Buffer) => void = () => {}): Buffer {
  const b = Buffer.alloc(NTP_PACKET_BYTES);
  b[0] = (0 << 6) | (4 << 3) | 4;
  b[1] = 2;
  request.copy(b, 24, 40, 48);
  writeNtpTimestamp(b, 32, 1_700_000_000_100);
  writeNtpTimestamp(b, 40, 1_700_000_000_101);
  edit(b);
  return b;
}

describe("NTP timestamps", () => {
  it.each([
    0,
    1_700_000_000_123.5,
    Date.parse("2036-02-07T06:28:15Z"),
    Date.parse("2036-02-07T06:28:17Z"),
    Date.parse("2100-01-01T00:00:00Z"),
  ])("round-trips %d within the 2^-32 s resolution, across the 2036 era change", (ms) => {
    const b = Buffer.alloc(8);
    writeNtpTimestamp(b, 0, ms);
    expect(readNtpTimestamp(b, 0)).toBeCloseTo(ms, 5);
  });
});

describe("SNTP packets", () => {
  it("builds a v4 client request carrying t1 as transmit timestamp", () => {
    const r = buildSntpRequest(1_700_000_000_000);
    expect(r.length).toBe(48);
    expect(r[0]).toBe(0x23);
    expect(readNtpTimestamp(r, 40)).toBeCloseTo(1_700_000_000_000, 3);
  });

  it("reads a valid reply", () => {
    const req = buildSntpRequest(1_700_000_000_000);
    expect(parseSntpReply(reply(req), req)).toMatchObject({ stratum: 2 });
  });

  it.each([
    ["a short packet", (b: Buffer) => b.subarray(0, 40), /40 bytes/],
    ["a client-mode packet", (b: Buffer) => ((b[0] = 0x23), b), /mode 3/],
    ["kiss-o'-death", (b: Buffer) => ((b[1] = 0), b.write("RATE", 12, "latin1"), b), /kiss-o'-death.*RATE/],
    ["an unsynchronized server", (b: Buffer) => ((b[0] = (3 << 6) | (4 << 3) | 4), b), /leap indicator 3/],
    ["stratum 16", (b: Buffer) => ((b[1] = 16), b), /stratum 16/],
    ["a mismatched originate", (b: Buffer) => ((b[31] = (b[31] as number) ^ 1), b), /originate/],
    ["no transmit timestamp", (b: Buffer) => (b.fill(0, 40, 48), b), /no transmit/],
  ])("rejects %s", (_what, corrupt, message) => {
    const req = buildSntpRequest(1_700_000_000_000);
    expect(() => parseSntpReply(corrupt(reply(req)), req)).toThrow(message);
  });

  it("computes offset (local minus server) and round trip", () => {
    // Local clock 50 ms behind the server, 10 ms each way, 2 ms server processing.
    const sample = sntpSample(1000, { stratum: 1, receiveMs: 1060, transmitMs: 1062 }, 1022);
    expect(sample).toEqual({ offsetMs: -50, roundTripMs: 20, stratum: 1 });
  });
});
