-- Pausing a subject request's clock after it started (issue #6 §2): while the controller waits
-- for the person to clarify what they ask for, the time limit stops; on resuming, the days paused
-- are added to paused_days and the due date moves by as many days. Declared in registry.ts.
ALTER TABLE subject_requests ADD COLUMN paused_on date;
ALTER TABLE subject_requests ADD COLUMN pause_reason text CHECK (pause_reason IS NULL OR length(pause_reason) BETWEEN 1 AND 4000);
ALTER TABLE subject_requests ADD CONSTRAINT subject_requests_pause_whole CHECK ((paused_on IS NULL) = (pause_reason IS NULL));
