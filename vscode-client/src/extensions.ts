// The slice of `vscode.extensions` that python.ts and cline.ts read. Declared here rather than taken
// from @types/vscode so those modules load under plain node and tests can fake it in a few lines.

export interface ExtensionLike<T = unknown> {
  readonly isActive: boolean;
  readonly exports: T;
  /** `vscode.Extension.packageJSON`; only `version` is read: for error messages, and to tell the sidecar. */
  readonly packageJSON?: { readonly version?: unknown };
  activate(): PromiseLike<T>;
}

export interface ExtensionRegistry {
  getExtension(extensionId: string): ExtensionLike | undefined;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return typeof error === "string" ? error : JSON.stringify(error) ?? String(error);
}
