-- Secure replies and access requests. Declared in registry.ts.
--
-- Replies: a verified recipient may upload attachments for a reply, so a pending upload now
-- belongs to exactly one of a user or a recipient. A reply written by a recipient names that
-- recipient as its sender (messages.sender_recipient_id, which now references the row).
--
-- Access requests: someone who holds a forwarded link asks the sender for access. They first
-- prove control of their own address with a one-time code (only its hash is kept, and only
-- until it is used up), then the sender approves (they are added as a Bcc recipient) or denies.

ALTER TABLE pending_uploads ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE pending_uploads ADD COLUMN recipient_id uuid REFERENCES message_recipients(id);
ALTER TABLE pending_uploads ADD CONSTRAINT pending_uploads_one_owner CHECK ((user_id IS NULL) <> (recipient_id IS NULL));

ALTER TABLE messages ADD CONSTRAINT messages_sender_recipient_fk FOREIGN KEY (sender_recipient_id) REFERENCES message_recipients(id);

CREATE TABLE access_requests (
  id                uuid PRIMARY KEY,
  tenant_id         uuid NOT NULL REFERENCES tenants(id),
  message_id        uuid NOT NULL REFERENCES messages(id),
  via_recipient_id  uuid NOT NULL REFERENCES message_recipients(id),
  email             text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
  reason            text CHECK (reason IS NULL OR length(reason) BETWEEN 1 AND 500),
  status            text NOT NULL CHECK (status IN ('unverified', 'pending', 'approved', 'denied')),
  code_hash         bytea,
  code_expires_at   timestamptz NOT NULL,
  code_attempts     integer NOT NULL DEFAULT 0 CHECK (code_attempts >= 0),
  created_at        timestamptz NOT NULL DEFAULT now(),
  verified_at       timestamptz,
  decided_at        timestamptz,
  decided_by        uuid REFERENCES users(id),
  recipient_id      uuid REFERENCES message_recipients(id),
  CHECK ((status = 'unverified') = (verified_at IS NULL)),
  CHECK ((status IN ('approved', 'denied')) = (decided_at IS NOT NULL))
);
CREATE INDEX access_requests_message ON access_requests (message_id, created_at);
-- One open request per person and message: a second verified request is refused.
CREATE UNIQUE INDEX access_requests_one_pending ON access_requests (message_id, email) WHERE status = 'pending';
