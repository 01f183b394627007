/**
 * Fills Node's compile cache (NODE_COMPILE_CACHE) with the generator's code at image build
 * time, so every pod starts from compiled bytecode instead of parsing ~300 modules again
 * (docs/serving.md, "A light generator"). The cache directory is read-only at run time;
 * Node then reads it and skips writing. Loads what main.ts loads and builds the app once
 * (so lazily compiled functions are in the cache too), without listening or calling anyone.
 */
import module from "node:module";
import { parseGeneratorEnv } from "../../contract/generator-env.ts";
import { createGeneratorRuntime } from "./generator-runtime.ts";
import "./kube/kube-api-client.ts";
import "./lease/configmap-store.ts";
import "./lease/lease-keeper.ts";
import "./shutdown/graceful-shutdown.ts";
import "./issuing/standalone-fence.ts";

if (!module.getCompileCacheDir()) {
  console.error("warm-compile-cache: NODE_COMPILE_CACHE is not set; nothing to fill");
  process.exit(2);
}
const runtime = await createGeneratorRuntime(parseGeneratorEnv({ IDGEN_WORKER_ID: "0" }));
runtime.issuer.setWorkerId(0);
await runtime.app.inject("/readyz");
await runtime.app.inject("/v1/ids?count=10");
runtime.stop();
await runtime.app.close();
module.flushCompileCache();
console.log(`warm-compile-cache: filled ${module.getCompileCacheDir()}`);
