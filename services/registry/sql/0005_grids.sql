-- 0005_grids.sql — grids (网格) below villages, where county plans run volunteer grid groups:
-- a grid's code is its village's 12 digits and three more.

ALTER TABLE regions DROP CONSTRAINT regions_code_check,
    ADD CONSTRAINT regions_code_check CHECK (code ~ '^[0-9]{12}([0-9]{3})?$'),
    DROP CONSTRAINT regions_level_check,
    ADD CONSTRAINT regions_level_check
        CHECK (level IN ('province', 'city', 'county', 'township', 'village', 'grid'));
ALTER TABLE volunteers DROP CONSTRAINT volunteers_region_check,
    ADD CONSTRAINT volunteers_region_check CHECK (region ~ '^[0-9]{12}([0-9]{3})?$');
ALTER TABLE residents DROP CONSTRAINT residents_region_check,
    ADD CONSTRAINT residents_region_check CHECK (region ~ '^[0-9]{12}([0-9]{3})?$');
ALTER TABLE accounts DROP CONSTRAINT accounts_region_check,
    ADD CONSTRAINT accounts_region_check CHECK (region ~ '^[0-9]{12}([0-9]{3})?$');
ALTER TABLE categories DROP CONSTRAINT categories_region_check,
    ADD CONSTRAINT categories_region_check CHECK (region ~ '^[0-9]{12}([0-9]{3})?$');
