// The public sub-processor register: who receives personal data, for what, which categories
// and where; planned additions and removals with their effective dates (advance notice); and
// the history of changes. GET /subprocessors (HTML) and GET /api/v1/privacy/subprocessors.
// The public history says what changed and when, not who made the change (staff names stay
// in the administrators' history).
import { escapeHtml, page } from './html.ts';
import { subscribeForm } from './consent/pages.ts';
import { isActiveSubprocessor } from './record-of-processing.ts';
import { formatCategories, type RegisterChange, type Subprocessor } from './register/purpose.model.ts';

/** One sub-processor as published. */
export interface PublicSubprocessor {
  key: string;
  name: string;
  kind: string;
  purpose: string;
  categories: string[];
  informationTypes: string;
  location: string | null;
  effectiveFrom: string | null;
  endsAt: string | null;
}

/** The published register. */
export interface SubprocessorList {
  generatedAt: string;
  current: PublicSubprocessor[];
  /** Not yet engaged, or to be removed: each with the date it takes effect. */
  planned: Array<PublicSubprocessor & { change: 'addition' | 'removal'; effectiveAt: string }>;
  history: Array<{ recordedAt: string; effectiveAt: string; subprocessor: string | null; action: string; summary: string; fields: string[] }>;
}

const publish = (s: Subprocessor): PublicSubprocessor => ({
  key: s.key,
  name: s.name,
  kind: s.kind,
  purpose: s.purpose,
  categories: s.categories,
  informationTypes: s.categoriesNote ?? formatCategories(s.categories),
  location: s.location,
  effectiveFrom: s.effectiveFrom?.toISOString() ?? null,
  endsAt: s.endsAt?.toISOString() ?? null,
});

/** Builds the published register at `now`. */
export function buildSubprocessorList(input: { subprocessors: Subprocessor[]; changes: RegisterChange[]; now: Date }): SubprocessorList {
  const now = input.now.getTime();
  const current = input.subprocessors.filter((s) => isActiveSubprocessor(s, input.now));
  const planned: SubprocessorList['planned'] = [];
  for (const s of input.subprocessors) {
    if (s.effectiveFrom && s.effectiveFrom.getTime() > now) planned.push({ ...publish(s), change: 'addition', effectiveAt: s.effectiveFrom.toISOString() });
    else if (s.endsAt && s.endsAt.getTime() > now) planned.push({ ...publish(s), change: 'removal', effectiveAt: s.endsAt.toISOString() });
  }
  planned.sort((a, b) => a.effectiveAt.localeCompare(b.effectiveAt));
  return {
    generatedAt: input.now.toISOString(),
    current: current.map(publish),
    planned,
    history: input.changes
      .filter((c) => c.entity === 'subprocessor' || (c.entity === 'register' && c.action === 'seeded'))
      .map((c) => ({
        recordedAt: c.recordedAt.toISOString(),
        effectiveAt: c.effectiveAt.toISOString(),
        subprocessor: c.entityKey,
        action: c.action,
        summary: c.summary,
        fields: Object.keys(c.changes),
      }))
      .reverse(),
  };
}

/** The published register as a page. */
export function subprocessorListToHtml(l: SubprocessorList): string {
  const row = (s: PublicSubprocessor) =>
    `<tr><td>${escapeHtml(s.name)}</td><td>${escapeHtml(s.purpose)}</td><td>${escapeHtml(s.informationTypes)}</td><td>${escapeHtml(s.location ?? '')}</td></tr>`;
  return page(
    'Sub-processors',
    `<h1>Sub-processors and other recipients</h1>
<p>Who receives personal data to help provide this service, what for, which information and where. Changes are announced here before they take effect.</p>
${subscribeForm('/subprocessors/subscribe')}
<section><h2>Planned changes</h2>
${
  l.planned.length === 0
    ? '<p>None.</p>'
    : `<table><thead><tr><th>From</th><th>Change</th><th>Who</th><th>Our reasons</th><th>Information type</th><th>Location</th></tr></thead><tbody>${l.planned
        .map((p) => `<tr><td>${escapeHtml(p.effectiveAt.slice(0, 10))}</td><td>${p.change === 'addition' ? 'will be added' : 'will be removed'}</td><td>${escapeHtml(p.name)}</td><td>${escapeHtml(p.purpose)}</td><td>${escapeHtml(p.informationTypes)}</td><td>${escapeHtml(p.location ?? '')}</td></tr>`)
        .join('')}</tbody></table>`
}</section>
<section><h2>Current</h2>
<table><thead><tr><th>Who</th><th>Our reasons</th><th>Information type</th><th>Location</th></tr></thead><tbody>
${l.current.map(row).join('\n')}
</tbody></table></section>
<section><h2>History of changes</h2>
<table><thead><tr><th>Recorded</th><th>Effective</th><th>Change</th></tr></thead><tbody>
${l.history.map((h) => `<tr><td>${escapeHtml(h.recordedAt.slice(0, 10))}</td><td>${escapeHtml(h.effectiveAt.slice(0, 10))}</td><td>${escapeHtml(h.summary)}</td></tr>`).join('\n')}
</tbody></table></section>
<p class="muted">Machine-readable: <a href="/api/v1/privacy/subprocessors">/api/v1/privacy/subprocessors</a>.</p>`,
  );
}
