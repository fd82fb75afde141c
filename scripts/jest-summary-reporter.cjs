// Prints one plain closing line, `jest: N passed, N failed, N skipped`, after jest's own
// summary, so tools that read the last line of a test run see the counts.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(`\njest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
