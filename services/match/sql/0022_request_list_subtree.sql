-- 0022_request_list_subtree.sql — request.list pages a county's or a township's requests
-- newest first: an index per level on (the code's prefix, id) gives a subtree in id order,
-- so a page reads its own entries however many the province holds (a range of region codes
-- cannot: its ids come in region order, to be sorted whole; the primary key newest first
-- reads every other subtree's newer rows). The region and the status ride along, so that a
-- page's ids come from the index alone (then its rows by id), which the planner prefers to
-- the primary key however the subtree's rows lie. A village's requests are few
-- (requests_region); a city's or a province's are most of the table (the primary key).

CREATE INDEX requests_county_id ON requests (left (region, 6), id) INCLUDE (region, status);
CREATE INDEX requests_township_id ON requests (left (region, 9), id) INCLUDE (region, status);
