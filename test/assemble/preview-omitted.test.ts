import { describe, expect, it } from 'vitest';
import { previewJson, renderPreview } from '../../src/assemble/preview.js';
import type { AssembleResult } from '../../src/assemble/decide.js';

const result: AssembleResult = {
  key: '7',
  verdict: 'send',
  commit: null,
  issues: [],
  vanished: [],
  records: [{ externalId: '7', firstName: 'Ana', lastName: 'Lopez', phoneNumber: '(555) 123-4567', postalCode: '02134' }],
  omitted: [{ path: 'gender', reason: '"X" has no entry in customers.fields.gender.map (known: "M", "F")' }],
};

describe('preview of a record with fields left out (sync.onInvalidOptional: omit)', () => {
  it('names each field left out and why, in text and JSON', () => {
    expect(renderPreview([result])).toContain(
      '  - left out (sync.onInvalidOptional: omit) gender: "X" has no entry in customers.fields.gender.map',
    );
    expect((previewJson([result]) as { results: Array<{ omitted?: unknown }> }).results[0]!.omitted).toEqual(result.omitted);
    expect(renderPreview([{ ...result, omitted: undefined }])).not.toContain('left out');
  });
});
