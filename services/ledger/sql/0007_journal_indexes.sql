-- 0007_journal_indexes.sql — the journal read by region at scale (issue 20): ranking.list of a
-- county for a quarter read every transfer of those days, of every region, and joined both
-- accounts of each to find the region (2.5 s at 1,000,000 rows, growing with the journal).
-- It now starts from the subtree's system accounts (a few per village) and reads, by these
-- indexes alone, their transfers of the period: the volunteer, the kind, the amount, whether
-- by hand. They replace the plain indexes on debit and credit, which they also serve.
CREATE INDEX transfers_debit_day ON transfers (debit, unit, day)
    INCLUDE (volunteer_id, kind, amount, manual);
CREATE INDEX transfers_credit_day ON transfers (credit, unit, day)
    INCLUDE (volunteer_id, kind, amount, manual);
DROP INDEX transfers_debit;
DROP INDEX transfers_credit;
