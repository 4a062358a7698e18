/** The fixed part of docs/reliability.md: how the scenarios work and what they cannot show. */
export const NOTES = `## How to run

\`npm run chaos\` (as root: network namespaces, nftables and tmpfs mounts need it) builds, runs every
scenario one file at a time and rewrites this file. \`FOUNDRY_CHAOS_SECONDS\` (default 60) sets the length
of the kill-and-cut test, \`FOUNDRY_CRASH_ROUNDS\` (default 12) the kill -9 rounds. It is not part of
\`npm test\`.
`;
