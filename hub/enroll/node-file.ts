/**
 * The infra-repo file of an enrolled node (nodes/NAME.yaml): profile and labels from the join token,
 * capacity and GPUs from the node's inventory. Pure; the result is checked against the Node schema.
 */
import { Document, parseAllDocuments, stringify } from 'yaml';
import { FoundryError } from '../../common/errors.js';
import { describeAjvErrors, validatorFor } from '../../common/schema.js';
import type { EnrollRequest } from '../../common/generated/http/enroll-request.js';

/** What the node file is made from. */
export interface NodeFileInput {
  node: string;
  profile: string;
  labels: Record<string, string>;
  inventory: EnrollRequest['inventory'];
  tokenId: string;
  at: Date;
  /** The node's age public key, when it sent one. */
  ageRecipient?: string;
}

const PCI = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

/** Path of a node's file in the infra repo. */
export function nodeFilePath(node: string): string {
  return `nodes/${node}.yaml`;
}

/** The YAML text of the node file (with a comment saying where it came from). */
export function renderNodeFile(input: NodeFileInput): string {
  const { inventory } = input;
  const gpus = inventory.gpus.map((g) => {
    const pci = g.pciBusId?.toLowerCase();
    return { uuid: g.uuid, model: g.model ?? 'unknown', ...(pci !== undefined && PCI.test(pci) ? { pciAddress: pci } : {}) };
  });
  const doc = {
    apiVersion: 'foundry.cloud/v1',
    kind: 'Node',
    metadata: { name: input.node },
    spec: {
      profile: input.profile,
      ...(Object.keys(input.labels).length > 0 ? { labels: input.labels } : {}),
      ...(input.ageRecipient === undefined ? {} : { ageRecipient: input.ageRecipient }),
      capacity: { cpus: inventory.cpu.cores, memory: `${Math.floor(inventory.memoryBytes / 2 ** 20)}Mi` },
      ...(gpus.length > 0 ? { gpus } : {}),
    },
  };
  const validate = validatorFor('node.schema.json');
  if (!validate(doc)) throw new FoundryError('BAD_REQUEST', `the node file for ${input.node} would be invalid: ${describeAjvErrors(validate.errors).join('; ')}`, { resource: input.node });
  const header = [
    '# yaml-language-server: $schema=../schemas/infra.schema.json',
    `# Enrolled ${input.at.toISOString()} from host ${oneLine(inventory.hostname)} with join token ${input.tokenId}.`,
    '# Capacity and GPUs are what the node reported then; edit freely, Git is the source of truth.',
  ];
  return `${header.join('\n')}\n${stringify(doc, { lineWidth: 0 })}`;
}

/**
 * An existing node file (written by the admins) with spec.ageRecipient set to `recipient`, comments and
 * layout kept; undefined when it already says so or is not a single Node document.
 */
export function withAgeRecipient(text: string, recipient: string): string | undefined {
  const docs = parseAllDocuments(text);
  const doc = docs.length === 1 ? docs[0] : undefined;
  if (doc === undefined || !(doc instanceof Document) || doc.errors.length > 0 || doc.get('kind') !== 'Node') return undefined;
  if (doc.getIn(['spec', 'ageRecipient']) === recipient) return undefined;
  doc.setIn(['spec', 'ageRecipient'], recipient);
  return doc.toString({ lineWidth: 0 });
}

function oneLine(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}
