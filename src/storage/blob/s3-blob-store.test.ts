// Behaviour specific to the S3 store; the shared contract is in blob-store.test.ts.

import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MiB,
  bodyOf,
  buildBlobKey,
  failingBody,
  patternBytes,
  readAll,
  recordMultipartUploads,
  startS3Server,
  type MultipartRecord,
  type TestS3Server,
} from './blob-test-support.ts';
import { S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store.ts';

/** A stand-in S3 endpoint answering every request with `handler`, for replies s3rver never gives. */
async function startFakeS3(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ options: S3BlobStoreOptions; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    options: {
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      bucket: 'fake',
      accessKeyId: 'fake',
      secretAccessKey: 'fake',
      forcePathStyle: true,
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function s3Error(res: ServerResponse, status: number, code: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>fake</Message></Error>`);
}

describe('S3BlobStore', () => {
  let server: TestS3Server;
  let uploads: MultipartRecord;
  let store: S3BlobStore;

  beforeAll(async () => {
    server = await startS3Server();
    uploads = recordMultipartUploads();
    store = new S3BlobStore(server.options());
  });

  afterAll(async () => {
    uploads?.stop();
    await server?.stop();
  });

  it('does abort the multipart upload when the body fails after the first part', async () => {
    const key = buildBlobKey();
    const failure = new Error('connection to the sender dropped');
    const before = new Set(uploads.created);

    await expect(store.put(key, failingBody(12 * MiB, failure))).rejects.toBe(failure);

    const started = [...uploads.created].filter((id) => !before.has(id));
    expect(started).toHaveLength(1);
    expect(uploads.abortRequested.has(started[0]!)).toBe(true);
    expect(uploads.completed.has(started[0]!)).toBe(false);
    expect(await store.exists(key)).toBe(false);
  });

  it('does send If-None-Match on the request that makes a blob visible', async () => {
    const sentBefore = uploads.commands.length;
    await store.put(buildBlobKey(), bodyOf(patternBytes(1024)));
    await store.put(buildBlobKey(), bodyOf(patternBytes(16 * MiB + 3)));

    const sent = uploads.commands.slice(sentBefore);
    expect(sent.filter((command) => command.name === 'PutObjectCommand')).toEqual([
      { name: 'PutObjectCommand', ifNoneMatch: '*' },
    ]);
    expect(sent.filter((command) => command.name === 'UploadPartCommand')).toHaveLength(3);
    expect(sent.filter((command) => command.name === 'CompleteMultipartUploadCommand')).toEqual([
      { name: 'CompleteMultipartUploadCommand', ifNoneMatch: '*' },
    ]);
  });

  it('does leave If-None-Match out when conditional writes are off', async () => {
    const plain = new S3BlobStore(server.options({ conditionalWrites: false }));
    const sentBefore = uploads.commands.length;
    const key = buildBlobKey();

    await plain.put(key, bodyOf(patternBytes(10)));

    const puts = uploads.commands.slice(sentBefore).filter((command) => command.name === 'PutObjectCommand');
    expect(puts).toEqual([{ name: 'PutObjectCommand', ifNoneMatch: undefined }]);
    // The HeadObject check still refuses an overwrite.
    await expect(plain.put(key, bodyOf(patternBytes(10)))).rejects.toMatchObject({ code: 'blob_exists' });
  });

  it('does store objects under the prefix', async () => {
    const prefixed = new S3BlobStore(server.options({ prefix: 'tenant-a/blobs/' }));
    const key = buildBlobKey();
    await prefixed.put(key, bodyOf(patternBytes(10)));

    const options = server.options();
    const raw = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: true,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    });
    const head = await raw.send(new HeadObjectCommand({ Bucket: options.bucket, Key: `tenant-a/blobs/${key}` }));
    expect(head.ContentLength).toBe(10);
    expect(await store.exists(key)).toBe(false);
    raw.destroy();
  });

  it.each(['/abs/', 'no-slash', '../', 'a/../', 'a//', 'sp ace/'])('does refuse the prefix %j', (prefix) => {
    expect(() => new S3BlobStore(server.options({ prefix }))).toThrow(
      expect.objectContaining({ kind: 'invalid', code: 'invalid_s3_prefix' }),
    );
  });

  it('does fail check with unavailable when the endpoint does not answer', async () => {
    const fake = await startFakeS3(() => undefined);
    const options = fake.options;
    await fake.close();

    await expect(new S3BlobStore(options).check()).rejects.toMatchObject({
      kind: 'unavailable',
      code: 'blob_store_unavailable',
    });
  });

  describe('against replies s3rver never gives', () => {
    it.each([
      [412, 'PreconditionFailed', 'blob_exists'],
      [409, 'ConditionalRequestConflict', 'blob_exists'],
      [501, 'NotImplemented', 'blob_store_conditional_writes_unsupported'],
      [500, 'InternalError', 'blob_store_unavailable'],
    ])('does map a %i %s on upload to %s', async (status, code, expected) => {
      const fake = await startFakeS3((req, res) => {
        if (req.method === 'HEAD') {
          res.writeHead(404).end();
        } else {
          s3Error(res, status, code);
        }
      });
      try {
        const fakeStore = new S3BlobStore(fake.options);
        await expect(fakeStore.put(buildBlobKey(), bodyOf(patternBytes(10)))).rejects.toMatchObject({ code: expected });
      } finally {
        await fake.close();
      }
    });

    it('does cut a range out of a server reply that ignored the Range header', async () => {
      const content = Buffer.from('0123456789');
      const fake = await startFakeS3((_req, res) => {
        res.writeHead(200, { 'content-length': String(content.length), 'content-type': 'application/octet-stream' });
        res.end(content);
      });
      try {
        const fakeStore = new S3BlobStore(fake.options);
        expect((await readAll(await fakeStore.get(buildBlobKey(), { start: 2, end: 5 }))).toString()).toBe('234');
        expect((await readAll(await fakeStore.get(buildBlobKey(), { start: 7 }))).toString()).toBe('789');
        await expect(fakeStore.get(buildBlobKey(), { start: 5, end: 11 })).rejects.toMatchObject({
          code: 'invalid_range',
        });
      } finally {
        await fake.close();
      }
    });
  });
});
