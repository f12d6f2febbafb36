// Time limits for end-to-end tests that run the `sealpost` binary as a child process. Each
// command opens (and the first time creates and migrates) PGlite: seconds on a quiet machine,
// but over a minute was seen with 2 cores at load 7 (CI next to other test runs). The limits
// only stop a command that hangs; no test here measures speed.
export const CLI_COMMAND_TIMEOUT_MS = 150_000;
/** For a test that runs a few commands one after another. */
export const CLI_TEST_TIMEOUT_MS = 3 * CLI_COMMAND_TIMEOUT_MS;
