-- 0016_volunteer_list_cover.sql — volunteer.list finds a page's ids in the subtree's index
-- alone: the filters' columns (skills, categories, status, name) ride in the index, so a
-- filter few match (a rare skill in a village) reads index pages, not a heap row per
-- volunteer of the subtree; the page's rows are then read by id.

DROP INDEX volunteers_region;
CREATE INDEX volunteers_region ON volunteers (region COLLATE "C", id)
    INCLUDE (skills, categories, status, name);
