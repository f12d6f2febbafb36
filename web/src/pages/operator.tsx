// /operator/*: the installation operator's pages (users listed in OPERATOR_EMAILS; the API refuses
// everyone else with 'operator_only', and each tab then says it is not for them): the processing
// and sub-processor registers, the installation's privacy-request queue, and the disclosure log.
// A tenant's administrators have their own pages under /admin.
import { Page } from '../components/ui.tsx';
import { useTitle } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import { OPERATOR_QUEUE, PrivacyRequestsAdmin } from './admin-privacy.tsx';
import { DisclosureLog } from './operator-disclosures.tsx';
import { ProcessingRegister } from './operator-register.tsx';

const TABS = [
  { path: '/operator/register', text: 'Processing register' },
  { path: '/operator/requests', text: 'Privacy requests' },
  { path: '/operator/disclosures', text: 'Disclosure log' },
] as const;

/** The operator's page and its tabs. */
export function OperatorPage({ path }: { path: string }) {
  const current = TABS.find((t) => path === t.path || path.startsWith(`${t.path}/`)) ?? TABS[0];
  useTitle(`Operator: ${current.text}`);
  return (
    <Page title="Operator">
      <nav aria-label="Operator" className="tabs">
        <ul>
          {TABS.map((t) => (
            <li key={t.path}>
              <Link to={t.path}>{t.text}</Link>
            </li>
          ))}
        </ul>
      </nav>
      {current.path === '/operator/requests' ? <PrivacyRequestsAdmin path={path} scope={OPERATOR_QUEUE} /> : current.path === '/operator/disclosures' ? <DisclosureLog /> : <ProcessingRegister />}
    </Page>
  );
}
