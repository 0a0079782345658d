/**
 * Showing the warning of a revocation: the built-in dialog (a chunk of its own, loaded on
 * demand: an app that never shows it never loads it), the app's own renderer, or none.
 *
 * @module
 */

import type { ClearReport } from "./clear.js";
import { report } from "./emitter.js";
import type { ResolvedOptions } from "./options.js";
import type { Revocation } from "./types.js";
import type { WarningContext } from "./warning/texts.js";

/** The warning of one client: at most one is shown at a time. */
export interface Warning {
  /** Fetches the built-in warning's code now, so it shows at once even if the network is gone later. */
  preload(): void;
  /**
   * Shows the warning of `revocation` (`dispute`: "This wasn't me", when it can be disputed).
   * A warning that fails is reported; this never rejects.
   */
  show(revocation: Revocation, cleared: ClearReport, dispute?: () => Promise<unknown>): Promise<void>;
  /** Removes the warning, if one is shown; a built-in one still loading then is not shown. */
  remove(): void;
}

/**
 * The warning the options ask for.
 *
 * @example
 * ```ts
 * const warning = createWarning(options);
 * await warning.show(revocation, cleared);
 * ```
 */
export function createWarning({
  warning,
  locale,
  texts,
}: Pick<ResolvedOptions, "warning" | "locale" | "texts">): Warning {
  let remove: (() => void) | null = null;
  /** Bumped by `remove()`: a built-in warning that finishes loading after it is not shown. */
  let removals = 0;
  const self: Warning = {
    preload: () => {
      if (warning === "builtin") load().catch(() => {});
    },
    show: async (revocation, cleared, dispute) => {
      const context: WarningContext = { cleared, locale, texts };
      if (dispute) context.dispute = dispute;
      const at = removals;
      if (warning === false) return;
      try {
        if (warning === "builtin") {
          const { showWarning } = await load();
          if (at !== removals) return;
          self.remove();
          remove = showWarning(revocation, context);
        } else {
          warning(revocation, context);
        }
      } catch (error) {
        // A warning that fails must not stop the revocation.
        report(error);
      }
    },
    remove: () => {
      removals++;
      remove?.();
      remove = null;
    },
  };
  return self;
}

/** The built-in warning is a separate chunk: an app that never shows it never loads it. */
function load(): Promise<typeof import("./warning/dialog.js")> {
  return import("./warning/dialog.js");
}
