// SNTP v4 (RFC 4330) client packets: build a request, validate and read a reply, and
// compute offset and round trip from the four timestamps. No I/O here.

/** Size of an NTP packet without extensions or authenticator. */
export const NTP_PACKET_BYTES = 48;
/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;
const TWO_32 = 2 ** 32;
const VERSION = 4;
const MODE_CLIENT = 3;
const MODE_SERVER = 4;
/** Leap indicator 3: the server's clock is not synchronized. */
const LEAP_ALARM = 3;

/** Writes Unix ms as a 64-bit NTP timestamp. */
export function writeNtpTimestamp(buf: Buffer, offset: number, unixMs: number): void {
  const seconds = Math.floor(unixMs / 1000);
  const fraction = Math.floor(((unixMs - seconds * 1000) / 1000) * TWO_32);
  // Era 1 starts in 2036; the 32-bit field wraps and the reader tells the eras apart.
  buf.writeUInt32BE((seconds + NTP_UNIX_OFFSET_S) % TWO_32, offset);
  buf.writeUInt32BE(fraction, offset + 4);
}

/**
 * Reads a 64-bit NTP timestamp as Unix ms. RFC 4330 section 3: a seconds field with the
 * top bit clear is in era 1 (from 2036-02-07), so the client keeps working past 2036.
 */
export function readNtpTimestamp(buf: Buffer, offset: number): number {
  const raw = buf.readUInt32BE(offset);
  const seconds = raw >= 0x8000_0000 ? raw : raw + TWO_32;
  const fraction = buf.readUInt32BE(offset + 4);
  return (seconds - NTP_UNIX_OFFSET_S) * 1000 + (fraction / TWO_32) * 1000;
}

/** A client request whose transmit timestamp is `t1UnixMs`; the server echoes it back as originate. */
export function buildSntpRequest(t1UnixMs: number): Buffer {
  const buf = Buffer.alloc(NTP_PACKET_BYTES);
  buf[0] = (0 << 6) | (VERSION << 3) | MODE_CLIENT;
  writeNtpTimestamp(buf, 40, t1UnixMs);
  return buf;
}

/** The fields of a server reply that the offset math needs. */
export interface SntpReply {
  stratum: number;
  /** T2: server time the request arrived (Unix ms). */
  receiveMs: number;
  /** T3: server time the reply left (Unix ms). */
  transmitMs: number;
}

/**
 * Validates a reply to `request` (RFC 4330 section 5) and reads it. Throws with the
 * reason the reply cannot be used: wrong size or mode, kiss-o'-death, unsynchronized
 * server, or an originate timestamp that does not match the request (stale or forged).
 */
export function parseSntpReply(reply: Buffer, request: Buffer): SntpReply {
  if (reply.length < NTP_PACKET_BYTES)
    throw new Error(`reply is ${reply.length} bytes, expected at least 48`);
  const first = reply[0] as number;
  const leap = first >> 6;
  const mode = first & 0b111;
  const stratum = reply[1] as number;
  if (mode !== MODE_SERVER) throw new Error(`reply has mode ${mode}, expected ${MODE_SERVER} (server)`);
  if (stratum === 0) {
    throw new Error(
      `kiss-o'-death from server: ${reply.subarray(12, 16).toString("latin1").replace(/\0/g, "")}`,
    );
  }
  if (stratum > 15) throw new Error(`server stratum ${stratum} is unsynchronized`);
  if (leap === LEAP_ALARM) throw new Error("server clock is not synchronized (leap indicator 3)");
  if (!reply.subarray(24, 32).equals(request.subarray(40, 48))) {
    throw new Error("reply's originate timestamp does not match the request (stale or forged reply)");
  }
  if (reply.readUInt32BE(40) === 0 && reply.readUInt32BE(44) === 0)
    throw new Error("reply has no transmit timestamp");
  return { stratum, receiveMs: readNtpTimestamp(reply, 32), transmitMs: readNtpTimestamp(reply, 40) };
}

/** One measurement against one server. */
export interface SntpSample {
  /** Local clock minus server clock, ms: positive when the local clock is ahead. */
  offsetMs: number;
  /** Round trip minus the server's processing time, ms. */
  roundTripMs: number;
  stratum: number;
}

/**
 * Offset and round trip from the four timestamps (RFC 4330 section 5): t1 request sent
 * and t4 reply received on the local clock, t2/t3 on the server's. RFC 4330's offset is
 * server minus local; idfleet reports local minus server (positive = local ahead), the
 * sign the lease record uses.
 */
export function sntpSample(t1: number, reply: SntpReply, t4: number): SntpSample {
  const t2 = reply.receiveMs;
  const t3 = reply.transmitMs;
  return {
    offsetMs: -((t2 - t1 + (t3 - t4)) / 2),
    roundTripMs: Math.max(0, t4 - t1 - (t3 - t2)),
    stratum: reply.stratum,
  };
}
