// Labels, organisation settings and the audit log: built against docs/admin-api.md.
import { Alert } from '../components/ui.tsx';

export function LabelsAdmin() {
  return <Alert tone="info">Label management arrives with the administration API.</Alert>;
}

export function SettingsAdmin() {
  return <Alert tone="info">Organisation settings arrive with the administration API.</Alert>;
}

export function AuditAdmin() {
  return <Alert tone="info">The organisation's audit log arrives with the administration API.</Alert>;
}
