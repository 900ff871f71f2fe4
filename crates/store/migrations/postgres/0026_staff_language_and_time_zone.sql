-- The language staff pages are shown in and the time zone their times are in, as the rep chose
-- them on their account page (NULL: as their browser says).
ALTER TABLE users ADD COLUMN ui_language TEXT;
ALTER TABLE users ADD COLUMN time_zone TEXT;
