-- A request may be refused before the person has confirmed their address (a request opened by
-- mistake, or plainly abusive), as the request service has always allowed; the table's first
-- CHECK said instead that only 'awaiting_identity' has no verified_at, so such a refusal failed
-- with a constraint violation (found by test/e2e/operator-register.test.ts). Now: a request
-- awaiting identity is unverified, every other state except 'rejected' is verified, and a
-- rejected request may be either.
ALTER TABLE subject_requests DROP CONSTRAINT subject_requests_check;
ALTER TABLE subject_requests ADD CONSTRAINT subject_requests_verified CHECK (
  CASE status WHEN 'awaiting_identity' THEN verified_at IS NULL WHEN 'rejected' THEN true ELSE verified_at IS NOT NULL END
) NOT VALID;
ALTER TABLE subject_requests VALIDATE CONSTRAINT subject_requests_verified;
