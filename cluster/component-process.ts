import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** How to start one cluster component (etcd, kube-apiserver, kubelet, ...). */
export type ComponentSpec = {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Detached components outlive this process (the full cluster); attached ones die with it. */
  detached: boolean;
  pidFile?: string;
};

/** A started component; `exitCode` is set once it has exited while we watched it. */
export type RunningComponent = {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  exitCode: number | null | undefined;
};

/** Raised when a component fails to start; the message names it and carries the tail of its log. */
export class ComponentFailure extends Error {
  readonly component: string;
  readonly logFile: string;
  constructor(component: string, logFile: string, reason: string) {
    super(`${component} failed: ${reason}\n--- last lines of ${logFile} ---\n${logTail(logFile)}`);
    this.name = "ComponentFailure";
    this.component = component;
    this.logFile = logFile;
  }
}

/** The last `lines` lines of a log file, or a note that it is missing. */
export function logTail(file: string, lines = 40): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  const text = readFileSync(file, "utf8");
  return text
    .split("\n")
    .slice(-lines - 1)
    .join("\n");
}

/** Starts a component with stdout+stderr appended to its log file. */
export function startComponent(spec: ComponentSpec): RunningComponent {
  const fd = openSync(spec.logFile, "a");
  writeFileSync(fd, `\n=== ${new Date().toISOString()} ${spec.command} ${spec.args.join(" ")}\n`);
  const child = spawn(spec.command, spec.args, {
    stdio: ["ignore", fd, fd],
    detached: spec.detached,
    env: spec.env ?? process.env,
  });
  closeSync(fd);
  if (child.pid === undefined)
    throw new ComponentFailure(spec.name, spec.logFile, `could not spawn ${spec.command}`);
  const running: RunningComponent = {
    name: spec.name,
    pid: child.pid,
    logFile: spec.logFile,
    child,
    exitCode: undefined,
  };
  child.on("exit", (code, signal) => {
    running.exitCode = code ?? (signal ? 128 : null);
  });
  child.on("error", () => {
    running.exitCode = running.exitCode ?? 127;
  });
  if (spec.detached) child.unref();
  if (spec.pidFile) writeFileSync(spec.pidFile, `${child.pid}\n`);
  return running;
}

/**
 * Polls `probe` until it returns true, at most `timeoutMs`. Fails fast, with the component's
 * log tail, when the component exits first.
 */
export async function waitForComponent(
  component: RunningComponent,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    if (component.exitCode !== undefined) {
      throw new ComponentFailure(component.name, component.logFile, `exited with code ${component.exitCode}`);
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(250);
  }
  throw new ComponentFailure(
    component.name,
    component.logFile,
    `not ${what} after ${timeoutMs / 1000}s${lastError ? ` (last probe error: ${lastError})` : ""}`,
  );
}

/** True when a process with this pid exists (and is not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(100);
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
}

/** Reads a pid file, or undefined when it is missing or malformed. */
export function readPidFile(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, "utf8").trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
