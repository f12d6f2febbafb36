// The public subject-request pages, server-rendered like the privacy notice: a plain form (no
// cookies, no inline script), the code form, the outcome, and the download page. Every value is
// escaped. The download token travels in the link's fragment (never sent to a server, never
// logged); a small same-origin script copies it into the form, and the download is a POST, so
// mail scanners that fetch links cannot use up the one download.
import { escapeHtml, page } from '../html.ts';
import { KIND_LABELS } from './request.mail.ts';
import { SUBJECT_REQUEST_KINDS, type SubjectRequestKind } from './request.model.ts';

/** Path of the public form. */
export const REQUEST_PAGE_PATH = '/privacy/requests';
/** Path of the download page (the link in the email points here, token in the fragment). */
export const DOWNLOAD_PAGE_PATH = '/privacy/requests/download';
/** Path of the script that copies the fragment into the download form. */
export const DOWNLOAD_SCRIPT_PATH = '/privacy/requests/download.js';

/** The download page's script: fragment → hidden field; clears the fragment from the address bar. */
export const DOWNLOAD_SCRIPT = `(function(){var t=location.hash.slice(1);var f=document.getElementById('token');if(f&&t){f.value=t;history.replaceState(null,'',location.pathname);}})();`;

const KIND_TITLES: Record<SubjectRequestKind, string> = {
  access: 'Access: a copy of my data (also for moving it elsewhere)',
  rectification: 'Rectification: correct data that is wrong',
  erasure: 'Erasure: delete my data',
  restriction: 'Restriction: stop using my data (keep it stored only)',
  objection_to_marketing: 'Objection to marketing: send me no marketing',
};

function errorBlock(message: string | undefined): string {
  return message ? `<p class="gap" role="alert">${escapeHtml(message)}</p>` : '';
}

/** The form. `values` refill it after an error. */
export function requestFormPage(opts: { error?: string; values?: Record<string, string> } = {}): string {
  const v = opts.values ?? {};
  const kinds = SUBJECT_REQUEST_KINDS.map(
    (k) => `<div><input type="radio" name="kind" id="kind-${k}" value="${k}"${v.kind === k ? ' checked' : ''} required> <label for="kind-${k}">${escapeHtml(KIND_TITLES[k])}</label></div>`,
  ).join('');
  return page(
    'Make a data protection request',
    `<h1>Make a data protection request</h1>
<p>Use this form to exercise your rights over the personal data Sealpost holds about you. We will email a 6-digit code to the address you give: enter it to confirm the request. We answer within one month of your confirmation (we will tell you within that month if we need up to two more months, and why).</p>
<p class="muted">If your request is about messages an organisation sent you or received from you through Sealpost, that organisation decides about that data (it is the controller); we will pass your request to them and tell you who they are.</p>
${errorBlock(opts.error)}
<form method="post" action="${REQUEST_PAGE_PATH}">
<fieldset><legend>What do you want us to do?</legend>${kinds}
<div><input type="checkbox" name="lift" id="lift" value="true"${v.lift === 'true' ? ' checked' : ''}> <label for="lift">Restriction only: lift a restriction I asked for earlier</label></div></fieldset>
<p><label for="email">Your email address</label><br><input type="email" name="email" id="email" required maxlength="254" autocomplete="email" value="${escapeHtml(v.email)}"></p>
<p><label for="name">Your name (optional)</label><br><input type="text" name="name" id="name" maxlength="200" autocomplete="name" value="${escapeHtml(v.name)}"></p>
<p><label for="details">Details (for a correction: what is wrong and what it should be)</label><br><textarea name="details" id="details" rows="5" cols="60" maxlength="4000">${escapeHtml(v.details)}</textarea></p>
<p><button type="submit">Send request</button></p>
</form>`,
  );
}

/** After submitting: enter the code. */
export function codeFormPage(opts: { requestId: string; sentTo: string; error?: string }): string {
  return page(
    'Confirm your request',
    `<h1>Confirm your request</h1>
<p>We have emailed a 6-digit code to ${escapeHtml(opts.sentTo)}. It is valid for 10 minutes.</p>
${errorBlock(opts.error)}
<form method="post" action="${REQUEST_PAGE_PATH}/verify">
<input type="hidden" name="requestId" value="${escapeHtml(opts.requestId)}">
<p><label for="code">Code</label><br><input type="text" name="code" id="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required></p>
<p><button type="submit">Confirm</button></p>
</form>
<form method="post" action="${REQUEST_PAGE_PATH}/code"><input type="hidden" name="requestId" value="${escapeHtml(opts.requestId)}"><p><button type="submit">Send me a new code</button></p></form>`,
  );
}

/** After confirming. */
export function confirmedPage(opts: { requestId: string; kind?: SubjectRequestKind; status: string; dueOn: string; duplicateOf?: string }): string {
  const body =
    opts.status === 'linked'
      ? `<p>You already have a request of this kind open with us (reference ${escapeHtml(opts.duplicateOf)}). We have added this one to it. We will answer by <strong>${escapeHtml(opts.dueOn)}</strong> at the latest.</p>`
      : opts.status === 'completed'
        ? `<p>Done: your request is complete. We have emailed you a confirmation (reference ${escapeHtml(opts.requestId)}).</p>`
        : `<p>Thank you: your request is confirmed (reference ${escapeHtml(opts.requestId)}). We will answer by <strong>${escapeHtml(opts.dueOn)}</strong> at the latest, and email you when it is done.</p>`;
  return page('Request confirmed', `<h1>Request confirmed</h1>${body}`);
}

/** A problem page with a way back. */
export function problemPage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p role="alert">${escapeHtml(message)}</p><p><a href="${REQUEST_PAGE_PATH}">Make a request</a></p>`);
}

/** The download page: the token comes from the link's fragment. */
export function downloadPage(): string {
  return page(
    'Download your data',
    `<h1>Download your data</h1>
<p>Your file can be downloaded <strong>once</strong>. After that, or when the link expires, it is erased from our systems. Save it somewhere safe: it contains your personal data.</p>
<form method="post" action="${DOWNLOAD_PAGE_PATH}"><input type="hidden" name="token" id="token" value=""><p><button type="submit">Download my data (ZIP)</button></p></form>
<noscript><p class="gap">This page needs JavaScript to read the link you were sent.</p></noscript>
<script src="${DOWNLOAD_SCRIPT_PATH}"></script>`,
  );
}

/** Label of a kind, for pages. */
export const kindLabel = (kind: SubjectRequestKind): string => KIND_LABELS[kind];
