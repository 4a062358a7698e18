/**
 * Migration 54: PostgreSQL's late-usage trigger (migration 35) reads every number SQLite's does, and none
 * makes it fail. Before, a record whose `from`/`to` lay beyond PostgreSQL's timestamps (year 294277 on) or
 * beyond BIGINT failed its INSERT ("timestamp out of range", "bigint out of range") once any month was
 * closed: the hub could not store it, and the agent would resend it forever. SQLite stores such a record
 * with no late row. Now foundry_usage_ms reads only a whole number within BIGINT (SQLite reads a larger
 * one as a real, which its trigger ignores) and foundry_usage_month is SQLite's strftime('%Y-%m', s,
 * 'unixepoch'): astronomical years written as printf('%04d'), e.g. -001-12, and NULL outside
 * -4713-11-24 .. 9999-12-31. SQLite's own trigger is unchanged.
 */
export const sql = `
-- PostgreSQL only (see its text): SQLite's trigger already reads these numbers without failing.
`;

/** PostgreSQL: the two helpers of migration 35's trigger, replaced in place (the trigger calls them by name). */
export const postgres = `
CREATE OR REPLACE FUNCTION foundry_usage_ms(p jsonb, field text) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(v) = 'number' AND v::text ~ '^-?[0-9]+$' THEN
    CASE WHEN v::text::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 THEN v::text::bigint END
  END
  FROM (SELECT COALESCE(NULLIF(p -> field, 'null'::jsonb), NULLIF(p -> (field || 'Ms'), 'null'::jsonb)) AS v) x
$$;
CREATE OR REPLACE FUNCTION foundry_usage_month(seconds bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN seconds BETWEEN -210866760000 AND 253402300799 THEN
    (CASE WHEN y < 0 THEN '-' || lpad((-y)::text, greatest(3, length((-y)::text)), '0') ELSE lpad(y::text, 4, '0') END) || '-' || lpad(m::text, 2, '0')
  END
  FROM (
    SELECT CASE WHEN yy < 0 THEN yy + 1 ELSE yy END AS y, mm AS m
    FROM (SELECT extract(year FROM ts)::int AS yy, extract(month FROM ts)::int AS mm
      FROM (SELECT CASE WHEN seconds BETWEEN -210866760000 AND 253402300799 THEN to_timestamp(seconds) AT TIME ZONE 'UTC' END AS ts) t) u
  ) v
$$;
`;
