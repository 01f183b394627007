import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { NTP_PACKET_BYTES, writeNtpTimestamp } from "../src/clock/sntp-packet.ts";

/** How the test responder answers: honestly, lying about time, or broken in one way. */
export interface ResponderBehaviour {
  /** Added to the true time in the reply (a lying server). */
  lieMs?: number;
  /** Reply from a server whose clock is unsynchronized (leap indicator 3). */
  unsynchronized?: boolean;
  /** Reply with a kiss-o'-death (stratum 0) carrying this code. */
  kissCode?: string;
  /** Put garbage in the originate timestamp (a stale or forged reply). */
  wrongOriginate?: boolean;
  /** Never answer. */
  silent?: boolean;
}

/**
 * An SNTP server on loopback for tests, whose behaviour can be changed between queries.
 * Real server tests use chronyd; this one can lie, which a real server will not.
 */
export class SntpTestResponder {
  behaviour: ResponderBehaviour = {};
  /** Per client address, overriding `behaviour` (a server that lies to one pod only). */
  readonly behaviourByClient = new Map<string, ResponderBehaviour>();
  queries = 0;
  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("message", (request, peer) => {
      this.queries += 1;
      const b = this.behaviourByClient.get(peer.address) ?? this.behaviour;
      if (b.silent || request.length < NTP_PACKET_BYTES) return;
      const now = Date.now() + (b.lieMs ?? 0);
      const out = Buffer.alloc(NTP_PACKET_BYTES);
      out[0] = ((b.unsynchronized ? 3 : 0) << 6) | (4 << 3) | 4;
      out[1] = b.kissCode ? 0 : 1;
      if (b.kissCode) out.write(b.kissCode, 12, "latin1");
      if (b.wrongOriginate) out.fill(7, 24, 32);
      else request.copy(out, 24, 40, 48);
      writeNtpTimestamp(out, 32, now);
      writeNtpTimestamp(out, 40, now);
      socket.send(out, peer.port, peer.address);
    });
  }

  /** Listens on loopback and a free port unless told otherwise (the e2e suite runs it in a pod on 0.0.0.0). */
  static async start(bind: { host?: string; port?: number } = {}): Promise<SntpTestResponder> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(bind.port ?? 0, bind.host ?? "127.0.0.1", resolve));
    return new SntpTestResponder(socket);
  }

  get port(): number {
    return (this.socket.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
