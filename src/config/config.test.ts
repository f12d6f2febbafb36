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

  it('says where to read about the variables and treats empty values as unset', () => {
    expect(() => loadConfig({ PORT: '-1' })).toThrow(/PORT.*\n?.*docs\/configuration.md/s);
    expect(loadConfig({ DATABASE_URL: '' }).database.kind).toBe('pglite');
  });
});
