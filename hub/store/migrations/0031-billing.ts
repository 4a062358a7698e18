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
