ALTER TABLE courses DROP CONSTRAINT courses_superseded_on_with_successor;
ALTER TABLE courses DROP COLUMN superseded_on;
