import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

function sh(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function trySh(command: string, args: string[]): boolean {
  try {
    sh(command, args);
    return true;
  } catch {
    return false;
  }
}

/** True when a network device with this name exists. */
export function deviceExists(device: string): boolean {
  return existsSync(`/sys/class/net/${device}`);
}

/**
 * Creates a port-less bridge device carrying `ip`/32 (idempotent): the node's own address. A bridge, not
 * a dummy device, because kernels without the dummy driver (such as this machine's) all have bridges.
 */
export function ensureNodeAddress(device: string, ip: string): void {
  if (!deviceExists(device)) sh("ip", ["link", "add", device, "type", "bridge"]);
  const addresses = sh("ip", ["-4", "-o", "addr", "show", "dev", device]);
  if (!addresses.includes(` ${ip}/`)) sh("ip", ["addr", "add", `${ip}/32`, "dev", device]);
  sh("ip", ["link", "set", device, "up"]);
}

/** True when some interface already carries `ip`. */
export function addressInUse(ip: string): boolean {
  return sh("ip", ["-4", "-o", "addr", "show"]).includes(` ${ip}/`);
}

/** Deletes a network device if it exists. */
export function removeDevice(device: string): void {
  if (deviceExists(device)) trySh("ip", ["link", "del", device]);
}

/** Sets a sysctl (dotted name) and returns the previous value. */
export function setSysctl(name: string, value: string): string {
  const path = `/proc/sys/${name.replace(/\./g, "/")}`;
  const previous = readFileSync(path, "utf8").trim();
  if (previous !== value) writeFileSync(path, value);
  return previous;
}

/** Inserts `rule` into a filter-table chain once, tagged with `comment`. */
export function ensureRule(chain: string, rule: string[], comment: string): void {
  const full = [...rule, "-m", "comment", "--comment", comment];
  if (!trySh("iptables", ["-C", chain, ...full])) sh("iptables", ["-I", chain, "1", ...full]);
}

/** Splits one iptables-save rule line into arguments (double-quoted words stay whole). */
export function splitRuleLine(line: string): string[] {
  const args: string[] = [];
  for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    args.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : match[2]!);
  }
  return args;
}

const TABLES = ["filter", "nat", "mangle"] as const;

/**
 * Removes, for iptables and ip6tables: every rule carrying `comment`, every chain whose name starts with
 * one of `chainPrefixes`, and every rule jumping to such a chain. Returns what it removed.
 */
export function removeIptablesState(comment: string, chainPrefixes: string[]): string[] {
  const removed: string[] = [];
  for (const tool of ["iptables", "ip6tables"]) {
    for (const table of TABLES) {
      let dump: string;
      try {
        dump = sh(`${tool}-save`, ["-t", table]);
      } catch {
        continue;
      }
      const lines = dump.split("\n");
      const owned = lines
        .filter((l) => l.startsWith(":"))
        .map((l) => l.slice(1).split(" ")[0]!)
        .filter((chain) => chainPrefixes.some((p) => chain.startsWith(p)));
      const ownedSet = new Set(owned);
      for (const line of lines.filter((l) => l.startsWith("-A "))) {
        const args = splitRuleLine(line);
        const chain = args[1]!;
        if (ownedSet.has(chain)) continue;
        const target = args[args.indexOf("-j") + 1] ?? args[args.indexOf("-g") + 1];
        const tagged = line.includes(`--comment ${comment}`) || line.includes(`--comment "${comment}"`);
        if (tagged || (target !== undefined && ownedSet.has(target))) {
          if (trySh(tool, ["-t", table, "-D", ...args.slice(1)])) removed.push(`${tool} -t ${table} ${line}`);
        }
      }
      for (const chain of owned) trySh(tool, ["-t", table, "-F", chain]);
      for (const chain of owned)
        if (trySh(tool, ["-t", table, "-X", chain])) removed.push(`${tool} -t ${table} chain ${chain}`);
    }
  }
  return removed;
}
