import { OciError } from "@registry/core";
import type { UploadStore } from "@registry/storage";

/** What every write to the mirror throws. */
export function readOnly(): OciError {
  return new OciError("UNSUPPORTED", { detail: "this mirror is read-only" });
}

/** The mirror's upload store: there are no uploads. */
export const noUploads: UploadStore = {
  start: () => Promise.reject(readOnly()),
  status: () => Promise.reject(readOnly()),
  append: () => Promise.reject(readOnly()),
  finish: () => Promise.reject(readOnly()),
  cancel: () => Promise.reject(readOnly()),
  putBlob: () => Promise.reject(readOnly()),
};
