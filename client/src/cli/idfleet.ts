#!/usr/bin/env node
// The `idfleet` command of @idfleet/client: IDs, decoding and range bounds from the shell.
import { runCli } from "./run-cli.ts";

process.exitCode = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
