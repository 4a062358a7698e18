/** Migration 31: closed billing months and their frozen invoices (rendered once, served as stored). */
export const sql = `
CREATE TABLE billing_closed_months (
  month TEXT PRIMARY KEY,
  closed_at_ms INTEGER NOT NULL,
  closed_by TEXT NOT NULL
);
CREATE TABLE billing_invoices (
  tenant TEXT NOT NULL,
  month TEXT NOT NULL,
  invoice_json TEXT NOT NULL,
  invoice_csv TEXT NOT NULL,
  PRIMARY KEY (tenant, month)
);
CREATE INDEX usage_records_tenant ON usage_records (json_extract(payload, '$.tenant'));
`;

/** PostgreSQL: the same tables; the tenant index on the JSON text's field. */
export const postgres = `
CREATE TABLE billing_closed_months (
  month TEXT COLLATE "C" PRIMARY KEY,
  closed_at_ms BIGINT NOT NULL,
  closed_by TEXT COLLATE "C" NOT NULL
);
CREATE TABLE billing_invoices (
  tenant TEXT COLLATE "C" NOT NULL,
  month TEXT COLLATE "C" NOT NULL,
  invoice_json TEXT COLLATE "C" NOT NULL,
  invoice_csv TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (tenant, month)
);
CREATE INDEX usage_records_tenant ON usage_records (((payload)::jsonb ->> 'tenant'));
`;
