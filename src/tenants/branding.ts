// Notification branding of a tenant: display name, logo, accent colour, footer text. Pure
// vocabulary and validation; storage is in tenant-settings.repository.ts.
//
// The logo is only ever a small data: URL of a raster image: the server never fetches remote
// URLs (nothing to forge requests through), and a remote image in a notification email would be
// a tracking pixel telling its host when and from where each recipient read the email. SVG is
// refused because it can carry script.
import { errors } from '../shared/app-error.ts';

/** Branding as an administrator set it; null fields are unset. */
export interface Branding {
  displayName: string | null;
  /** data:image/(png|jpeg|gif|webp);base64,… */
  logo: string | null;
  /** #rrggbb, lower-case. */
  accentColor: string | null;
  footerText: string | null;
  /** When it was last changed; null when never set. */
  updatedAt: Date | null;
}

/** Branding with the defaults filled in: what emails and recipient pages show. */
export interface EffectiveBranding {
  displayName: string;
  logo: string | null;
  accentColor: string;
  footerText: string | null;
}

/** A change to branding: a field absent is kept, null clears it. */
export type BrandingChanges = Partial<Record<'displayName' | 'logo' | 'accentColor' | 'footerText', string | null>>;

/** Accent colour when none is set. */
export const DEFAULT_ACCENT_COLOR = '#1f4e79';

/** What recipient pages show for a link that belongs to no one (and emails of no tenant). */
export const INSTALLATION_BRANDING: EffectiveBranding = { displayName: 'Sealpost', logo: null, accentColor: DEFAULT_ACCENT_COLOR, footerText: null };

/** Largest logo accepted, decoded. Small enough to embed in every notification email. */
export const MAX_LOGO_BYTES = 64 * 1024;

/** Image types a logo may have. */
export const LOGO_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;

/** One of {@link LOGO_TYPES}. */
export type LogoType = (typeof LOGO_TYPES)[number];

const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_BUT_NEWLINES = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f]/;

const invalid = (field: string, message: string) => errors.invalid('branding_invalid', `${field}: ${message}`, { field });

/** Checks a branding change and returns it normalised (trimmed, colour lower-cased). */
export function parseBrandingChanges(input: Record<string, unknown>): BrandingChanges {
  const out: BrandingChanges = {};
  for (const key of Object.keys(input)) {
    if (!['displayName', 'logo', 'accentColor', 'footerText'].includes(key)) throw invalid(key, 'is not a branding field');
  }
  if (Object.keys(input).length === 0) throw errors.invalid('branding_invalid', 'name at least one field to change', { field: 'body' });
  const text = (field: string, v: unknown, max: number, allowNewlines: boolean): string | null => {
    if (v === null) return null;
    if (typeof v !== 'string') throw invalid(field, 'must be a string, or null to clear it');
    const s = v.replace(/\r\n/g, '\n').trim();
    if (s.length < 1 || s.length > max) throw invalid(field, `must be 1 to ${max} characters (null clears it)`);
    if ((allowNewlines ? CONTROL_BUT_NEWLINES : CONTROL).test(s)) throw invalid(field, allowNewlines ? 'must not contain control characters other than line breaks' : 'must not contain control characters');
    return s;
  };
  if ('displayName' in input) out.displayName = text('displayName', input.displayName, 100, false);
  if ('footerText' in input) out.footerText = text('footerText', input.footerText, 1000, true);
  if ('accentColor' in input) {
    const v = input.accentColor;
    if (v !== null && (typeof v !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(v))) throw invalid('accentColor', 'must be a colour as #rrggbb, or null to clear it');
    out.accentColor = v === null ? null : v.toLowerCase();
  }
  if ('logo' in input) {
    const v = input.logo;
    if (v !== null && typeof v !== 'string') throw invalid('logo', 'must be a data: URL, or null to clear it');
    if (v !== null) parseLogo(v);
    out.logo = v;
  }
  return out;
}

/**
 * Decodes a logo data URL, checking type, encoding, size and that the bytes are an image of the
 * declared type; 'branding_invalid' naming what is wrong otherwise.
 */
export function parseLogo(dataUrl: string): { contentType: LogoType; bytes: Buffer } {
  if (/^https?:/i.test(dataUrl)) {
    throw invalid('logo', 'must be embedded as a data: URL, not a web address: Sealpost never fetches remote images, and a remote image in a notification email would tell its host when each recipient read it');
  }
  const m = /^data:(image\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/]*={0,2})$/.exec(dataUrl);
  if (!m) throw invalid('logo', 'must be a data: URL of the form data:image/png;base64,…');
  const contentType = m[1] as LogoType;
  if (!LOGO_TYPES.includes(contentType)) throw invalid('logo', `image type must be one of ${LOGO_TYPES.join(', ')} (SVG is refused because it can carry script)`);
  if (m[2]!.length % 4 !== 0) throw invalid('logo', 'is not valid base64');
  if ((m[2]!.length / 4) * 3 > MAX_LOGO_BYTES + 2) throw invalid('logo', `must be at most ${MAX_LOGO_BYTES / 1024} KiB`);
  const bytes = Buffer.from(m[2]!, 'base64');
  if (bytes.length === 0) throw invalid('logo', 'is empty');
  if (bytes.length > MAX_LOGO_BYTES) throw invalid('logo', `must be at most ${MAX_LOGO_BYTES / 1024} KiB`);
  if (!looksLike(contentType, bytes)) throw invalid('logo', `the data is not a ${contentType.slice(6).toUpperCase()} image`);
  return { contentType, bytes };
}

// Magic numbers: a mislabelled file would otherwise be served with the wrong type.
function looksLike(type: LogoType, b: Buffer): boolean {
  switch (type) {
    case 'image/png':
      return b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    case 'image/jpeg':
      return b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
    case 'image/gif':
      return ['GIF87a', 'GIF89a'].includes(b.subarray(0, 6).toString('latin1'));
    case 'image/webp':
      return b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP';
  }
}

/** Fills the defaults in; `tenantName` is the display name when none is set. */
export function effectiveBranding(branding: Branding, tenantName: string): EffectiveBranding {
  return {
    displayName: branding.displayName ?? tenantName,
    logo: branding.logo,
    accentColor: branding.accentColor ?? DEFAULT_ACCENT_COLOR,
    footerText: branding.footerText,
  };
}
