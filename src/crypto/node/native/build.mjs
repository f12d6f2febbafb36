// Builds the native AES-GCM addon (aes_gcm.c) with node-gyp; run by `npm install` (the
// package's install script). Plain JavaScript: it runs before any dependency is usable.
//
// The addon is an optimisation, not a requirement: when it cannot be built (no C compiler, no
// Node headers and no network to fetch them), Sealpost uses worker threads for large objects
// instead, and this script says so and exits 0. SEALPOST_REQUIRE_NATIVE=true (set by .ci/run)
// makes that a failure. SEALPOST_SKIP_NATIVE=true skips the build.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const required = process.env.SEALPOST_REQUIRE_NATIVE === 'true';

function giveUp(reason) {
  const message = `sealpost: native AES-GCM addon not built (${reason}); large files will be sealed on worker threads, which is slower. See docs/development.md.`;
  if (required) {
    console.error(`${message}\nSEALPOST_REQUIRE_NATIVE=true: failing.`);
    process.exit(1);
  }
  console.warn(message);
  process.exit(0);
}

if (process.env.SEALPOST_SKIP_NATIVE === 'true' && !required) giveUp('SEALPOST_SKIP_NATIVE=true');

// npm sets npm_config_node_gyp for its scripts; otherwise use the node-gyp that comes with npm.
const candidates = [process.env.npm_config_node_gyp, path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')];
const nodeGyp = candidates.find((candidate) => candidate && existsSync(candidate));
if (!nodeGyp) giveUp('node-gyp not found');

// Node's headers: npm passes its `nodedir` setting on; run by hand, use the headers installed
// next to this node binary when there are any (otherwise node-gyp downloads them).
const args = [nodeGyp, 'rebuild', '--loglevel=warn'];
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(path.join(prefix, 'include/node/node_api.h'))) args.push(`--nodedir=${prefix}`);
const result = spawnSync(process.execPath, args, { cwd: here, stdio: ['ignore', 'inherit', 'inherit'] });
if (result.status !== 0) giveUp(`node-gyp exited with ${result.status ?? result.signal}`);
if (!existsSync(path.join(here, 'build/Release/aes_gcm.node'))) giveUp('node-gyp reported success but produced no aes_gcm.node');
console.log('sealpost: native AES-GCM addon built');
