// The recipient's side of opening a message in the browser: a per-session ECDH P-256 key pair
// whose private half is non-extractable, the server's key release unwrapped straight into
// non-extractable AES-GCM keys (src/crypto/web/key-release.ts), and sealed objects downloaded
// and opened with WebCrypto as they stream (src/crypto/web/sealed-object.ts). No data key is
// ever visible to scripts; plaintext exists only in this tab's memory (and in files the
// reader chooses to save).
import { createWebClientKeyPair, openWebKeyRelease, type WebClientKeyPair } from '../../../src/crypto/web/key-release.ts';
import { createOpenTransformStream, openSealedBytes } from '../../../src/crypto/web/sealed-object.ts';
import { api, ApiError, type Progress } from './api.ts';

/** The recipient session header (see docs/api.md, "Opening a message"). */
export const RECIPIENT_SESSION_HEADER = 'x-recipient-session';

/** What /access/open says about the message (never Bcc). */
export interface OpenedMessage {
  id: string;
  threadId: string;
  sender: string;
  sentAt: string;
  expiresAt: string | null;
  label: { name: string; noForward: boolean; noDownload: boolean; watermark: boolean };
  envelopeObjectId: string;
  attachmentObjectIds: string[];
  to: string[];
  cc: string[];
}

/** The decrypted envelope. */
export interface Envelope {
  version: 1;
  subject: string;
  text: string;
  html: string | null;
  attachments: Array<{ objectId: string; filename: string; contentType: string; size: number }>;
}

/** A message opened in this tab: metadata, the decrypted envelope and the keys to download files. */
export interface OpenedSession {
  message: OpenedMessage;
  you: { recipientId: string; email: string; kind: 'to' | 'cc' | 'bcc' };
  envelope: Envelope;
  keys: Map<string, { keyId: string; key: CryptoKey }>;
}

const headers = (session: string) => ({ [RECIPIENT_SESSION_HEADER]: session });

async function fetchObject(session: string, objectId: string, signal?: AbortSignal): Promise<Response> {
  const res = await fetch(`/api/v1/access/objects/${encodeURIComponent(objectId)}`, { headers: headers(session), ...(signal ? { signal } : {}) });
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = 'The download failed';
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // keep the status
    }
    throw new ApiError(res.status, code, message);
  }
  return res;
}

/** Releases the keys to a fresh session key pair and decrypts the envelope. */
export async function openMessage(session: string): Promise<OpenedSession> {
  const pair: WebClientKeyPair = await createWebClientKeyPair();
  const opened = await api<{ message: OpenedMessage; you: OpenedSession['you']; keyRelease: unknown }>('POST', '/api/v1/access/open', { body: { clientPublicKey: pair.publicKey }, headers: headers(session), anonymous: true });
  const keys = await openWebKeyRelease(pair, opened.keyRelease);
  const envelopeKey = keys.get(opened.message.envelopeObjectId);
  if (!envelopeKey) throw new ApiError(0, 'key_missing', 'The message key was not released.');
  const res = await fetchObject(session, opened.message.envelopeObjectId);
  const plain = await openSealedBytes(envelopeKey.key, new Uint8Array(await res.arrayBuffer()), { objectId: opened.message.envelopeObjectId, keyId: envelopeKey.keyId });
  const envelope = JSON.parse(new TextDecoder().decode(plain)) as Envelope;
  if (envelope.version !== 1 || typeof envelope.subject !== 'string' || !Array.isArray(envelope.attachments)) throw new ApiError(0, 'envelope_invalid', 'The message could not be read.');
  return { message: opened.message, you: opened.you, envelope, keys };
}

/**
 * Downloads one attachment and decrypts it as it arrives: the sealed bytes are never held
 * whole, and each segment is authenticated before its plaintext is passed on. `sink` gets
 * the plaintext stream (a file on disk, or a Blob collector). Progress counts sealed bytes.
 */
export async function decryptAttachment(session: string, opened: OpenedSession, objectId: string, sink: WritableStream<Uint8Array>, onProgress: Progress, signal?: AbortSignal): Promise<void> {
  const k = opened.keys.get(objectId);
  if (!k) throw new ApiError(0, 'key_missing', 'The key for this file was not released.');
  const res = await fetchObject(session, objectId, signal);
  const total = Number(res.headers.get('content-length')) || 0;
  let done = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      done += chunk.length;
      onProgress(done, total);
      controller.enqueue(chunk);
    },
  });
  await res.body!.pipeThrough(counter).pipeThrough(createOpenTransformStream(k.key, { objectId, keyId: k.keyId })).pipeTo(sink, signal ? { signal } : {});
  onProgress(total, total);
}

/** A writable that collects chunks into a Blob (when no file can be written directly). */
export function blobCollector(type: string): { sink: WritableStream<Uint8Array>; blob(): Blob } {
  const parts: BlobPart[] = [];
  const sink = new WritableStream<Uint8Array>({
    write(chunk) {
      // A Blob per chunk lets the browser keep large data out of the JS heap.
      parts.push(new Blob([chunk as Uint8Array<ArrayBuffer>]));
    },
  });
  return { sink, blob: () => new Blob(parts, { type }) };
}

/** Recipient API calls (the link token travels in bodies only; see docs/api.md). */
export const recipientApi = {
  describe: (link: string) => api<{ maskedEmail: string; authLevel: string }>('POST', '/api/v1/access/link', { body: { link }, anonymous: true }),
  requestCode: (link: string) => api<{ sentTo: string; expiresAt: string }>('POST', '/api/v1/access/code', { body: { link }, anonymous: true }),
  verify: (link: string, code: string) => api<{ sessionToken: string; expiresAt: string }>('POST', '/api/v1/access/verify', { body: { link, code }, anonymous: true }),
  status: (session: string) => api<{ disclaimer: string | null; disclaimerAccepted: boolean }>('GET', '/api/v1/access/status', { headers: headers(session), anonymous: true }),
  acceptDisclaimer: (session: string) => api<void>('POST', '/api/v1/access/disclaimer', { headers: headers(session), anonymous: true }),
  reply: (session: string, body: { text: string; html: string | null; replyAll: boolean; region?: string; attachments: Array<{ uploadId: string; filename: string; contentType: string }> }) =>
    api<{ id: string; subject: string; to: string[]; cc: string[]; region: string }>('POST', '/api/v1/access/reply', { body, headers: headers(session), anonymous: true }),
  /** Where a reply may be stored: the sender organisation's home region and any others it allows. */
  replyRegions: (session: string) => api<{ default: string; choices: string[] }>('GET', '/api/v1/access/reply-regions', { headers: headers(session), anonymous: true }),
  requestAccess: (link: string, email: string, reason: string) => api<{ requestId: string; sentTo: string; expiresAt: string }>('POST', '/api/v1/access/requests', { body: { link, email, ...(reason ? { reason } : {}) }, anonymous: true }),
  verifyAccessRequest: (requestId: string, code: string) => api<{ status: 'pending' }>('POST', '/api/v1/access/requests/verify', { body: { requestId, code }, anonymous: true }),
};
