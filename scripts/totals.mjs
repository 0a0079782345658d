// Prints the totals of a Vitest JSON report as one plain line: "N passed, N failed".
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? "test-results/vitest.json";
let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch {
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const failed = report.numFailedTests ?? 0;
const suitesFailedWithoutTests = (report.testResults ?? []).filter(
  (r) => r.status === "failed" && (r.assertionResults ?? []).every((a) => a.status !== "failed"),
).length;
console.log(`${report.numPassedTests ?? 0} passed, ${failed + suitesFailedWithoutTests} failed`);
