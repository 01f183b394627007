import { spawn } from "node:child_process";
import { kubectlPath } from "../../../cluster/kubectl.ts";
import { suiteKubeconfig } from "../../../cluster/client/cluster-access.ts";

/** A running `kubectl port-forward` on loopback. */
export type PortForward = { localPort: number; close: () => void };

/**
 * Forwards a random loopback port to `target` (e.g. `svc/generator`, `pod/x`) port `remotePort`.
 * Resolves once kubectl reports the forward; fails after `timeoutMs`.
 */
export async function portForward(
  namespace: string,
  target: string,
  remotePort: number,
  timeoutMs = 30_000,
): Promise<PortForward> {
  const child = spawn(
    kubectlPath(),
    [
      `--kubeconfig=${suiteKubeconfig()}`,
      "port-forward",
      "-n",
      namespace,
      "--address=127.0.0.1",
      target,
      `:${remotePort}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const close = () => {
    if (child.exitCode === null) child.kill("SIGTERM");
  };
  return new Promise((resolveForward, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      close();
      reject(
        new Error(
          `port-forward ${namespace}/${target}:${remotePort} not ready after ${timeoutMs / 1000}s: ${output}`,
        ),
      );
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveForward({ localPort: Number(match[1]), close });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`port-forward ${namespace}/${target}:${remotePort} exited (${code}): ${output}`));
    });
  });
}
