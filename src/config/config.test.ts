import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../shared/app-error.ts';
import { loadConfig } from './config.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (isAppError(err, 'invalid_configuration')) return (err.details?.problems as string[]) ?? [];
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.publicUrl).toBe('http://127.0.0.1:8080');
    expect(c.database).toEqual({ kind: 'pglite', dataDir: path.resolve('data/database') });
    expect(c.blobStore).toEqual({ kind: 'fs', dir: path.resolve('data/blobs') });
    expect(c.mail).toMatchObject({ kind: 'outbox', dir: path.resolve('data/outbox') });
    expect(c.keyProvider).toEqual({ kind: 'local', file: path.resolve('data/keys/root-keys.json') });
    expect(c.embedded).toBe(true);
  });

  it('switches to PostgreSQL, S3 and SMTP from their variables', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgres://u@db:5432/sealpost',
      BLOB_STORE: 's3',
      S3_BUCKET: 'sealpost-content',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_FORCE_PATH_STYLE: 'true',
      SMTP_URL: 'smtp://relay:587',
      REGION: 'eea',
    });
    expect(c.database).toMatchObject({ kind: 'postgres', url: 'postgres://u@db:5432/sealpost' });
    expect(c.blobStore).toMatchObject({ kind: 's3', bucket: 'sealpost-content', forcePathStyle: true });
    expect(c.mail).toMatchObject({ kind: 'smtp', url: 'smtp://relay:587' });
    expect(c.region).toBe('eea');
    expect(c.embedded).toBe(false);
  });

  it('lists every invalid variable in one error, naming each', () => {
    const problems = problemsOf({ PORT: 'eighty', DATABASE_URL: 'mysql://x', REGION: 'mars', BLOB_STORE: 'tape', SEGMENT_SIZE: '3', LOG_LEVEL: 'loud' });
    const names = problems.map((p) => p.split(':')[0]);
    expect(names).toEqual(expect.arrayContaining(['PORT', 'DATABASE_URL', 'REGION', 'BLOB_STORE', 'SEGMENT_SIZE', 'LOG_LEVEL']));
    expect(problems.find((p) => p.startsWith('DATABASE_URL'))).toMatch(/postgres/);
  });

  it('reads the DNS servers for domain verification, refusing names and bad ports', () => {
    expect(loadConfig({}).dnsServers).toEqual([]);
    expect(loadConfig({ DOMAIN_VERIFICATION_DNS_SERVERS: '192.0.2.53, 192.0.2.54:5353,[2001:db8::1]:53' }).dnsServers).toEqual(['192.0.2.53', '192.0.2.54:5353', '[2001:db8::1]:53']);
    expect(loadConfig({ DOMAIN_VERIFICATION_DNS_SERVERS: '::1,2001:db8::53' }).dnsServers).toEqual(['::1', '2001:db8::53']);
    for (const bad of ['dns.example', '192.0.2.53:0', '192.0.2.53:70000', '999.0.2.53', '[192.0.2.53]:53', '192.0.2.53:5x', '[2001:db8::1]:']) {
      expect(problemsOf({ DOMAIN_VERIFICATION_DNS_SERVERS: bad }).map((p) => p.split(':')[0])).toEqual(['DOMAIN_VERIFICATION_DNS_SERVERS']);
    }
  });

  it('reads the operator addresses: the first-start administrator on embedded defaults, nobody on PostgreSQL, refusing non-addresses', () => {
    expect(loadConfig({ SEALPOST_ADMIN_EMAIL: 'Owner@Example.org' }).operatorEmails).toEqual(['owner@example.org']);
    expect(loadConfig({ DATABASE_URL: 'postgres://db.internal/sealpost' }).operatorEmails).toEqual([]);
    expect(loadConfig({ OPERATOR_EMAILS: ' Legal@Op.example, dpo@op.example ,' }).operatorEmails).toEqual(['legal@op.example', 'dpo@op.example']);
    expect(problemsOf({ OPERATOR_EMAILS: 'legal@op.example, the DPO' }).map((p) => p.split(':')[0])).toEqual(['OPERATOR_EMAILS']);
  });

  it('requires bucket and credentials when BLOB_STORE=s3', () => {
    expect(problemsOf({ BLOB_STORE: 's3' }).map((p) => p.split(':')[0]).sort()).toEqual(['S3_ACCESS_KEY_ID', 'S3_BUCKET', 'S3_SECRET_ACCESS_KEY']);
  });

  it('reports the missing S3 settings together with unrelated invalid variables', () => {
    expect(problemsOf({ BLOB_STORE: 's3', PORT: 'eighty', S3_BUCKET: 'bucket' }).map((p) => p.split(':')[0]).sort()).toEqual(['PORT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']);
  });

  it('normalises S3_PREFIX to end with a slash and refuses traversal-like prefixes', () => {
    const s3 = { BLOB_STORE: 's3', S3_BUCKET: 'bucket', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' };
    expect(loadConfig({ ...s3, S3_PREFIX: 'sealpost/blobs' }).blobStore).toMatchObject({ prefix: 'sealpost/blobs/' });
    for (const bad of ['/abs', 'a//b', '../x', 'a/./b']) expect(problemsOf({ ...s3, S3_PREFIX: bad }).map((p) => p.split(':')[0])).toEqual(['S3_PREFIX']);
  });

  it('reads the first-start organisation and administrator, lower-casing the address', () => {
    expect(loadConfig({}).firstStart).toEqual({ tenantName: 'My organisation', adminEmail: 'admin@localhost' });
    expect(loadConfig({ SEALPOST_TENANT_NAME: ' Acme Ltd ', SEALPOST_ADMIN_EMAIL: 'Ops@Acme.Example' }).firstStart).toEqual({ tenantName: 'Acme Ltd', adminEmail: 'ops@acme.example' });
    expect(problemsOf({ SEALPOST_ADMIN_EMAIL: 'not an address', SEALPOST_TENANT_NAME: 'x'.repeat(201) }).map((p) => p.split(':')[0]).sort()).toEqual(['SEALPOST_ADMIN_EMAIL', 'SEALPOST_TENANT_NAME']);
  });

  it('does prepare statements on PostgreSQL unless DATABASE_PREPARED_STATEMENTS is false', () => {
    const url = 'postgres://sealpost@db.example:5432/sealpost';
    expect(loadConfig({ DATABASE_URL: url }).database).toEqual({ kind: 'postgres', url, poolMax: 10, preparedStatements: true });
    expect(loadConfig({ DATABASE_URL: url, DATABASE_PREPARED_STATEMENTS: 'false' }).database).toMatchObject({ preparedStatements: false });
    expect(problemsOf({ DATABASE_URL: url, DATABASE_PREPARED_STATEMENTS: 'sometimes' }).map((p) => p.split(':')[0])).toEqual(['DATABASE_PREPARED_STATEMENTS']);
  });

  it('says where to read about the variables and treats empty values as unset', () => {
    expect(() => loadConfig({ PORT: '-1' })).toThrow(/PORT.*\n?.*docs\/configuration.md/s);
    expect(loadConfig({ DATABASE_URL: '' }).database.kind).toBe('pglite');
  });
});

describe('loadConfig regions', () => {
  it('serves only REGION with the single-region variables when REGIONS is unset', () => {
    const c = loadConfig({ REGION: 'eea', BLOB_DIR: '/srv/blobs', ROOT_KEY_FILE: '/srv/keys/root.json' });
    expect(c.region).toBe('eea');
    expect(c.regions).toEqual([{ region: 'eea', blobStore: { kind: 'fs', dir: '/srv/blobs' }, keyProvider: { kind: 'local', file: '/srv/keys/root.json' } }]);
    expect(loadConfig({}).regions.map((r) => r.region)).toEqual(['uk']);
  });

  it('gives every listed region its own store and root key, the home region keeping the unsuffixed locations', () => {
    const c = loadConfig({ REGIONS: 'us, uk,eea', REGION: 'uk', DATA_DIR: '/srv/sp', BLOB_DIR_US: '/mnt/us-blobs', ROOT_KEY_FILE_EEA: '/secrets/eea.json' });
    expect(c.region).toBe('uk');
    expect(c.regions).toEqual([
      { region: 'uk', blobStore: { kind: 'fs', dir: '/srv/sp/blobs' }, keyProvider: { kind: 'local', file: '/srv/sp/keys/root-keys.json' } },
      { region: 'eea', blobStore: { kind: 'fs', dir: '/srv/sp/regions/eea/blobs' }, keyProvider: { kind: 'local', file: '/secrets/eea.json' } },
      { region: 'us', blobStore: { kind: 'fs', dir: '/mnt/us-blobs' }, keyProvider: { kind: 'local', file: '/srv/sp/regions/us/keys/root-keys.json' } },
    ]);
    expect(c.blobStore).toEqual(c.regions[0]!.blobStore);
    expect(loadConfig({ REGIONS: 'eea,us' }).region).toBe('eea');
  });

  it('lets a region use S3, inheriting endpoint and credentials but never the bucket', () => {
    const c = loadConfig({ REGIONS: 'uk,us', BLOB_STORE_US: 's3', S3_BUCKET_US: 'sp-us', S3_REGION_US: 'us-east-2', S3_ENDPOINT: 'http://minio:9000', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' });
    expect(c.regions[0]!.blobStore).toMatchObject({ kind: 'fs' });
    expect(c.regions[1]!.blobStore).toEqual({ kind: 's3', endpoint: 'http://minio:9000', region: 'us-east-2', bucket: 'sp-us', accessKeyId: 'id', secretAccessKey: 'secret', forcePathStyle: false, conditionalWrites: true, prefix: '' });
    const all = { REGIONS: 'uk,eea', BLOB_STORE: 's3', S3_BUCKET: 'sp-uk', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' };
    expect(problemsOf(all)).toEqual([expect.stringMatching(/^S3_BUCKET_EEA: required when region eea uses the s3 blob store/)]);
  });

  it('refuses regions that would share a directory, bucket or root key file', () => {
    expect(problemsOf({ REGIONS: 'uk,eea', BLOB_DIR: '/srv/blobs', BLOB_DIR_EEA: '/srv/blobs/eea' })).toEqual([expect.stringMatching(/^BLOB_DIR_EEA: regions uk and eea would share/)]);
    expect(problemsOf({ REGIONS: 'uk,eea', ROOT_KEY_FILE: '/k.json', ROOT_KEY_FILE_EEA: '/k.json' })).toEqual([expect.stringMatching(/^ROOT_KEY_FILE_EEA: regions uk and eea would share/)]);
    const s3 = { BLOB_STORE: 's3', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' };
    expect(problemsOf({ ...s3, REGIONS: 'uk,us', S3_BUCKET: 'one', S3_BUCKET_US: 'one' })).toEqual([expect.stringMatching(/^S3_BUCKET_US: regions uk and us would share the bucket one/)]);
  });

  it('lists every regional problem in one error: bad lists, a home region not served, variables of unserved regions', () => {
    expect(problemsOf({ REGIONS: 'uk,mars' }).map((p) => p.split(':')[0])).toEqual(['REGIONS']);
    expect(problemsOf({ REGIONS: 'uk,uk' })).toEqual([expect.stringMatching(/^REGIONS: must not name a region twice/)]);
    const problems = problemsOf({ REGIONS: 'uk,eea', REGION: 'us', BLOB_DIR_US: '/x', BLOB_STORE_EEA: 'tape', PORT: 'eighty' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['BLOB_DIR_US', 'BLOB_STORE_EEA', 'PORT', 'REGION']);
    expect(problems.find((p) => p.startsWith('REGION:'))).toMatch(/served REGIONS \(uk, eea\)/);
  });
});
