// Runs a preview1 module under Node's node:wasi with nothing from the host:
// no arguments, no environment, no preopens; stdin, stdout and stderr are
// Node's own. Exits with the module's exit code, or 134 when it traps (as
// `wasmtime run` and `wtrace run` do). For `wtrace export --wasm`
// reproducers:
//
//     node scripts/node-wasi-run.mjs repro.wasm < /dev/null
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
import process from "node:process";

const path = process.argv[2];
if (!path) {
  process.stderr.write("usage: node node-wasi-run.mjs MODULE.wasm\n");
  process.exit(2);
}
const wasi = new WASI({ version: "preview1", args: [path], env: {}, preopens: {}, returnOnExit: true });
let code;
try {
  const module = await WebAssembly.compile(await readFile(path));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  code = wasi.start(instance);
} catch (e) {
  process.stderr.write(`Error: ${e instanceof WebAssembly.RuntimeError ? "wasm trap: " : ""}${e.message}\n`);
  code = e instanceof WebAssembly.RuntimeError ? 134 : 1;
}
process.exitCode = code;
