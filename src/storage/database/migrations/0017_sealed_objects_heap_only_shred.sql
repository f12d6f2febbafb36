-- Shredding an object rewrites only its heap row (issue #6 benchmark: erasure of a heavy subject).
-- Shredding used to set kek_id to NULL as well; kek_id is indexed, so every shredded row was a
-- non-HOT update that also inserted a new entry into each of the table's five indexes (about
-- three full-page images in the WAL per row, on random index pages). Now a shred clears only
-- wrapped_key and sets shredded_at (neither is indexed), and the table keeps 10 % of each page
-- free, so PostgreSQL can put the new row version on the same page (a heap-only tuple update):
-- one page written per object. kek_id stays as a record of which key-encryption key wrapped the
-- data key that no longer exists; it references a key row, never a key (KEK rows are never
-- deleted, only marked destroyed). Queries for objects that still hold a key test
-- wrapped_key IS NOT NULL (they all did, except one fixed with this migration).
ALTER TABLE sealed_objects SET (fillfactor = 90);
ALTER TABLE sealed_objects DROP CONSTRAINT sealed_objects_check;
-- Shredded rows from before this migration have kek_id NULL; later ones keep it.
ALTER TABLE sealed_objects ADD CONSTRAINT sealed_objects_shredded_no_key CHECK ((shredded_at IS NULL) = (wrapped_key IS NOT NULL)) NOT VALID;
ALTER TABLE sealed_objects ADD CONSTRAINT sealed_objects_key_has_kek CHECK (wrapped_key IS NULL OR kek_id IS NOT NULL) NOT VALID;
ALTER TABLE sealed_objects VALIDATE CONSTRAINT sealed_objects_shredded_no_key;
ALTER TABLE sealed_objects VALIDATE CONSTRAINT sealed_objects_key_has_kek;
