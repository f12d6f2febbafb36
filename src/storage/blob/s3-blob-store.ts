// Blob store on Amazon S3 or an S3-compatible service (MinIO, Ceph RGW, R2, ...).
// Uploads are multipart with fixed-size parts sent one at a time, so memory per upload stays
// near 3 × PART_SIZE whatever the blob size; S3 makes the object visible only when the upload
// completes, which gives the all-or-nothing guarantee of BlobStore.put.

import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { AppError, errors } from '../../shared/app-error.ts';
import {
  assertBlobKey,
  assertByteRangeShape,
  assertKeyForPut,
  discardBody,
  meterBody,
  type BlobBody,
  type BlobStore,
  type ByteRange,
} from './blob-store.ts';

/** Connection settings of {@link S3BlobStore} (from BLOB_STORE=s3 and the S3_* variables). */
export interface S3BlobStoreOptions {
  /** Custom endpoint for S3-compatible services, e.g. `http://minio:9000`; omit for AWS. */
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `bucket` in the path instead of the host name; most self-hosted services need `true`. */
  forcePathStyle: boolean;
  /** Prepended to every key: empty, or path segments each ending in '/', e.g. `sealpost/blobs/`. */
  prefix?: string;
  /**
   * Send `If-None-Match: *` so the service itself refuses an overwrite (AWS S3 since 2024, MinIO,
   * R2). Default true; set false only for a service that rejects the header.
   */
  conditionalWrites?: boolean;
}

/** Bytes per multipart part; S3 needs at least 5 MiB for every part but the last. */
const PART_SIZE = 8 * 1024 * 1024;
/**
 * Parts in flight per upload. lib-storage holds each part in flight plus the part being
 * gathered and a copy made while cutting it (measured: ~26 MiB at 1, ~35 MiB at 2). Many
 * concurrent uploads give the parallelism; bounded memory per upload matters more.
 */
const QUEUE_SIZE = 1;

// Segments of only dots are refused: proxies and SDK path handling may resolve them.
const PREFIX = /^(?:(?!\.{1,2}\/)[A-Za-z0-9._-]+\/)*$/;
const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

function httpStatus(err: unknown): number | undefined {
  const metadata = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return metadata?.httpStatusCode;
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

function unavailable(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return errors.unavailable('blob_store_unavailable', 'the object store cannot be reached or refused the request', err);
}

function notFound(): AppError {
  return errors.notFound('blob_not_found', 'no blob is stored under this key');
}

function blobExists(): AppError {
  return errors.conflict('blob_exists', 'a blob is already stored under this key');
}

/** A 404 about the object (not the bucket, which is a configuration fault). */
function isMissingObject(err: unknown): boolean {
  return httpStatus(err) === 404 && errorName(err) !== 'NoSuchBucket';
}

/**
 * Passes on `length` bytes of `source` after skipping `skip`, then stops reading it.
 * Needed because some servers (s3rver for `bytes=0-0`, proxies that drop Range) send more
 * than the range asked for; callers must never see bytes outside the range.
 */
function sliceStream(source: Readable, skip: number, length: number): Readable {
  async function* slice(): AsyncGenerator<Uint8Array> {
    let toSkip = skip;
    let left = length;
    for await (const data of source) {
      let chunk = data as Uint8Array;
      if (toSkip > 0) {
        if (chunk.byteLength <= toSkip) {
          toSkip -= chunk.byteLength;
          continue;
        }
        chunk = chunk.subarray(toSkip);
        toSkip = 0;
      }
      if (chunk.byteLength >= left) {
        yield chunk.subarray(0, left);
        return;
      }
      left -= chunk.byteLength;
      yield chunk;
    }
    throw errors.unavailable('blob_store_unavailable', 'the object store ended the blob early');
  }
  return Readable.from(slice(), { objectMode: false });
}

/** `BlobStore` on an S3 bucket; see docs/blob-stores.md for settings and guarantees. */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly conditionalWrites: boolean;

  /** Validates the settings and creates the client; no request is made until first use. */
  constructor(options: S3BlobStoreOptions) {
    const prefix = options.prefix ?? '';
    if (!PREFIX.test(prefix)) {
      throw errors.invalid(
        'invalid_s3_prefix',
        "S3 prefix must be empty or path segments of A-Z a-z 0-9 . _ - each ending in '/', e.g. 'sealpost/blobs/'",
      );
    }
    this.bucket = options.bucket;
    this.prefix = prefix;
    this.conditionalWrites = options.conditionalWrites ?? true;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      // Blobs are sealed (AEAD) so integrity is checked end to end on open; optional CRC
      // checksums add nothing but break many S3-compatible services, so send them only when required.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Readiness checks must fail fast on an unreachable endpoint instead of waiting on TCP.
      requestHandler: { connectionTimeout: 5_000 },
    });
  }

  private objectKey(key: string): string {
    return `${this.prefix}${key}`;
  }

  /**
   * Multipart-uploads `body`; see {@link BlobStore.put}. Overwrites are refused by a HeadObject
   * first and, when `conditionalWrites` is on, by `If-None-Match: *` on the final request. Without
   * the header (or on a service that ignores it, like s3rver) two concurrent puts of the same key
   * could both pass the HeadObject and the later one win; keys are random ids, so that needs a
   * caller bug, but only the conditional write closes the race.
   */
  async put(key: string, body: BlobBody): Promise<{ size: number }> {
    await assertKeyForPut(key, body);
    if (await this.exists(key)) {
      await discardBody(body);
      throw blobExists();
    }

    const objectKey = this.objectKey(key);
    const metered = meterBody(body);
    const source = Readable.from(metered, { objectMode: false });
    let upload: Upload | undefined;
    try {
      upload = new Upload({
        client: this.client,
        params: {
          Bucket: this.bucket,
          Key: objectKey,
          Body: source,
          ContentType: 'application/octet-stream',
          ...(this.conditionalWrites ? { IfNoneMatch: '*' } : {}),
        },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
      });
      await upload.done();
      return { size: metered.bytes };
    } catch (err) {
      source.destroy();
      // Covers a failure before lib-storage read anything, when destroying `source` cannot reach the body.
      await discardBody(body);
      await this.abortMultipartUpload(objectKey, upload?.uploadId);
      if (metered.error !== undefined) throw metered.error;
      throw this.putError(err);
    }
  }

  /** `put` of a one-chunk body: lib-storage sends a body below one part as a single PutObject. */
  async putBytes(key: string, bytes: Uint8Array): Promise<{ size: number }> {
    return this.put(key, (async function* () {
      yield bytes;
    })());
  }

  /** Streams the object or `range` of it, checking the range against the object's real size. */
  async get(key: string, range?: ByteRange): Promise<Readable> {
    assertBlobKey(key);
    if (range !== undefined) assertByteRangeShape(range);
    let response;
    try {
      response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end === undefined ? '' : range.end - 1}` } : {}),
        }),
      );
    } catch (err) {
      if (isMissingObject(err)) throw notFound();
      if (httpStatus(err) === 416) throw errors.invalid('invalid_range', 'byte range is outside the blob');
      throw unavailable(err);
    }
    const body = response.Body;
    if (!(body instanceof Readable)) {
      throw errors.internal('blob_store_unexpected_body', 'the S3 client returned a non-Node stream');
    }
    if (range === undefined) return body;

    try {
      return this.trimToRange(body, range, response.ContentRange, response.ContentLength);
    } catch (err) {
      body.destroy();
      throw err;
    }
  }

  /** Object size from HeadObject. */
  async size(key: string): Promise<number> {
    assertBlobKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      if (head.ContentLength === undefined) {
        throw errors.unavailable('blob_store_unavailable', 'the object store did not report a size');
      }
      return head.ContentLength;
    } catch (err) {
      if (isMissingObject(err)) throw notFound();
      throw unavailable(err);
    }
  }

  /**
   * HeadObject. Needs s3:ListBucket on the bucket: without it S3 answers 403 rather than 404 for
   * a missing object, which is reported as unavailable, not as "absent".
   */
  async exists(key: string): Promise<boolean> {
    assertBlobKey(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (err) {
      // HeadObject has no body, so a missing bucket also looks like a 404; check() tells them apart.
      if (isMissingObject(err)) return false;
      throw unavailable(err);
    }
  }

  /** DeleteObject, which S3 already treats as idempotent. */
  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (err) {
      if (isMissingObject(err)) return;
      throw unavailable(err);
    }
  }

  /** HeadBucket: the endpoint answers, the credentials work and the bucket exists. */
  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      throw errors.unavailable('blob_store_unavailable', 'the object store bucket cannot be reached', err);
    }
  }

  /** Maps a failed upload to the store's errors. */
  private putError(err: unknown): AppError {
    const status = httpStatus(err);
    // 412: the conditional write found the key taken; 409: another conditional write raced us.
    if (status === 412 || (status === 409 && errorName(err) === 'ConditionalRequestConflict')) return blobExists();
    if (this.conditionalWrites && status === 501) {
      return errors.unavailable(
        'blob_store_conditional_writes_unsupported',
        'the object store rejected the If-None-Match header; disable conditional writes for this store',
        err,
      );
    }
    return unavailable(err);
  }

  /**
   * lib-storage aborts on failure too, but skips the abort if its own request fails or raises
   * that failure instead of the original error; asking again is cheap (a 404 NoSuchUpload means
   * the parts are already gone). Parts left after both attempts are removed by the bucket's
   * AbortIncompleteMultipartUpload lifecycle rule (see docs/blob-stores.md).
   */
  private async abortMultipartUpload(objectKey: string, uploadId: string | undefined): Promise<void> {
    if (uploadId === undefined) return;
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId: uploadId }),
      );
    } catch {
      // Reporting the upload's own failure matters more; the lifecycle rule is the backstop.
    }
  }

  /** Validates the served range against the object and cuts away anything the server over-sent. */
  private trimToRange(
    body: Readable,
    range: ByteRange,
    contentRange: string | undefined,
    contentLength: number | undefined,
  ): Readable {
    let servedStart: number;
    let servedEnd: number; // exclusive
    let total: number | undefined;
    const match = contentRange === undefined ? null : CONTENT_RANGE.exec(contentRange);
    if (match) {
      servedStart = Number(match[1]);
      servedEnd = Number(match[2]) + 1;
      total = match[3] === '*' ? undefined : Number(match[3]);
    } else if (contentRange === undefined && contentLength !== undefined) {
      // 200 without Content-Range: the server ignored Range and sent the whole object.
      servedStart = 0;
      servedEnd = contentLength;
      total = contentLength;
    } else {
      throw errors.unavailable('blob_store_unavailable', 'the object store sent an unreadable Content-Range');
    }

    if (total !== undefined && (range.start >= total || (range.end ?? total) > total)) {
      throw errors.invalid('invalid_range', 'byte range is outside the blob', { size: total });
    }
    const wantedEnd = range.end ?? total ?? servedEnd;
    if (servedStart > range.start || servedEnd < wantedEnd) {
      throw errors.unavailable('blob_store_unavailable', 'the object store sent less than the requested range');
    }
    if (servedStart === range.start && servedEnd === wantedEnd) return body;
    return sliceStream(body, range.start - servedStart, wantedEnd - range.start);
  }
}
