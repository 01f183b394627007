import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

/** Addresses a host name stands for (a headless Service: one per ready pod). A port for tests. */
export type AddressLookup = (hostname: string) => Promise<string[]>;

/** getaddrinfo through node:dns: /etc/hosts, the resolv.conf search path (short Service names), A and AAAA. */
export const dnsLookup: AddressLookup = async (hostname) =>
  (await lookup(hostname, { all: true })).map((a) => a.address);

/** A configured base URL, normalised (no trailing slash), and whether it names a host to resolve. */
export interface EndpointSource {
  url: string;
  /** The host name to spread over, or undefined: used as given (an IP, localhost, https). */
  hostname: string | undefined;
}

/**
 * Reads a configured base URL. Names are resolved and spread over only for plain http:
 * an https endpoint is used as given (an address would not match its certificate), and so
 * are IP literals and localhost (which also resolves to ::1 where the generator may not listen).
 * Throws a message that says what a valid endpoint looks like.
 */
export function parseEndpoint(text: string): EndpointSource {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(
      `endpoint "${text}" is not a URL; expected a base URL such as http://orders-ids.shop.svc:80`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`endpoint "${text}" must be an http:// or https:// URL`);
  }
  if (url.search || url.hash)
    throw new TypeError(`endpoint "${text}" must be a base URL without ?query or #fragment`);
  const base = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const resolvable = url.protocol === "http:" && isIP(host) === 0 && host !== "localhost";
  return { url: base, hostname: resolvable ? host : undefined };
}

/** The base URL of `source` with its host replaced by `address`. */
export function urlForAddress(source: EndpointSource, address: string): string {
  const url = new URL(source.url);
  url.hostname = isIP(address) === 6 ? `[${address}]` : address;
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
