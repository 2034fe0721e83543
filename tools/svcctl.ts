/**
 * svcctl: a kubectl-like client for serverless-service-controller. See `svcctl help`.
 * Exit codes: 0 success, 1 user error (message on stderr, nothing changed), 2 usage error.
 */
import { main } from './cli/main.js';

process.exitCode = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});
