// Configuration: the environment is parsed once, here, into a typed object. Start-up fails
// with one message that lists every invalid variable, so an operator fixes them all at once.
// Every variable is documented in docs/configuration.md (keep the two in step).

import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../shared/app-error.ts';
import { isRegion, REGIONS, type Region } from '../shared/regions.ts';
import { KEY_PROVIDER_KINDS } from '../crypto/key-provider.ts';
import { DEFAULT_SEGMENT_SIZE, MAX_SEGMENT_SIZE, MIN_SEGMENT_SIZE } from '../crypto/format/sealed-object.ts';
import { pgliteDataDir } from '../storage/database/open-database.ts';
import { normaliseEmail } from '../accounts/user.rules.ts';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) =>
  z.coerce.number({ error: `must be a whole number from ${min} to ${max}` }).int(`must be a whole number from ${min} to ${max}`).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.join(' or ')}//`);

const s3Prefix = z.string().regex(/^(?:[a-z0-9_-]+\/)*(?:[a-z0-9_-]+)?$/, 'must be path segments of a-z, 0-9, _ and - separated by single slashes, e.g. sealpost/blobs/');

// Variables that can be set per region with a suffix (BLOB_DIR_EEA, S3_BUCKET_US, ROOT_KEY_FILE_UK…).
const regional = {
  BLOB_STORE: z.enum(['fs', 's3']),
  BLOB_DIR: z.string().min(1),
  S3_ENDPOINT: url(['http:', 'https:']),
  S3_REGION: z.string().min(1),
  S3_BUCKET: z.string().min(3).max(63),
  S3_ACCESS_KEY_ID: z.string().min(1),
  S3_SECRET_ACCESS_KEY: z.string().min(1),
  S3_FORCE_PATH_STYLE: bool,
  S3_CONDITIONAL_WRITES: bool,
  S3_PREFIX: s3Prefix,
  KEY_PROVIDER: z.enum(KEY_PROVIDER_KINDS),
  ROOT_KEY_FILE: z.string().min(1),
};
type RegionalName = keyof typeof regional;
const REGIONAL_NAMES = Object.keys(regional) as RegionalName[];
const suffixed = (name: RegionalName, region: Region) => `${name}_${region.toUpperCase()}`;
const regionalSchema = Object.fromEntries(REGIONS.flatMap((r) => REGIONAL_NAMES.map((n) => [suffixed(n, r), regional[n].optional()])));

const regionList = z
  .string()
  .transform((v) => v.split(',').map((r) => r.trim().toLowerCase()).filter((r) => r !== ''))
  .refine((list) => list.length > 0 && list.every(isRegion), `must be a comma-separated list of ${REGIONS.join(', ')}`)
  .refine((list) => new Set(list).size === list.length, 'must not name a region twice')
  .transform((list) => list as Region[]);

// DNS servers that verify tenants' domain TXT records: "ip[:port]" or "[ipv6]:port", comma-separated.
function isDnsServer(server: string): boolean {
  const portOk = (port: string | undefined) => port === undefined || (/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535);
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(server);
  if (bracketed) return isIP(bracketed[1]!) === 6 && portOk(bracketed[2]);
  if (isIP(server) !== 0) return true; // an IPv4 or IPv6 address without a port
  const withPort = /^([^:]+):([^:]*)$/.exec(server);
  return withPort !== null && isIP(withPort[1]!) === 4 && portOk(withPort[2]);
}

const dnsServerList = z
  .string()
  .transform((v) => v.split(',').map((x) => x.trim()).filter((x) => x !== ''))
  .refine((list) => list.every(isDnsServer), 'must be IP addresses with optional ports, comma-separated (e.g. 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53)');

const emailList = z
  .string()
  .transform((v) => v.split(',').map((x) => x.trim().toLowerCase()).filter((x) => x !== ''))
  .refine((list) => list.every((x) => z.email().safeParse(x).success), 'must be email addresses, comma-separated');

const schema = z.object({
  ...regionalSchema,
  OPERATOR_EMAILS: emailList.optional(),
  DOMAIN_VERIFICATION_DNS_SERVERS: dnsServerList.optional(),
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DATABASE_POOL_MAX: int(1, 500).default(10),
  DATABASE_PREPARED_STATEMENTS: bool.default(true),
  BLOB_STORE: z.enum(['fs', 's3']).default('fs'),
  BLOB_DIR: z.string().min(1).optional(),
  S3_ENDPOINT: url(['http:', 'https:']).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_BUCKET: z.string().min(3).max(63).optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: bool.default(false),
  S3_CONDITIONAL_WRITES: bool.default(true),
  S3_PREFIX: s3Prefix.default(''),
  REGION: z.enum(REGIONS).optional(),
  REGIONS: regionList.optional(),
  KEY_PROVIDER: z.enum(KEY_PROVIDER_KINDS).default('local'),
  ROOT_KEY_FILE: z.string().min(1).optional(),
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  OUTBOX_DIR: z.string().min(1).optional(),
  MAIL_FROM: z.string().email('must be an email address').default('sealpost@localhost'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEGMENT_SIZE: int(MIN_SEGMENT_SIZE, MAX_SEGMENT_SIZE).default(DEFAULT_SEGMENT_SIZE),
  BODY_LIMIT_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  TRUST_PROXY: bool.default(false),
  SEALPOST_TENANT_NAME: z.string().trim().min(1).max(200, 'must be at most 200 characters').default('My organisation'),
  SEALPOST_ADMIN_EMAIL: z
    .string()
    .refine((v) => {
      try {
        normaliseEmail(v);
        return true;
      } catch {
        return false;
      }
    }, 'must be an email address like admin@example.org')
    .transform((v) => normaliseEmail(v))
    .default('admin@localhost'),
});

/** Where one region's sealed payloads are stored. */
export type BlobStoreConfig =
  | { kind: 'fs'; dir: string }
  | { kind: 's3'; endpoint?: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: boolean; prefix: string; conditionalWrites: boolean };

/** One served region: its own blob store and its own root-key provider (nothing shared with another region). */
export interface RegionConfig {
  region: Region;
  blobStore: BlobStoreConfig;
  keyProvider: { kind: 'local'; file: string };
}

/** The validated configuration of one Sealpost process. */
export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  database: { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string; poolMax: number; preparedStatements: boolean };
  /** The home region's blob store (the single-region variables); every region's is in `regions`. */
  blobStore: BlobStoreConfig;
  /** The home region (REGION): first-start tenants are created in it. */
  region: Region;
  /** The home region's root-key provider; every region's is in `regions`. */
  keyProvider: { kind: 'local'; file: string };
  /** Every region this installation serves (REGIONS, in uk, eea, us order), each with its own store and root key. */
  regions: RegionConfig[];
  mail: { kind: 'outbox'; dir: string; from: string } | { kind: 'smtp'; url: string; from: string };
  logLevel: string;
  segmentSize: number;
  bodyLimitBytes: number;
  trustProxy: boolean;
  /** DNS servers that look up domain-verification TXT records; empty: the system's resolvers. */
  dnsServers: string[];
  /** True when running on the embedded defaults (PGlite, local files): first-run conveniences apply. */
  embedded: boolean;
  /** The organisation and administrator `sealpost serve` creates on the first start of an embedded installation. */
  firstStart: { tenantName: string; adminEmail: string };
  /**
   * Users (by address) who act for the installation's operator in the web app and API (the
   * disclosure log). OPERATOR_EMAILS; unset: the first-start administrator on embedded
   * defaults, nobody otherwise (the CLI is the operator's tool either way).
   */
  operatorEmails: string[];
}

/** Parses the environment; throws AppError 'invalid_configuration' naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as most deployment tools write them for "no value".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.success ? parsed.data : undefined;
  // Cross-variable rules read the raw values, so they are reported even when others are invalid.
  const { served, home } = servedRegions(present, problems);
  for (const region of served) {
    const isHome = region === home;
    const raw = (name: RegionalName) => present[suffixed(name, region)] ?? present[name];
    if (raw('BLOB_STORE') !== 's3') continue;
    // The bucket is never inherited by another region: two regions in one bucket is no residency.
    const bucket = present[suffixed('S3_BUCKET', region)] ?? (isHome ? present.S3_BUCKET : undefined);
    if (!bucket) problems.push(isHome && served.length === 1 ? 'S3_BUCKET: required when BLOB_STORE=s3' : `${suffixed('S3_BUCKET', region)}: required when region ${region} uses the s3 blob store${isHome ? ' (or S3_BUCKET, for the home region)' : ''}`);
    for (const name of ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const) {
      if (!raw(name)) problems.push(isHome && served.length === 1 ? `${name}: required when BLOB_STORE=s3` : `${suffixed(name, region)}: required when region ${region} uses the s3 blob store (or ${name} for every region)`);
    }
  }
  for (const key of Object.keys(present)) {
    const m = /^([A-Z0-9_]+)_(UK|EEA|US)$/.exec(key);
    if (m && (REGIONAL_NAMES as string[]).includes(m[1]!) && !served.includes(m[2]!.toLowerCase() as Region)) {
      problems.push(`${key}: region ${m[2]!.toLowerCase()} is not served (REGIONS is ${served.join(',')})`);
    }
  }
  if (problems.length === 0 && e) problems.push(...overlappingRegions(regionConfigs(e, served, home, path.resolve(e.DATA_DIR))));
  if (problems.length > 0 || !e) {
    throw new AppError('invalid', 'invalid_configuration', `Invalid configuration:\n  - ${problems.sort().join('\n  - ')}\nSee docs/configuration.md.`, { problems });
  }
  const dataDir = path.resolve(e.DATA_DIR);
  const regions = regionConfigs(e, served, home, dataDir);
  const homeConfig = regions.find((r) => r.region === home)!;
  const displayHost = e.HOST === '0.0.0.0' || e.HOST === '::' ? 'localhost' : e.HOST;
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.PUBLIC_URL ?? `http://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${e.PORT}`).replace(/\/$/, ''),
    dataDir,
    database: e.DATABASE_URL ? { kind: 'postgres', url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX, preparedStatements: e.DATABASE_PREPARED_STATEMENTS } : { kind: 'pglite', dataDir: pgliteDataDir(dataDir) },
    blobStore: homeConfig.blobStore,
    region: home,
    keyProvider: homeConfig.keyProvider,
    regions,
    mail: e.SMTP_URL ? { kind: 'smtp', url: e.SMTP_URL, from: e.MAIL_FROM } : { kind: 'outbox', dir: path.resolve(e.OUTBOX_DIR ?? path.join(dataDir, 'outbox')), from: e.MAIL_FROM },
    logLevel: e.LOG_LEVEL,
    segmentSize: e.SEGMENT_SIZE,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    trustProxy: e.TRUST_PROXY,
    dnsServers: e.DOMAIN_VERIFICATION_DNS_SERVERS ?? [],
    embedded: !e.DATABASE_URL,
    firstStart: { tenantName: e.SEALPOST_TENANT_NAME, adminEmail: e.SEALPOST_ADMIN_EMAIL },
    operatorEmails: e.OPERATOR_EMAILS ?? (e.DATABASE_URL ? [] : [e.SEALPOST_ADMIN_EMAIL.toLowerCase()]),
  };
}

type Parsed = z.infer<typeof schema> & Record<string, unknown>;

/**
 * The served regions and the home region. REGIONS unset: the one region REGION (default uk),
 * exactly as before regions could be listed. REGIONS set: those, and REGION must be one of them
 * (default: the first listed).
 */
function servedRegions(present: Record<string, string | undefined>, problems: string[]): { served: Region[]; home: Region } {
  const listed = regionList.safeParse(present.REGIONS);
  const region = isRegion(present.REGION) ? present.REGION : undefined;
  if (!listed.success || present.REGIONS === undefined) {
    const home = region ?? 'uk';
    return { served: [home], home };
  }
  const served = REGIONS.filter((r) => listed.data.includes(r));
  if (region && !served.includes(region)) problems.push(`REGION: must be one of the served REGIONS (${served.join(', ')})`);
  return { served, home: region && served.includes(region) ? region : listed.data[0]! };
}

/**
 * Each served region's store and root key. Unsuffixed variables describe the home region (as
 * in a single-region installation, so adding regions moves no data); other regions take the
 * suffixed ones, inherit S3 endpoint, credentials and options (never the bucket, directory or
 * key file) and default to <DATA_DIR>/regions/<region>/.
 */
function regionConfigs(e: Parsed, served: Region[], home: Region, dataDir: string): RegionConfig[] {
  return served.map((region) => {
    const isHome = region === home;
    const own = <N extends RegionalName>(name: N) => e[suffixed(name, region)] as z.infer<(typeof regional)[N]> | undefined;
    const shared = <N extends RegionalName>(name: N) => (own(name) ?? e[name]) as z.infer<(typeof regional)[N]>;
    const homeOnly = <N extends RegionalName>(name: N) => own(name) ?? (isHome ? (e[name] as z.infer<(typeof regional)[N]> | undefined) : undefined);
    const base = isHome ? dataDir : path.join(dataDir, 'regions', region);
    const prefix = shared('S3_PREFIX');
    const blobStore: BlobStoreConfig =
      shared('BLOB_STORE') === 's3'
        ? {
            kind: 's3',
            endpoint: shared('S3_ENDPOINT'),
            region: shared('S3_REGION'),
            bucket: homeOnly('S3_BUCKET')!,
            accessKeyId: shared('S3_ACCESS_KEY_ID'),
            secretAccessKey: shared('S3_SECRET_ACCESS_KEY'),
            forcePathStyle: shared('S3_FORCE_PATH_STYLE'),
            conditionalWrites: shared('S3_CONDITIONAL_WRITES'),
            prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
          }
        : { kind: 'fs', dir: path.resolve(homeOnly('BLOB_DIR') ?? path.join(base, 'blobs')) };
    return { region, blobStore, keyProvider: { kind: shared('KEY_PROVIDER'), file: path.resolve(homeOnly('ROOT_KEY_FILE') ?? path.join(base, 'keys', 'root-keys.json')) } };
  });
}

/** Problems when two regions would share a directory, bucket or root key file (their data would cross). */
function overlappingRegions(regions: RegionConfig[]): string[] {
  const problems: string[] = [];
  const inside = (a: string, b: string) => a === b || a.startsWith(b + path.sep);
  for (const [i, a] of regions.entries()) {
    for (const b of regions.slice(i + 1)) {
      const pair = `${a.region} and ${b.region}`;
      const sa = a.blobStore;
      const sb = b.blobStore;
      if (sa.kind === 'fs' && sb.kind === 'fs' && (inside(sa.dir, sb.dir) || inside(sb.dir, sa.dir))) {
        problems.push(`${suffixed('BLOB_DIR', b.region)}: regions ${pair} would share the blob directory ${sb.dir}; give each region its own`);
      }
      if (sa.kind === 's3' && sb.kind === 's3' && sa.bucket === sb.bucket && (sa.endpoint ?? '') === (sb.endpoint ?? '')) {
        problems.push(`${suffixed('S3_BUCKET', b.region)}: regions ${pair} would share the bucket ${sb.bucket}; give each region its own bucket`);
      }
      if (a.keyProvider.file === b.keyProvider.file) {
        problems.push(`${suffixed('ROOT_KEY_FILE', b.region)}: regions ${pair} would share the root key file ${b.keyProvider.file}; give each region its own`);
      }
    }
  }
  return problems;
}
