-- A sender's feedback (Prevent, issue #3): on every send, the recipients the sender removed after
-- a warning and the warnings they dismissed repeatedly are read (findSettingsAndFeedback in
-- src/prevent/prevent.repository.ts). prevent_decisions_feedback (tenant, user, context key)
-- served both by scanning every decision of the sender, and most decisions carry no feedback
-- (logged, sent_unreviewed, suppressed), so each send read more rows the more the sender had
-- sent. This index holds only the decisions the two reads look for, in time order.
CREATE INDEX prevent_decisions_feedback_outcomes ON prevent_decisions (tenant_id, user_id, decided_at)
  WHERE outcome IN ('removed', 'sent_anyway', 'justified');
