-- 0006_list_order.sql — volunteer lists walk a region subtree in (region, id) order, so a page
-- never scans past its subtree however rare the filter; byte order ("C") makes a subtree one
-- contiguous range of the index.

DROP INDEX volunteers_region;
CREATE INDEX volunteers_region ON volunteers (region COLLATE "C", id);
