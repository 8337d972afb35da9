-- 0028_request_list_status.sql — request.list of a county's or a township's requests of one
-- status (a county's open ones: 1 in 53 of its requests) reads its page, not the subtree's
-- newer requests of every other status (issue 24). requests_county_id and
-- requests_township_id give a subtree in id order, and a status filter then walks past every
-- entry of the other statuses (50 × 53 for a page of open ones), or the planner took
-- requests_live and sorted the heap rows of every live request in the province. Here the
-- status comes before the id: a page of one status is a range of the index, newest first.
-- The region rides along, as in 0022: a query naming region (in left (region, n)) is answered
-- from an index alone only when the index holds the column itself.
CREATE INDEX requests_county_status_id ON requests (left (region, 6), status, id) INCLUDE (region);
CREATE INDEX requests_township_status_id ON requests (left (region, 9), status, id)
    INCLUDE (region);
