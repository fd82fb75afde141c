// Prints one plain closing line, `jest: N passed, N failed, N skipped`, as the very last line
// of a test run (jest adds its own summary reporter after custom ones, so this waits for
// exit), for tools that read the last line of the output.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`;
    process.once('exit', () => process.stderr.write(line));
  }
}
module.exports = SummaryReporter;
