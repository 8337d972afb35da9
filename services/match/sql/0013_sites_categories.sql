-- 0013_sites_categories.sql — what match knows of registry's practice sites and of the
-- service categories a region added for itself, fed by registry's site.created and
-- category.created: an activity names only a site, and an activity, project or request only
-- a local category, that is its maker's to use (in their scope, or above the region it is
-- for).
CREATE TABLE sites (
    site_id      bigint PRIMARY KEY,
    region       text NOT NULL CHECK (region ~ '^[0-9]{12}([0-9]{3})?$'),
    registry_seq bigint NOT NULL
);

CREATE TABLE categories (
    code         text PRIMARY KEY,
    region       text CHECK (region ~ '^[0-9]{12}$'), -- NULL: national
    registry_seq bigint NOT NULL
);
