-- 0009_invitations.sql — a volunteer joins a team only by accepting an invitation
-- (team.invite, invitation.accept): the team's leader or an official proposes, the volunteer
-- consents, as with a transfer.
CREATE TABLE invitations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id      bigint NOT NULL REFERENCES teams (id),
    volunteer_id bigint NOT NULL REFERENCES volunteers (id),
    role         text NOT NULL CHECK (role IN ('member', 'leader', 'info_officer')),
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'accepted', 'declined')),
    invited_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now (),
    answered_at  timestamptz,
    CHECK ((status = 'pending') = (answered_at IS NULL))
);
-- One pending invitation per team and volunteer: a second waits for the first's answer.
CREATE UNIQUE INDEX invitations_pending ON invitations (team_id, volunteer_id)
    WHERE status = 'pending';
CREATE INDEX invitations_volunteer ON invitations (volunteer_id, created_at)
    WHERE status = 'pending';
