import { execFile } from "node:child_process";
import { binary } from "./paths.ts";

/** Options for one kubectl invocation. */
export type KubectlOptions = {
  kubeconfig: string;
  /** Written to kubectl's stdin (for `apply -f -`). */
  input?: string;
  timeoutMs?: number;
};

/** The kubectl to run: IDFLEET_KUBECTL when set, else the one build-binaries.sh built. */
export function kubectlPath(): string {
  return process.env.IDFLEET_KUBECTL ?? binary("kubectl");
}

/** Runs kubectl (see kubectlPath); rejects with its stderr when it exits non-zero. */
export async function kubectl(args: string[], options: KubectlOptions): Promise<string> {
  const timeout = options.timeoutMs ?? 120_000;
  return new Promise((resolveRun, reject) => {
    const child = execFile(
      kubectlPath(),
      [`--kubeconfig=${options.kubeconfig}`, ...args],
      { timeout, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error) {
          const why = error.killed ? `timed out after ${timeout / 1000}s` : `exit ${String(error.code)}`;
          reject(new Error(`kubectl ${args.join(" ")} failed (${why}): ${stderr.trim() || stdout.trim()}`));
        } else {
          resolveRun(stdout);
        }
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
