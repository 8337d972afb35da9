-- 0008_record_indexes.sql — the rounds' fairness figures read confirmed hours of the last 30
-- days; without this they would read every service record ever kept.
CREATE INDEX service_records_confirmed ON service_records (confirmed_at)
    WHERE status = 'confirmed';
