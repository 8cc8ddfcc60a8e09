-- +goose Up
-- The errors file of an .xlsx upload as a workbook, <import id>.xlsx (SPEC
-- §4.2), written beside the errors CSV in the import's transaction and
-- kept as long as it (file_retention). NULL for a CSV upload.
-- Numbered 00020 after 00021 was released: rosterd applies migrations a
-- database lacks whatever their order (goose's allow-out-of-order).
ALTER TABLE imports ADD COLUMN errors_xlsx_file_id INTEGER REFERENCES files(id);
CREATE INDEX imports_errors_xlsx_file ON imports (errors_xlsx_file_id) WHERE errors_xlsx_file_id IS NOT NULL;

-- +goose Down
DROP INDEX imports_errors_xlsx_file;
ALTER TABLE imports DROP COLUMN errors_xlsx_file_id;
