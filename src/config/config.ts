// Configuration: the environment is parsed once, here, into a typed object. Start-up fails
// with one message that lists every invalid variable, so an operator fixes them all at once.
// Every variable is documented in docs/configuration.md (keep the two in step).

import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../shared/app-error.ts';
import { REGIONS } from '../shared/regions.ts';
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

const schema = z.object({
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DATABASE_POOL_MAX: int(1, 500).default(10),
  BLOB_STORE: z.enum(['fs', 's3']).default('fs'),
  BLOB_DIR: z.string().min(1).optional(),
  S3_ENDPOINT: url(['http:', 'https:']).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_BUCKET: z.string().min(3).max(63).optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: bool.default(false),
  S3_CONDITIONAL_WRITES: bool.default(true),
  S3_PREFIX: z.string().regex(/^(?:[a-z0-9_-]+\/)*(?:[a-z0-9_-]+)?$/, 'must be path segments of a-z, 0-9, _ and - separated by single slashes, e.g. sealpost/blobs/').default(''),
  REGION: z.enum(REGIONS).default('uk'),
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

/** The validated configuration of one Sealpost process. */
export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  database: { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string; poolMax: number };
  blobStore:
    | { kind: 'fs'; dir: string }
    | { kind: 's3'; endpoint?: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: boolean; prefix: string; conditionalWrites: boolean };
  region: (typeof REGIONS)[number];
  keyProvider: { kind: 'local'; file: string };
  mail: { kind: 'outbox'; dir: string; from: string } | { kind: 'smtp'; url: string; from: string };
  logLevel: string;
  segmentSize: number;
  bodyLimitBytes: number;
  trustProxy: boolean;
  /** True when running on the embedded defaults (PGlite, local files): first-run conveniences apply. */
  embedded: boolean;
  /** The organisation and administrator `sealpost serve` creates on the first start of an embedded installation. */
  firstStart: { tenantName: string; adminEmail: string };
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
  if (present.BLOB_STORE === 's3') {
    for (const name of ['S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const) {
      if (!present[name]) problems.push(`${name}: required when BLOB_STORE=s3`);
    }
  }
  if (problems.length > 0 || !e) {
    throw new AppError('invalid', 'invalid_configuration', `Invalid configuration:\n  - ${problems.sort().join('\n  - ')}\nSee docs/configuration.md.`, { problems });
  }
  const dataDir = path.resolve(e.DATA_DIR);
  const displayHost = e.HOST === '0.0.0.0' || e.HOST === '::' ? 'localhost' : e.HOST;
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.PUBLIC_URL ?? `http://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${e.PORT}`).replace(/\/$/, ''),
    dataDir,
    database: e.DATABASE_URL ? { kind: 'postgres', url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX } : { kind: 'pglite', dataDir: pgliteDataDir(dataDir) },
    blobStore:
      e.BLOB_STORE === 's3'
        ? { kind: 's3', endpoint: e.S3_ENDPOINT, region: e.S3_REGION, bucket: e.S3_BUCKET!, accessKeyId: e.S3_ACCESS_KEY_ID!, secretAccessKey: e.S3_SECRET_ACCESS_KEY!, forcePathStyle: e.S3_FORCE_PATH_STYLE, conditionalWrites: e.S3_CONDITIONAL_WRITES, prefix: e.S3_PREFIX === '' || e.S3_PREFIX.endsWith('/') ? e.S3_PREFIX : `${e.S3_PREFIX}/` }
        : { kind: 'fs', dir: path.resolve(e.BLOB_DIR ?? path.join(dataDir, 'blobs')) },
    region: e.REGION,
    keyProvider: { kind: 'local', file: path.resolve(e.ROOT_KEY_FILE ?? path.join(dataDir, 'keys', 'root-keys.json')) },
    mail: e.SMTP_URL ? { kind: 'smtp', url: e.SMTP_URL, from: e.MAIL_FROM } : { kind: 'outbox', dir: path.resolve(e.OUTBOX_DIR ?? path.join(dataDir, 'outbox')), from: e.MAIL_FROM },
    logLevel: e.LOG_LEVEL,
    segmentSize: e.SEGMENT_SIZE,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    trustProxy: e.TRUST_PROXY,
    embedded: !e.DATABASE_URL,
    firstStart: { tenantName: e.SEALPOST_TENANT_NAME, adminEmail: e.SEALPOST_ADMIN_EMAIL },
  };
}
