// The public privacy notice, generated from the same data as the record of processing: the
// purposes (what for, why, lawful basis, information types), who receives data, transfers and
// how long each category is kept (the registry's retention rules). Served at GET /privacy
// (HTML) and GET /api/v1/privacy/notice (JSON), without authentication and without cookies.
import { escapeHtml, page, paragraphs } from './html.ts';
import { isActiveSubprocessor } from './record-of-processing.ts';
import { CATEGORY_LABELS, CATEGORY_ROLES, formatBases, formatCategories, type Purpose, type RegisterSettings, type Subprocessor } from './register/purpose.model.ts';
import { allColumns, DATA_CATEGORIES, REGISTRY, RETENTION_RULES, type DataCategory, type TableDeclaration } from '../storage/database/registry.ts';

/** The notice as JSON. */
export interface PrivacyNotice {
  controller: { name: string | null; contact: string | null; dpo: string | null };
  /** Latest change to anything the notice shows. */
  updatedAt: string | null;
  categories: Array<{ category: DataCategory; label: string; role: 'controller' | 'processor'; retention: Array<{ rule: string; description: string; defaultPeriod: string | null }> }>;
  purposeGroups: Array<{
    key: string;
    title: string;
    purposes: Array<{ key: string; name: string; reasons: string | null; lawfulBasisIndividual: string; lawfulBasisBusiness: string; informationTypes: string }>;
  }>;
  recipients: Array<{ key: string; name: string; kind: string; purpose: string; informationTypes: string; location: string | null }>;
  transfers: string | null;
}

/** Builds the notice from the register (retired purposes and inactive recipients left out). */
export function buildPrivacyNotice(input: { purposes: Purpose[]; subprocessors: Subprocessor[]; settings: RegisterSettings; now: Date; registry?: Record<string, TableDeclaration> }): PrivacyNotice {
  const registry = input.registry ?? REGISTRY;
  const purposes = input.purposes.filter((p) => p.retiredAt === null);
  const recipients = input.subprocessors.filter((s) => isActiveSubprocessor(s, input.now));
  const groups = new Map<string, PrivacyNotice['purposeGroups'][number]>();
  for (const p of purposes) {
    const g = groups.get(p.groupKey) ?? { key: p.groupKey, title: p.groupTitle, purposes: [] };
    g.purposes.push({
      key: p.key,
      name: p.name,
      reasons: p.reasons,
      lawfulBasisIndividual: formatBases(p.basisIndividual),
      lawfulBasisBusiness: formatBases(p.basisBusiness),
      informationTypes: formatCategories(p.categories),
    });
    groups.set(p.groupKey, g);
  }
  const times = [...purposes.map((p) => p.updatedAt), ...recipients.map((s) => s.updatedAt), ...(input.settings.updatedAt ? [input.settings.updatedAt] : [])];
  const latest = times.reduce<Date | null>((a, b) => (a === null || b.getTime() > a.getTime() ? b : a), null);
  return {
    controller: { name: input.settings.controllerName, contact: input.settings.controllerContact, dpo: input.settings.dpoContact },
    updatedAt: latest?.toISOString() ?? null,
    categories: DATA_CATEGORIES.map((category) => {
      const rules = [...new Set(allColumns(registry).filter((c) => c.category === category).map((c) => c.retention))];
      return {
        category,
        label: CATEGORY_LABELS[category],
        role: CATEGORY_ROLES[category],
        retention: rules.map((rule) => ({ rule, description: RETENTION_RULES[rule].description, defaultPeriod: RETENTION_RULES[rule].defaultPeriod })),
      };
    }),
    purposeGroups: [...groups.values()],
    recipients: recipients.map((s) => ({ key: s.key, name: s.name, kind: s.kind, purpose: s.purpose, informationTypes: s.categoriesNote ?? formatCategories(s.categories), location: s.location })),
    transfers: input.settings.transferStatement,
  };
}

/** The notice as a page. */
export function privacyNoticeToHtml(n: PrivacyNotice): string {
  const who = n.controller.name ? escapeHtml(n.controller.name) : 'the operator of this Sealpost installation';
  return page(
    'Privacy notice',
    `<h1>Privacy notice</h1>
<p>This notice says how ${who} uses the information it holds when you use this service${n.updatedAt ? `; it was last changed on ${escapeHtml(n.updatedAt.slice(0, 10))}` : ''}.
${n.controller.contact ? ` Contact: ${escapeHtml(n.controller.contact)}.` : ''}${n.controller.dpo ? ` Data protection officer: ${escapeHtml(n.controller.dpo)}.` : ''}</p>
<section><h2>The information we hold</h2>
<table><thead><tr><th>Type</th><th>Our role</th><th>How long we keep it</th></tr></thead><tbody>
${n.categories
  .map(
    (c) =>
      `<tr><td>${escapeHtml(c.label)}</td><td>${c.role === 'controller' ? 'We decide how it is used (controller).' : 'We process it for our customer, who decides how it is used (processor).'}</td><td><ul>${c.retention.map((r) => `<li>${escapeHtml(r.description)}</li>`).join('')}</ul></td></tr>`,
  )
  .join('\n')}
</tbody></table></section>
<section><h2>How we use it</h2>
${n.purposeGroups
  .map(
    (g) => `<h3>${escapeHtml(g.title)}</h3>
<table><thead><tr><th>What we use it for</th><th>Our reasons</th><th>Our lawful basis where you’re an individual</th><th>Our lawful basis where you’re a business</th><th>Information type</th></tr></thead><tbody>
${g.purposes
  .map((p) => `<tr><td>${escapeHtml(p.name)}</td><td>${paragraphs(p.reasons)}</td><td>${escapeHtml(p.lawfulBasisIndividual)}</td><td>${escapeHtml(p.lawfulBasisBusiness)}</td><td>${escapeHtml(p.informationTypes)}</td></tr>`)
  .join('\n')}
</tbody></table>`,
  )
  .join('\n')}
</section>
<section><h2>Who we may share it with</h2>
<p>The current list, with planned changes and their dates, is at <a href="/subprocessors">/subprocessors</a>.</p>
<table><thead><tr><th>Who</th><th>Our reasons</th><th>Information type</th><th>Location</th></tr></thead><tbody>
${n.recipients.map((r) => `<tr><td>${escapeHtml(r.name)}</td><td>${escapeHtml(r.purpose)}</td><td>${escapeHtml(r.informationTypes)}</td><td>${escapeHtml(r.location ?? '')}</td></tr>`).join('\n')}
</tbody></table>
${paragraphs(n.transfers)}</section>
<p class="muted">Machine-readable: <a href="/api/v1/privacy/notice">/api/v1/privacy/notice</a>.</p>`,
  );
}
