/**
 * Styles of the built-in warning, inside its shadow root. Colours follow the system's light
 * or dark scheme; an app can set any `--solo-warning-*` custom property on `:root` to match
 * its own look (custom properties cross the shadow boundary).
 */
export const WARNING_CSS = `
:host {
  position: fixed;
  top: 0;
  left: 0;
  width: 0;
  height: 0;
  overflow: visible;
}
.dialog {
  --bg: var(--solo-warning-bg, #ffffff);
  --fg: var(--solo-warning-fg, #161a22);
  --muted: var(--solo-warning-muted, #596173);
  --line: var(--solo-warning-line, #e4e7ee);
  --panel: var(--solo-warning-panel, #f5f6f9);
  --accent: var(--solo-warning-accent, #3454d1);
  --accent-fg: var(--solo-warning-accent-fg, #ffffff);
  --alert: var(--solo-warning-alert, #c2410c);
  --alert-bg: var(--solo-warning-alert-bg, #fff1e8);
  color-scheme: light;
  box-sizing: border-box;
  width: min(28rem, calc(100vw - 2rem));
  max-height: calc(100dvh - 2rem);
  overflow: auto;
  margin: auto;
  padding: 1.75rem 1.75rem 1.5rem;
  border: 1px solid var(--line);
  border-radius: 1rem;
  background: var(--bg);
  color: var(--fg);
  box-shadow: 0 1px 2px rgb(16 24 40 / 0.06), 0 24px 64px -12px rgb(16 24 40 / 0.35);
  font: 400 0.9375rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  text-align: left;
  -webkit-font-smoothing: antialiased;
}
.dialog.fallback {
  position: fixed;
  inset: 0;
  z-index: 2147483647;
  height: fit-content;
}
.scrim {
  position: fixed;
  inset: 0;
  z-index: 2147483646;
  background: rgb(10 14 22 / 0.5);
}
.dialog::backdrop {
  background: rgb(10 14 22 / 0.5);
  backdrop-filter: blur(2px);
}
@media (prefers-color-scheme: dark) {
  .dialog {
    --bg: var(--solo-warning-bg, #1a1e27);
    --fg: var(--solo-warning-fg, #eef0f5);
    --muted: var(--solo-warning-muted, #a3abbd);
    --line: var(--solo-warning-line, #2d3341);
    --panel: var(--solo-warning-panel, #222734);
    --accent: var(--solo-warning-accent, #7d98ff);
    --accent-fg: var(--solo-warning-accent-fg, #0d1120);
    --alert: var(--solo-warning-alert, #ffb287);
    --alert-bg: var(--solo-warning-alert-bg, #3a2518);
    color-scheme: dark;
    box-shadow: 0 24px 64px -12px rgb(0 0 0 / 0.7);
  }
  .dialog::backdrop {
    background: rgb(0 0 0 / 0.6);
  }
}
.icon {
  display: grid;
  place-items: center;
  width: 2.75rem;
  height: 2.75rem;
  margin-bottom: 1rem;
  border-radius: 999px;
  background: var(--alert-bg);
  color: var(--alert);
}
.icon svg {
  width: 1.375rem;
  height: 1.375rem;
}
h2 {
  margin: 0 0 0.5rem;
  font-size: 1.25rem;
  line-height: 1.3;
  font-weight: 650;
  letter-spacing: -0.01em;
}
p {
  margin: 0 0 1rem;
}
.why {
  font-size: 1rem;
}
.details {
  display: grid;
  grid-template-columns: auto 1fr;
  gap: 0.375rem 1rem;
  margin: 0 0 1rem;
  padding: 0.875rem 1rem;
  border: 1px solid var(--line);
  border-radius: 0.75rem;
  background: var(--panel);
  font-size: 0.875rem;
}
.details .caption {
  grid-column: 1 / -1;
  margin-bottom: 0.125rem;
  color: var(--muted);
  font-size: 0.75rem;
  font-weight: 600;
  letter-spacing: 0.06em;
  text-transform: uppercase;
}
dt {
  color: var(--muted);
}
dd {
  margin: 0;
  font-weight: 550;
  overflow-wrap: anywhere;
}
.note {
  color: var(--muted);
  font-size: 0.875rem;
}
.actions {
  display: flex;
  flex-wrap: wrap;
  justify-content: flex-end;
  gap: 0.75rem;
  margin-top: 1.5rem;
}
.status:empty {
  display: none;
}
.status {
  margin-top: 1rem;
  padding: 0.75rem 1rem;
  border-radius: 0.625rem;
  background: var(--panel);
  font-weight: 550;
}
button {
  min-width: 6rem;
  min-height: 2.75rem;
  padding: 0.625rem 1.25rem;
  border: 0;
  border-radius: 0.625rem;
  background: var(--accent);
  color: var(--accent-fg);
  font: inherit;
  font-weight: 600;
  cursor: pointer;
}
button.secondary {
  background: transparent;
  color: var(--alert);
  box-shadow: inset 0 0 0 2px var(--alert);
}
button:disabled {
  cursor: progress;
  opacity: 0.7;
}
button:hover {
  filter: brightness(1.08);
}
button:focus-visible {
  outline: 3px solid var(--accent);
  outline-offset: 3px;
}
@media (prefers-reduced-motion: no-preference) {
  .dialog[open] {
    animation: solo-in 180ms cubic-bezier(0.2, 0.9, 0.3, 1.2);
  }
  @keyframes solo-in {
    from {
      opacity: 0;
      transform: translateY(8px) scale(0.98);
    }
  }
}
@media (max-width: 480px) {
  .dialog {
    padding: 1.5rem 1.25rem 1.25rem;
  }
  .actions button {
    width: 100%;
  }
}
`;
