-- 0018_volunteer_skills.sql — volunteer.list by skill reads the volunteers who have it, not
-- the whole subtree (issue 24). volunteers_region walks a subtree in (region, id) order and
-- tests each volunteer's skills: a skill few in the subtree have (none in a village of 3,000)
-- read every one of them for a page. Here a row per volunteer and skill, in (skill, region,
-- id) order: a page by skill is a range of it. Kept by triggers on volunteers, a statement at
-- a time (an import's rows in one go), whatever path writes the volunteer.
CREATE TABLE volunteer_skills (
    skill   text NOT NULL,
    region  text COLLATE "C" NOT NULL,
    id      bigint NOT NULL,
    PRIMARY KEY (skill, region, id)
);

CREATE FUNCTION volunteer_skills_insert () RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO volunteer_skills (skill, region, id)
    SELECT DISTINCT s, n.region, n.id FROM inserted n, unnest (n.skills) s;
    RETURN NULL;
END $$;

-- Only the rows whose skills or region changed (a status change touches none).
CREATE FUNCTION volunteer_skills_update () RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM volunteer_skills k USING old_rows o JOIN new_rows n ON n.id = o.id
    WHERE k.id = o.id AND k.region = o.region AND k.skill = ANY (o.skills)
      AND (o.skills IS DISTINCT FROM n.skills OR o.region <> n.region);
    INSERT INTO volunteer_skills (skill, region, id)
    SELECT DISTINCT s, n.region, n.id FROM old_rows o JOIN new_rows n ON n.id = o.id,
        unnest (n.skills) s
    WHERE o.skills IS DISTINCT FROM n.skills OR o.region <> n.region;
    RETURN NULL;
END $$;

CREATE FUNCTION volunteer_skills_delete () RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM volunteer_skills k USING deleted o
    WHERE k.id = o.id AND k.region = o.region AND k.skill = ANY (o.skills);
    RETURN NULL;
END $$;

CREATE TRIGGER volunteer_skills_insert AFTER INSERT ON volunteers
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    EXECUTE FUNCTION volunteer_skills_insert ();
CREATE TRIGGER volunteer_skills_update AFTER UPDATE ON volunteers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION volunteer_skills_update ();
CREATE TRIGGER volunteer_skills_delete AFTER DELETE ON volunteers
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT
    EXECUTE FUNCTION volunteer_skills_delete ();

INSERT INTO volunteer_skills (skill, region, id)
SELECT DISTINCT s, v.region, v.id FROM volunteers v, unnest (v.skills) s;
