/**
 * A patch that cannot be applied, with the upstream message (apimachinery's mergepatch and
 * strategicpatch errors) and the status the apiserver answers it with.
 */
export type PatchErrorReason = 'BadRequest' | 'Invalid' | 'Conflict';

const CODES: Record<PatchErrorReason, number> = { BadRequest: 400, Invalid: 422, Conflict: 409 };

export class PatchError extends Error {
  readonly code: number;
  constructor(
    message: string,
    readonly reason: PatchErrorReason = 'BadRequest',
  ) {
    super(message);
    this.name = 'PatchError';
    this.code = CODES[reason];
  }
}

/** mergepatch's fixed errors, word for word. */
export const PATCH_ERRORS = {
  badJSONDoc: 'invalid JSON document',
  noListOfLists: 'lists of lists are not supported',
  badPrimitiveList: 'invalid patch format of primitive list',
  badRetainKeys: 'invalid patch format of retainKeys',
  badSetElementOrder: 'invalid patch format of setElementOrder list',
  retainKeysMismatch: "patch content doesn't match retainKeys list",
} as const;
