import { readFileSync } from "node:fs";

/** A code block of a README, marked `<!-- snippet: <name> -->` on the line before its fence. */
export interface Snippet {
  name: string;
  /** The fence's language: `js`, `ts`, ... */
  lang: string;
  code: string;
}

/**
 * The marked code blocks of a Markdown file, by name, exactly as written there (a marker not
 * followed by a fenced block throws: the test would otherwise check less than it says).
 *
 * @example
 * ```ts
 * const { "own-login": ownLogin } = snippets("README.md");
 * writeFileSync("own-login.mjs", ownLogin.code);
 * ```
 */
export function snippets(file: string): Record<string, Snippet> {
  const text = readFileSync(file, "utf8");
  const found: Record<string, Snippet> = {};
  for (const marker of text.matchAll(/<!-- snippet: ([\w-]+) -->\n/g)) {
    const name = marker[1] as string;
    const rest = text.slice((marker.index ?? 0) + marker[0].length);
    const block = /^```(\w+)\n([\s\S]*?)\n```/.exec(rest);
    if (!block) throw new Error(`${file}: the snippet marker "${name}" is not followed by a code block`);
    if (found[name]) throw new Error(`${file}: two snippets named "${name}"`);
    found[name] = { name, lang: block[1] as string, code: `${block[2]}\n` };
  }
  return found;
}

/**
 * The relative link targets of a Markdown file (`[text](target)`, without `#anchor`s), i.e.
 * the files a reader of the packed README follows.
 */
export function relativeLinks(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const targets = new Set<string>();
  for (const link of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = (link[1] as string).split("#")[0] as string;
    if (target === "" || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    targets.add(target.replace(/^\.\//, ""));
  }
  return [...targets].sort();
}
