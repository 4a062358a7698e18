/** Migration 38: each node's age public key (recipient), from enrollment or its hello; the private key never leaves the node. */
export const sql = `
ALTER TABLE nodes ADD COLUMN age_recipient TEXT;
ALTER TABLE nodes ADD COLUMN age_recipient_at TEXT;
`;
