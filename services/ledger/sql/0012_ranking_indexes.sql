-- 0012_ranking_indexes.sql — the indexes only the old ranking read (issue 20).
--
-- 0007 indexed transfers by (debit | credit, unit, day) so that ranking.list could find a
-- period's transfers through the subtree's system accounts. ranking.list now reads
-- ranking_totals (0011), kept by a statement trigger in the posting transaction, and nothing
-- else looks transfers up by debit or credit: every posting paid for two index entries per
-- transfer that no read used.
DROP INDEX transfers_debit_day;
DROP INDEX transfers_credit_day;
