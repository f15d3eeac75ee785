-- The day a course was superseded by a newer curriculum: a certificate of it needs a refresher
-- from that day on, so reports "as of" an earlier day do not count it.
ALTER TABLE courses ADD COLUMN superseded_on date;
-- courses superseded before this release: the day their successor was created (Vietnam's calendar)
UPDATE courses k SET superseded_on = (n.created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
FROM courses n WHERE n.id = k.superseded_by_id;
ALTER TABLE courses ADD CONSTRAINT courses_superseded_on_with_successor
    CHECK ((superseded_by_id IS NULL) = (superseded_on IS NULL));
