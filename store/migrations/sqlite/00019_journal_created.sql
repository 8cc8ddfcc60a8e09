-- +goose Up
-- An applied import's `created` entries are no longer a row each in
-- changes: the users row it created says so (created_import_seq, its
-- created_line), and one row of kind 'creations' per import, its "mark",
-- stands for all of them: its id places them in the journal's order, its
-- actor and at are theirs, its line is the last users.id given before the
-- import created anybody (where a list of its creations starts). A first
-- import of a million users wrote a million entries and their three index
-- entries each: 7 of PostgreSQL's 44 s (issue 18 §7, the journal adds at
-- most 10% to a first import); two integers in the row it writes anyway
-- cost next to nothing. A preview's created entries (dry run, held sync)
-- stay rows: nothing was created. An import is moved only when every one
-- of its created entries has its user (users are never deleted), so that
-- an import's creations are never read from both places.
ALTER TABLE users ADD COLUMN created_import_seq INTEGER;
ALTER TABLE users ADD COLUMN created_line INTEGER;

CREATE TEMP TABLE journal_moved AS
SELECT c.org_id, c.import_seq, MIN(c.id) AS mark, MIN(c.actor) AS actor, MIN(c.at) AS at
FROM changes c LEFT JOIN users u ON u.org_id = c.org_id AND u.external_id = c.external_id
WHERE c.kind = 'created' AND c.preview = 0 AND c.import_seq IS NOT NULL
GROUP BY c.org_id, c.import_seq
HAVING COUNT(*) = COUNT(u.id);

UPDATE users SET created_import_seq = c.import_seq, created_line = c.line
FROM (SELECT c.* FROM changes c JOIN journal_moved m ON m.org_id = c.org_id AND m.import_seq = c.import_seq
    WHERE c.kind = 'created' AND c.preview = 0) AS c
WHERE users.org_id = c.org_id AND users.external_id = c.external_id;

DELETE FROM changes WHERE kind = 'created' AND preview = 0
    AND EXISTS (SELECT 1 FROM journal_moved m WHERE m.org_id = changes.org_id AND m.import_seq = changes.import_seq);

INSERT INTO changes (id, org_id, import_seq, kind, external_id, line, preview, actor, at)
SELECT m.mark, m.org_id, m.import_seq, 'creations', '',
    (SELECT COALESCE(MIN(u.id), 1) - 1 FROM users u WHERE u.org_id = m.org_id AND u.created_import_seq = m.import_seq),
    0, m.actor, m.at
FROM journal_moved m;
DROP TABLE journal_moved;

-- +goose Down
INSERT INTO changes (org_id, import_seq, kind, external_id, first_name, last_name, line, preview, actor, at)
SELECT u.org_id, u.created_import_seq, 'created', u.external_id, u.first_name, u.last_name, u.created_line, 0, m.actor, m.at
FROM users u JOIN changes m ON m.kind = 'creations' AND m.org_id = u.org_id AND m.import_seq = u.created_import_seq
ORDER BY u.id;
DELETE FROM changes WHERE kind = 'creations';
ALTER TABLE users DROP COLUMN created_line;
ALTER TABLE users DROP COLUMN created_import_seq;
