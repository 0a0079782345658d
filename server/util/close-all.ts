/**
 * Runs every release step in order, each even when an earlier one threw; then throws the first
 * failure (an AggregateError when several failed).
 *
 * @example
 * ```ts
 * await closeAll([() => timer.stop(), () => io.close(), () => store.close()]);
 * ```
 */
export async function closeAll(steps: readonly (() => unknown)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, "solo-session: close() failed in several steps");
}
