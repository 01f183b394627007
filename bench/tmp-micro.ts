import { performance } from "node:perf_hooks";
import { appendDecimalIds } from "../generator/src/encoding/decimal-id-encoder.ts";
import { DEFAULT_MATH } from "./in-process-bench.ts";
const out: string[] = [];
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  for (let k = 0; k < 1000; k++) {
    out.length = 0;
    appendDecimalIds(DEFAULT_MATH, 91235153327 + k, 1, 0, 4096, out);
  }
  console.log("append per ID ns", ((performance.now() - t) * 1e6) / 4096000);
  t = performance.now();
  let s = "";
  for (let k = 0; k < 1000; k++) {
    out.length = 0;
    appendDecimalIds(DEFAULT_MATH, 91235153327 + k, 1, 0, 4096, out);
    s = out.join('","');
  }
  console.log("append+join per ID ns", ((performance.now() - t) * 1e6) / 4096000, s.length);
  t = performance.now();
  const big = new BigInt64Array(4096);
  for (let k = 0; k < 1000; k++) {
    const base = (BigInt(91235153327 + k) << 22n) | (1n << 12n);
    for (let i = 0; i < 4096; i++) big[i] = base | BigInt(i);
  }
  console.log("bigint per ID ns", ((performance.now() - t) * 1e6) / 4096000);
}
