#!/usr/bin/env node
// Entry point for `sealpost` / `npx sealpost` / `npm start`. Sealpost runs its TypeScript
// sources directly through tsx, so `npm install && npm start` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
