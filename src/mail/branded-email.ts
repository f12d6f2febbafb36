// The one layout of Sealpost's notification emails: a text part and an HTML part saying the same
// thing, in the sending organisation's branding (display name, logo, accent colour, footer).
// Everything that comes from people (names, subjects, footer) is escaped; the logo travels as an
// inline cid: image, because most mail clients show neither data: nor (by default) remote images.
import type { OutboundMail } from './mailer.ts';

/** The branding an email is rendered with. */
export interface EmailBranding {
  displayName: string;
  /** #rrggbb */
  accentColor: string;
  footerText: string | null;
  logo: { contentType: string; bytes: Buffer } | null;
}

/** What the email says: plain-text lines (blank lines separate paragraphs) and the one action. */
export interface EmailBody {
  lines: string[];
  /** The line that contains `url` becomes a button in the HTML part. */
  action?: { url: string; label: string };
}

const LOGO_CID = 'logo@sealpost';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Renders the text and HTML parts (and the inline logo) of a branded email. */
export function brandedEmail(b: EmailBranding, body: EmailBody): Pick<OutboundMail, 'text' | 'html' | 'inlineImages'> {
  const lines = body.lines.filter((l, i, all) => l !== '' || (i > 0 && all[i - 1] !== ''));
  while (lines.at(-1) === '') lines.pop();
  const footer = [...(b.footerText ? b.footerText.split('\n') : []), 'Sent with Sealpost secure messaging.'];
  const text = [b.displayName, '', ...lines, '', '-- ', ...footer].join('\n') + '\n';

  const accent = /^#[0-9a-f]{6}$/i.test(b.accentColor) ? b.accentColor : '#1f4e79';
  const onAccent = readableOn(accent);
  const paragraphs: string[] = [];
  for (const line of lines) {
    if (line === '') continue;
    if (body.action && line.includes(body.action.url)) {
      const url = escapeHtml(body.action.url);
      paragraphs.push(
        `<p style="margin:24px 0;"><a href="${url}" style="display:inline-block;background:${accent};color:${onAccent};text-decoration:none;font-weight:600;padding:12px 22px;border-radius:6px;">${escapeHtml(body.action.label)}</a></p>`,
        `<p style="margin:0 0 16px;font-size:13px;color:#5b6472;">Or open this link: <a href="${url}" style="color:${accent};word-break:break-all;">${url}</a></p>`,
      );
    } else {
      paragraphs.push(`<p style="margin:0 0 16px;">${escapeHtml(line)}</p>`);
    }
  }
  const logo = b.logo ? `<img src="cid:${LOGO_CID}" alt="" style="display:block;max-height:48px;max-width:200px;margin:0 0 12px;border:0;">` : '';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(b.displayName)}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;"><tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;border-top:4px solid ${accent};font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1d2430;">
<tr><td style="padding:24px 28px 8px;">${logo}<div style="font-size:18px;font-weight:600;">${escapeHtml(b.displayName)}</div></td></tr>
<tr><td style="padding:8px 28px;font-size:15px;line-height:1.5;">
${paragraphs.join('\n')}
</td></tr>
<tr><td style="padding:16px 28px 24px;font-size:12px;line-height:1.5;color:#5b6472;border-top:1px solid #e6e8eb;">${footer.map(escapeHtml).join('<br>')}</td></tr>
</table>
</td></tr></table>
</body></html>
`;
  return {
    text,
    html,
    ...(b.logo ? { inlineImages: [{ cid: LOGO_CID, filename: `logo.${b.logo.contentType.slice(6)}`, contentType: b.logo.contentType, content: b.logo.bytes }] } : {}),
  };
}

// Black or white, whichever reads better on the accent (WCAG relative luminance).
function readableOn(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  const l = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return (1.05) / (l + 0.05) >= (l + 0.05) / 0.05 ? '#ffffff' : '#111111';
}
