// The envelope: the Content of a message other than its attachments' bytes — subject, body
// (plain text and sanitised HTML) and each attachment's name, type and size — sealed as one
// object. Recipients' clients open it locally with a released key; the server opens it only
// for the sender's own views and to put the subject in a notification when the label allows.
import sanitizeHtml from 'sanitize-html';
import { errors } from '../shared/app-error.ts';

/** One attachment as the envelope describes it. */
export interface EnvelopeAttachment {
  objectId: string;
  filename: string;
  contentType: string;
  size: number;
}

/** Version 1 of the envelope (JSON, UTF-8). */
export interface Envelope {
  version: 1;
  subject: string;
  text: string;
  /** Sanitised HTML, or null for plain-text messages. */
  html: string | null;
  attachments: EnvelopeAttachment[];
}

// A conservative allow-list: formatting, lists, links, tables. No scripts, styles, forms,
// iframes, images from the network or event handlers; links open with no referrer.
const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'b', 'strong', 'i', 'em', 'u', 's', 'blockquote', 'code', 'pre', 'ul', 'ol', 'li', 'a', 'h1', 'h2', 'h3', 'h4', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'hr', 'span', 'div'],
  allowedAttributes: { a: ['href', 'title'], td: ['colspan', 'rowspan'], th: ['colspan', 'rowspan'] },
  allowedSchemes: ['https', 'http', 'mailto'],
  allowProtocolRelative: false,
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow', target: '_blank' }) },
};

/** Sanitises message HTML with the allow-list above. */
export function sanitizeMessageHtml(html: string): string {
  return sanitizeHtml(html, SANITIZE);
}

/** Encodes an envelope for sealing. */
export function encodeEnvelope(envelope: Envelope): Buffer {
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}

/** Decodes an opened envelope. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  let value: Partial<Envelope>;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<Envelope>;
  } catch {
    throw errors.internal('envelope_invalid', 'a message envelope could not be read');
  }
  if (value.version !== 1 || typeof value.subject !== 'string' || typeof value.text !== 'string' || !Array.isArray(value.attachments)) {
    throw errors.internal('envelope_invalid', 'a message envelope has an unknown shape');
  }
  return value as Envelope;
}
