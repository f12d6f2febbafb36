// The composition root: the one place that turns a Config into running parts. Everything
// else receives its dependencies; nothing below this file chooses an implementation.
//
// Start-up order matters: database (and migrations) first, then the blob store and the
// root key provider, then the services built on them. close() undoes it in reverse.

import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createAccounts, type Accounts } from '../accounts/accounts.ts';
import { createAdmin, type Admin } from '../admin/admin.ts';
import type { BlobStoreConfig, Config } from '../config/config.ts';
import { ContentStore } from '../content/content.service.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { LocalKeyProvider } from '../crypto/local-key-provider.ts';
import type { ReadinessProbe } from '../http/routes/health.routes.ts';
import { KeyService } from '../keys/key.service.ts';
import { OutboxMailer, SmtpMailer, type Mailer } from '../mail/mailer.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { RegionMap, type Region } from '../shared/regions.ts';
import { unservedRegionData, unservedRegionError, type UnservedRegion } from './region-check.ts';
import type { BlobStore } from '../storage/blob/blob-store.ts';
import { FsBlobStore } from '../storage/blob/fs-blob-store.ts';
import { S3BlobStore } from '../storage/blob/s3-blob-store.ts';
import type { Database } from '../storage/database/database.ts';
import { migrate } from '../storage/database/migrate.ts';
import { JobRunner } from '../jobs/job.runner.ts';
import { createMessaging, type Messaging } from '../messages/messaging.ts';
import { createPrevent, type Prevent } from '../prevent/prevent.ts';
import { createPrivacy, type Privacy } from '../privacy/privacy.ts';
import { createConsent, type Consent } from '../privacy/consent/consent.ts';
import { createRetention, type Retention } from '../privacy/retention/retention.ts';
import { createSubjectRequests, type SubjectRequests } from '../privacy/requests/requests.ts';
import { createSubjectEngine } from '../privacy/subjects/subject-engine.ts';
import { createDomains, type Domains } from '../tenants/domains/domains.ts';
import { openDatabase } from '../storage/database/open-database.ts';

/** Everything a running Sealpost process is made of. */
export interface Runtime {
  config: Config;
  logger: Logger;
  db: Database;
  /** The home region's blob store (see `blobStores` for every region). */
  blobs: BlobStore;
  /** The home region's root-key provider (see `keyProviders` for every region). */
  keyProvider: KeyProvider;
  /** One blob store per served region; Content never goes to another region's store. */
  blobStores: RegionMap<BlobStore>;
  /** One root-key provider per served region; a region's KEKs are wrapped by its own root key only. */
  keyProviders: RegionMap<KeyProvider>;
  keys: KeyService;
  content: ContentStore;
  mailer: Mailer;
  /** Sign-in, users and personal API tokens. */
  accounts: Accounts;
  messaging: Messaging;
  /** Labels, tenant branding, the organisation's audit log, email invitations. */
  admin: Admin;
  /** The pre-send check: per-tenant learned models, rule checks, policy and feedback. */
  prevent: Prevent;
  /** Processing register (seeded at start-up), record of processing, privacy notice, sub-processors. */
  privacy: Privacy;
  /** Communication preferences, double opt-in, one-click unsubscribe, sub-processor alerts. */
  consent: Consent;
  /** Verified domains and free-to-business account transfers. */
  domains: Domains;
  /** Retention periods, legal holds, the daily retention job and its reports. */
  retention: Retention;
  /** Data subject requests: intake, identity codes, deadlines, running them through the subject-rights engine. */
  subjectRequests: SubjectRequests;
  /** Background jobs (notification delivery); started by the server, not by CLI commands. */
  jobs: JobRunner;
  /** What /readyz checks. */
  readiness: ReadinessProbe[];
  /** Regions not in REGIONS that still hold tenants or Content (region-check.ts); the server logs them at start-up. */
  unservedRegions: UnservedRegion[];
  version: string;
  /** Releases every resource; safe to call twice. */
  close(): Promise<void>;
}

/** Package version, read once (shown by --version and in the OpenAPI document). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Opens every dependency named by `config` and migrates the database. On failure, whatever
 * was already opened is closed again before the error is rethrown.
 */
export async function openRuntime(config: Config, opts: { logger?: Logger } = {}): Promise<Runtime> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close().catch((err: unknown) => logger.error({ err }, 'error while closing'));
  };
  try {
    // The data directory holds the embedded database, blobs, keys and outbox: owner only.
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const db = await openDatabase({
      dataDir: config.dataDir,
      ...(config.database.kind === 'postgres' ? { databaseUrl: config.database.url, databasePoolMax: config.database.poolMax, preparedStatements: config.database.preparedStatements } : {}),
    });
    closers.push(() => db.close());
    const { applied } = await migrate(db);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');

    // Residency: each served region gets its own blob store and root key; nothing is shared.
    const stores: Array<[Region, BlobStore]> = [];
    const providers: Array<[Region, KeyProvider]> = [];
    for (const r of config.regions) {
      const store = openBlobStore(r.blobStore);
      if (store instanceof FsBlobStore) {
        // Leftovers of writes interrupted by a crash; an hour is far above any upload in flight.
        const removed = await store.sweepTemporaryFiles(60 * 60 * 1000);
        if (removed > 0) logger.info({ removed, region: r.region }, 'removed temporary files of interrupted blob writes');
      }
      stores.push([r.region, store]);
      providers.push([r.region, await LocalKeyProvider.open(r.keyProvider.file, { create: true })]);
    }
    const blobStores = new RegionMap<BlobStore>(Object.fromEntries(stores));
    const keyProviders = new RegionMap<KeyProvider>(Object.fromEntries(providers));
    const blobs = blobStores.get(config.region);
    const keyProvider = keyProviders.get(config.region);
    const keys = new KeyService(db, keyProviders);
    const content = new ContentStore(db, blobStores, keys, { segmentSize: config.segmentSize });
    const mailer: Mailer = config.mail.kind === 'smtp' ? new SmtpMailer(config.mail.url, config.mail.from) : new OutboxMailer(config.mail.dir, config.mail.from);
    closers.push(() => mailer.close());
    const accounts = createAccounts(db, { publicUrl: config.publicUrl });
    // The runner is started by the server only; CLI commands enqueue, the server delivers.
    // The runner needs messaging's handlers and messaging nudges the runner: wake() is only
    // called after a send commits, long after both exist.
    const prevent = createPrevent({ db, keys });
    // Seeds the processing register once per seed version; never over the operator's edits.
    const privacy = createPrivacy({ db });
    const seeded = await privacy.seed();
    if (seeded.applied) logger.info({ purposes: seeded.purposes, subprocessors: seeded.subprocessors }, 'processing register seeded');
    const messaging = createMessaging({ db, content, keys, mailer, publicUrl: config.publicUrl, onEnqueued: () => runner.wake(), guard: prevent.guard });
    // Hooks sub-processor alerts into register edits (CLI or server): queued in the edit's transaction.
    const consent = createConsent({ db, mailer, publicUrl: config.publicUrl, privacy, onEnqueued: () => runner.wake() });
    // Retention deletes the ciphertext of what it shreds from the store of the object's region.
    const retention = createRetention({ db, deleteBlob: (region, key) => blobStores.get(region as Region).delete(key), prevent: prevent.service, logger });
    // Its own runner (retention.ts): a long run must not hold up the shared runner's notifications.
    closers.push(() => retention.runner.stop());
    // config.dnsServers (DOMAIN_VERIFICATION_DNS_SERVERS): which DNS servers verify TXT records.
    const domains = createDomains({ db, keys, content, mailer, publicUrl: config.publicUrl, dnsServers: config.dnsServers, onEnqueued: () => runner.wake() });
    // Access exports are Sealpost-as-controller data: sealed under the home region's root key and store.
    const subjects = createSubjectEngine({ db, content, provider: keyProvider, prevent: prevent.service });
    const subjectRequests = createSubjectRequests({ db, mailer, blobs, provider: keyProvider, publicUrl: config.publicUrl, engine: subjects, consent: consent.preferences, onEnqueued: () => runner.wake() });
    const runner = new JobRunner(db, { ...messaging.jobs, ...consent.jobs, ...domains.jobs, ...subjectRequests.jobs }, logger);
    const admin = createAdmin({ db, mailer, accounts, regions: content.regions });
    closers.push(() => runner.stop());

    // A region taken out of REGIONS while it still holds data: said at start-up and on /readyz.
    const unserved = await unservedRegionData(db, config.regions.map((r) => r.region));
    // One region: the names readiness always had; several: one store and one provider per region.
    const suffix = (region: Region) => (config.regions.length === 1 ? '' : `_${region}`);
    const readiness: ReadinessProbe[] = [
      { name: 'database', check: () => db.ping() },
      ...(unserved.length > 0 ? [{ name: 'regions', check: async () => { throw unservedRegionError(unserved); } }] : []),
      ...blobStores.entries().map(([region, store]) => ({ name: `blob_store${suffix(region)}`, check: () => store.check() })),
      ...keyProviders.entries().map(([region, provider]) => ({ name: `key_provider${suffix(region)}`, check: () => provider.check() })),
    ];
    return { config, logger, db, blobs, keyProvider, blobStores, keyProviders, keys, content, mailer, accounts, messaging, admin, prevent, privacy, consent, domains, retention, subjectRequests, jobs: runner, readiness, unservedRegions: unserved, version: VERSION, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function openBlobStore(b: BlobStoreConfig): BlobStore {
  if (b.kind === 'fs') return new FsBlobStore(b.dir);
  return new S3BlobStore({
    region: b.region,
    bucket: b.bucket,
    accessKeyId: b.accessKeyId,
    secretAccessKey: b.secretAccessKey,
    forcePathStyle: b.forcePathStyle,
    prefix: b.prefix,
    conditionalWrites: b.conditionalWrites,
    ...(b.endpoint ? { endpoint: b.endpoint } : {}),
  });
}
