// The emails of the subject-request workflow. Plain text, from Sealpost (the controller of the
// request), marked Auto-Submitted. They carry links and dates, never exported data.
import type { OutboundMail } from '../../mail/mailer.ts';
import type { SubjectRequestKind } from './request.model.ts';

const headers = { 'Auto-Submitted': 'auto-generated' };

/** How a kind reads in a sentence. */
export const KIND_LABELS: Record<SubjectRequestKind, string> = {
  access: 'access to (and a portable copy of) your personal data',
  rectification: 'correction (rectification) of your personal data',
  erasure: 'erasure of your personal data',
  restriction: 'restriction of the processing of your personal data',
  objection_to_marketing: 'objection to direct marketing',
};

/** The one-time code that proves control of the address. */
export function codeMail(to: string, code: string, kind: SubjectRequestKind): OutboundMail {
  return {
    to,
    subject: `Your Sealpost code: ${code}`,
    text: `Your one-time code is ${code}\n\nEnter it to confirm your request for ${KIND_LABELS[kind]}. It is valid for 10 minutes. The one-month time limit for our answer starts when you confirm.\n\nIf you did not make this request, ignore this email: nothing happens without the code.\n`,
    headers,
  };
}

/** The request is confirmed and the clock runs. */
export function confirmedMail(to: string, r: { id: string; kind: SubjectRequestKind; dueOn: string }): OutboundMail {
  return {
    to,
    subject: 'Your request to Sealpost is confirmed',
    text: `We have confirmed your request for ${KIND_LABELS[r.kind]} (reference ${r.id}).\n\nWe will answer by ${r.dueOn} at the latest. If we need longer, we will tell you why before then.\n`,
    headers,
  };
}

/** A duplicate: linked to the request already open, no second clock. */
export function duplicateMail(to: string, r: { id: string; kind: SubjectRequestKind; dueOn: string; receivedOn: string }): OutboundMail {
  return {
    to,
    subject: 'You already have this request open with Sealpost',
    text: `You already made a request for ${KIND_LABELS[r.kind]} on ${r.receivedOn} (reference ${r.id}), which we are still working on. We have added your new message to it rather than starting a second request.\n\nWe will answer by ${r.dueOn} at the latest.\n`,
    headers,
  };
}

/** The time limit was extended (Art. 12(3)): how long, and why. */
export function extensionMail(to: string, r: { id: string; kind: SubjectRequestKind; months: number; reason: string; dueOn: string }): OutboundMail {
  return {
    to,
    subject: 'We need more time to answer your request',
    text: `We need more time to answer your request for ${KIND_LABELS[r.kind]} (reference ${r.id}).\n\nWe have extended the time limit by ${r.months} month${r.months === 1 ? '' : 's'}, as data protection law allows for complex requests. The reason:\n\n${r.reason}\n\nWe will now answer by ${r.dueOn} at the latest.\n`,
    headers,
  };
}

/** The clock is paused until the person clarifies what they ask for: what we need, and that the time limit waits. */
export function pausedMail(to: string, r: { id: string; kind: SubjectRequestKind; reason: string }): OutboundMail {
  return {
    to,
    subject: 'We need more information to answer your request',
    text: `To answer your request for ${KIND_LABELS[r.kind]} (reference ${r.id}) we need more information from you:\n\n${r.reason}\n\nPlease reply to us with it, quoting the reference. The time limit for our answer is paused until we have it, and runs on from where it stopped when we do.\n`,
    headers,
  };
}

/** The access export is ready: one download through a link that expires. */
export function exportReadyMail(to: string, r: { id: string; link: string; expiresAt: Date }): OutboundMail {
  return {
    to,
    subject: 'Your Sealpost data is ready to download',
    text: `The copy of your personal data you asked for (reference ${r.id}) is ready: a ZIP file with JSON and CSV files and a README.\n\nDownload it here (it can be downloaded once, until ${r.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC):\n\n${r.link}\n\nAfter the download, or once the link expires, the file is erased from our systems.\n`,
    headers,
  };
}

/** Part of the request is about Content a customer holds: who the controller is. */
export function routedToRequesterMail(to: string, r: { id: string; kind: SubjectRequestKind; controllers: string[] }): OutboundMail {
  const names = r.controllers.map((n) => `  - ${n}`).join('\n');
  return {
    to,
    subject: 'Your request has been passed to the organisation responsible',
    text: `Part of your request for ${KIND_LABELS[r.kind]} (reference ${r.id}) is about messages exchanged with organisations that use Sealpost. For that information Sealpost acts on their behalf, and they are the controller:\n\n${names}\n\nWe have passed your request to them. You may also contact them directly.\n`,
    headers,
  };
}

/** To a customer's administrators: a request about Content they control. */
export function routedToCustomerMail(to: string, r: { id: string; kind: SubjectRequestKind; email: string; tenantName: string; messages: number; dueOn: string | null }): OutboundMail {
  return {
    to,
    subject: 'A data subject request about your organisation’s data',
    text: `${r.email} has made a request to Sealpost for ${KIND_LABELS[r.kind]} (reference ${r.id}); they confirmed control of that address.\n\nSealpost holds Content for ${r.tenantName} in ${r.messages} message${r.messages === 1 ? '' : 's'} involving this person. ${r.tenantName} is the controller of that Content, so we are passing the request to you, as our terms say; we have told the person your organisation's name.${r.dueOn ? ` Sealpost's own answer is due by ${r.dueOn}.` : ''}\n\nYou can see the request under Privacy → Subject requests (GET /api/v1/privacy/requests).\n`,
    headers,
  };
}

/** The request is done. */
export function completedMail(to: string, r: { id: string; kind: SubjectRequestKind; note?: string | null }): OutboundMail {
  return {
    to,
    subject: 'Your request to Sealpost is complete',
    text: `We have completed your request for ${KIND_LABELS[r.kind]} (reference ${r.id}).${r.note ? `\n\n${r.note}` : ''}\n`,
    headers,
  };
}

/** The request was refused, with the reason (and the right to complain). */
export function rejectedMail(to: string, r: { id: string; kind: SubjectRequestKind; reason: string }): OutboundMail {
  return {
    to,
    subject: 'We cannot carry out your request',
    text: `We cannot carry out your request for ${KIND_LABELS[r.kind]} (reference ${r.id}). The reason:\n\n${r.reason}\n\nYou have the right to complain to a data protection supervisory authority (in the UK, the Information Commissioner's Office) and to seek a judicial remedy.\n`,
    headers,
  };
}
