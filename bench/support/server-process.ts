// Another server process of the same installation for `npm run bench:api` when
// BENCH_SERVER_PROCESSES > 1 (docs/scaling.md): started from the environment the bench's own
// server was started with, on a port of its own. It answers its URL over IPC and stops on
// 'stop' or when the bench goes away.
import { loadConfig } from '../../src/config/config.ts';
import { startServer } from '../../src/runtime/server.ts';
import { createLogger } from '../../src/shared/logger.ts';

const env = JSON.parse(process.env.SEALPOST_BENCH_SERVER_ENV ?? '{}') as Record<string, string>;
const server = await startServer(loadConfig(env), { logger: createLogger('warn') });
const stop = () => void server.close().finally(() => process.exit(0));
process.on('message', (message) => {
  if (message === 'stop') stop();
});
process.on('disconnect', stop);
process.send!({ url: server.url });
