-- 0024_near_teams.sql — what match knows of registry's teams, for the teams' hours.
-- Teams and their members as registry's team.created and membership.changed tell them, for
-- the teams ranked by their members' confirmed hours (stats.teams): match owns the records,
-- registry the teams; neither reads the other's tables. A membership ended keeps its row
-- with role NULL, so that an older event arriving late cannot bring it back (registry_seq).
CREATE TABLE teams (
    team_id      bigint PRIMARY KEY,
    name         text NOT NULL,
    region       text NOT NULL CHECK (region ~ '^[0-9]{12}([0-9]{3})?$'),
    registry_seq bigint NOT NULL
);
CREATE INDEX teams_region ON teams (region text_pattern_ops);

CREATE TABLE team_members (
    team_id      bigint NOT NULL,
    volunteer_id bigint NOT NULL,
    role         text, -- NULL: no longer a member
    registry_seq bigint NOT NULL,
    PRIMARY KEY (team_id, volunteer_id)
);
CREATE INDEX team_members_volunteer ON team_members (volunteer_id) WHERE role IS NOT NULL;

-- The records of a volunteer by the time they were checked in (the teams' hours in a period).
CREATE INDEX service_records_volunteer_checkin ON service_records (volunteer_id, checkin_at)
    WHERE status = 'confirmed';
