/**
 * The `default` of an exhaustive `switch` over a discriminated union: it compiles only when
 * every member has its `case`, so a member added later cannot be forgotten. At run time it
 * does nothing: a value that still gets here (a message from another version of the SDK in
 * another tab) is ignored.
 *
 * @example
 * ```ts
 * switch (message.t) {
 *   case "hi": ...; return;
 *   // ... a case for every other member
 *   default:
 *     assertNever(message);
 * }
 * ```
 */
export function assertNever(_value: never): void {}
