import { describe, expect, it } from 'vitest';
import { conditionsFor, reasonOfCode, type ResourceStatus } from './status.js';

const res = (phase: ResourceStatus['phase'], reason = 'X'): ResourceStatus => ({ id: 'a', kind: 'container', name: 'a', phase, reason, message: 'm', action: 'create' });

describe('status conditions', () => {
  it('maps error codes to PascalCase reasons', () => {
    expect(['INFRA_SCHEMA', 'INFRA_YAML', 'GIT_SIGNATURE', 'GIT_FETCH', 'PRUNE_REFUSED', 'IMAGE_MISSING', 'RUNTIME_ACTION', 'NODE_UNKNOWN', 'VM_ACTION'].map(reasonOfCode)).toEqual([
      'ValidationFailed', 'ValidationFailed', 'SignatureRejected', 'FetchFailed', 'PruneRefused', 'ImageMissing', 'ActionFailed', 'NodeUnknown', 'VmAction',
    ]);
  });

  it('is Ready when converged', () => {
    expect(conditionsFor({ converged: true, errors: [], resources: [res('Ready')], desiredRevision: 'abc' })).toEqual([
      { type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: 'applied revision abc' },
      { type: 'Reconciling', status: 'False', reason: 'Idle', message: '' },
      { type: 'Stalled', status: 'False', reason: 'NotStalled', message: '' },
    ]);
  });

  it('is Reconciling while resources retry, Stalled when a person must act', () => {
    const retrying = conditionsFor({ converged: false, errors: [], resources: [res('Reconciling', 'ActionFailed')], desiredRevision: 'abc' });
    expect(retrying.map((c) => `${c.type}=${c.status} ${c.reason}`)).toEqual(['Ready=False ProgressingWithRetry', 'Reconciling=True ProgressingWithRetry', 'Stalled=False NotStalled']);
    const stalled = conditionsFor({ converged: false, errors: [], resources: [res('Stalled', 'ImageMissing')], desiredRevision: 'abc' });
    expect(stalled.map((c) => `${c.type}=${c.status} ${c.reason}`)).toEqual(['Ready=False ProgressingWithRetry', 'Reconciling=False Idle', 'Stalled=True ImageMissing']);
    const refused = conditionsFor({ converged: false, errors: [{ step: 'verify', code: 'GIT_SIGNATURE', message: 'commit x is not signed' }], resources: [], desiredRevision: undefined });
    expect(refused.map((c) => `${c.type}=${c.status} ${c.reason} ${c.message}`)).toEqual(['Ready=False SignatureRejected commit x is not signed', 'Reconciling=False Idle ', 'Stalled=True SignatureRejected commit x is not signed']);
  });
});
