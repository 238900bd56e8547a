// Validates the AsyncAPI document read from standard input with the AsyncAPI project's own parser: prints every
// diagnostic as `<severity> <path>: <message>`, and exits 1 when any is an error.
const { Parser, DiagnosticSeverity } = require("@asyncapi/parser");

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const { diagnostics } = await new Parser().parse(Buffer.concat(chunks).toString("utf8"));
  for (const { severity, path, message } of diagnostics) {
    console.log(`${DiagnosticSeverity[severity]} ${path.join(".")}: ${message}`);
  }
  process.exitCode = diagnostics.some(({ severity }) => severity === DiagnosticSeverity.Error) ? 1 : 0;
}

main();
