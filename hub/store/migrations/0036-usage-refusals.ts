/** Migration 36: usage records the admission gate refused (never billed; shown to admins with the reason). */
export const sql = `
CREATE TABLE usage_refusals (
  node TEXT NOT NULL,
  seq INTEGER NOT NULL,
  reason TEXT NOT NULL,
  field TEXT,
  message TEXT NOT NULL,
  record TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (node, seq)
);
CREATE INDEX usage_refusals_received ON usage_refusals (received_at);
`;
