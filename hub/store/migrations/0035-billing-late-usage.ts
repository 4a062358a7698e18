/**
 * Migration 35: where the late time of each usage record is billed, decided once when the record arrives.
 *
 * usage_late has one row per closed month a record's time lies in (used_month) and the first month that
 * was still open when the record arrived (invoice_month): that invoice bills the piece, marked late, and
 * no later close moves it again. The trigger decides it in the transaction that inserts the record, from
 * the months closed at that moment (a month is closed in the same transaction that freezes its invoices,
 * so "closed at arrival" means exactly "not on the frozen invoice"). It reads only whole-number `from`/`to`
 * (`fromMs`/`toMs` in early drafts) and never fails: anything else yields no row (rating refuses such a
 * record anyway). Rows stored before this migration get the same answer from their received_at and each
 * month's closed_at_ms.
 */
const ms = (field: string, row: string): string =>
  `CASE WHEN typeof(COALESCE(json_extract(${row}.payload, '$.${field}'), json_extract(${row}.payload, '$.${field}Ms'))) = 'integer' THEN COALESCE(json_extract(${row}.payload, '$.${field}'), json_extract(${row}.payload, '$.${field}Ms')) END`;

// the first month after one of `closed` (at or after c.month) that is not itself in `closed`
const firstOpen = (closed: string): string => `(SELECT min(n.next) FROM (SELECT strftime('%Y-%m', k.month || '-01', '+1 month') AS next FROM ${closed} k WHERE k.month >= c.month) n
    WHERE n.next NOT IN (SELECT month FROM ${closed}))`;

export const sql = `
CREATE TABLE usage_late (
  usage_id INTEGER NOT NULL,
  used_month TEXT NOT NULL,
  invoice_month TEXT NOT NULL,
  PRIMARY KEY (usage_id, used_month)
) WITHOUT ROWID;

-- WHEN: most records are of the current month, later than every closed month; they skip the body
CREATE TRIGGER usage_records_late AFTER INSERT ON usage_records
WHEN (SELECT max(month) FROM billing_closed_months) >= strftime('%Y-%m', COALESCE(json_extract(NEW.payload, '$.from'), json_extract(NEW.payload, '$.fromMs')) / 1000, 'unixepoch')
BEGIN
  INSERT OR IGNORE INTO usage_late (usage_id, used_month, invoice_month)
  SELECT id, used, target FROM (
    SELECT NEW.id AS id, c.month AS used, ${firstOpen('billing_closed_months')} AS target
    FROM billing_closed_months c, (SELECT (${ms('from', 'NEW')}) / 1000 AS f, (${ms('to', 'NEW')}) / 1000 AS t) r
    WHERE r.t > r.f AND c.month >= strftime('%Y-%m', r.f, 'unixepoch') AND c.month <= strftime('%Y-%m', r.t - 1, 'unixepoch')
  ) WHERE target IS NOT NULL;
END;

CREATE TEMP TABLE usage_late_backfill AS
  SELECT u.id AS id, u.f AS f, u.t AS t, u.at AS at FROM (
    SELECT id, (${ms('from', 'usage_records')}) / 1000 AS f, (${ms('to', 'usage_records')}) / 1000 AS t, CAST(round(unixepoch(received_at, 'subsec') * 1000) AS INTEGER) AS at FROM usage_records
  ) u WHERE u.t > u.f AND u.at IS NOT NULL;
INSERT OR IGNORE INTO usage_late (usage_id, used_month, invoice_month)
  SELECT id, used, target FROM (
    SELECT u.id AS id, c.month AS used, (SELECT min(n.next) FROM (SELECT strftime('%Y-%m', k.month || '-01', '+1 month') AS next FROM billing_closed_months k WHERE k.month >= c.month AND k.closed_at_ms < u.at) n
      WHERE n.next NOT IN (SELECT month FROM billing_closed_months WHERE closed_at_ms < u.at)) AS target
    FROM usage_late_backfill u JOIN billing_closed_months c ON c.closed_at_ms < u.at
    WHERE c.month >= strftime('%Y-%m', u.f, 'unixepoch') AND c.month <= strftime('%Y-%m', u.t - 1, 'unixepoch')
  ) WHERE target IS NOT NULL;
DROP TABLE usage_late_backfill;
`;

/**
 * PostgreSQL: the same decision in a row trigger (plpgsql). foundry_usage_ms reads a whole-number field
 * (or its early `...Ms` name) as SQLite's typeof(...) = 'integer' does: a JSON number without a fraction,
 * else null; foundry_usage_month is strftime('%Y-%m', seconds, 'unixepoch').
 */
export const postgres = `
CREATE TABLE usage_late (
  usage_id BIGINT NOT NULL,
  used_month TEXT COLLATE "C" NOT NULL,
  invoice_month TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (usage_id, used_month)
);

CREATE FUNCTION foundry_usage_ms(p jsonb, field text) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(v) = 'number' AND v::text ~ '^-?[0-9]+$' THEN v::text::bigint END
  FROM (SELECT COALESCE(NULLIF(p -> field, 'null'::jsonb), NULLIF(p -> (field || 'Ms'), 'null'::jsonb)) AS v) x
$$;
CREATE FUNCTION foundry_usage_month(seconds bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(to_timestamp(seconds) AT TIME ZONE 'UTC', 'YYYY-MM')
$$;
CREATE FUNCTION foundry_next_month(month text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char((month || '-01')::date + interval '1 month', 'YYYY-MM')
$$;

CREATE FUNCTION foundry_usage_late() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  p jsonb := NEW.payload::jsonb;
  f bigint := foundry_usage_ms(p, 'from') / 1000;
  t bigint := foundry_usage_ms(p, 'to') / 1000;
BEGIN
  IF f IS NULL OR t IS NULL OR t <= f THEN RETURN NULL; END IF;
  INSERT INTO usage_late (usage_id, used_month, invoice_month)
  SELECT id, used, target FROM (
    SELECT NEW.id AS id, c.month AS used,
      (SELECT min(n.next) FROM (SELECT foundry_next_month(k.month) AS next FROM billing_closed_months k WHERE k.month >= c.month) n
        WHERE n.next NOT IN (SELECT month FROM billing_closed_months)) AS target
    FROM billing_closed_months c
    WHERE c.month >= foundry_usage_month(f) AND c.month <= foundry_usage_month(t - 1)
  ) x WHERE target IS NOT NULL
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER usage_records_late AFTER INSERT ON usage_records FOR EACH ROW EXECUTE FUNCTION foundry_usage_late();

INSERT INTO usage_late (usage_id, used_month, invoice_month)
  SELECT id, used, target FROM (
    SELECT u.id AS id, c.month AS used,
      (SELECT min(n.next) FROM (SELECT foundry_next_month(k.month) AS next FROM billing_closed_months k WHERE k.month >= c.month AND k.closed_at_ms < u.at) n
        WHERE n.next NOT IN (SELECT month FROM billing_closed_months WHERE closed_at_ms < u.at)) AS target
    FROM (
      SELECT id, foundry_usage_ms(payload::jsonb, 'from') / 1000 AS f, foundry_usage_ms(payload::jsonb, 'to') / 1000 AS t,
        (extract(epoch FROM received_at::timestamptz) * 1000)::bigint AS at
      FROM usage_records
    ) u JOIN billing_closed_months c ON c.closed_at_ms < u.at
    WHERE u.t > u.f AND c.month >= foundry_usage_month(u.f) AND c.month <= foundry_usage_month(u.t - 1)
  ) x WHERE target IS NOT NULL
ON CONFLICT DO NOTHING;
`;
