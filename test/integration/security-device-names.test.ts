import { describe, expect, it } from "vitest";
import type { AdminSessionsResponse, SessionResponse } from "../../server/protocol.js";
import { call, login, nextRevocation } from "../support/client.js";
import { adminToken, auditTrail } from "../support/ops.js";
import { testResources } from "../support/resources.js";

// A device name is the client's word, shown to people elsewhere: on the replaced device's
// warning and in the admin view. Bidi overrides, zero-width characters and lone surrogates
// would let it spoof another name there (issue 12, point 9).

const { server, socketFor } = testResources();

/** Right-to-left override, zero-width space and joiner, BOM, a lone surrogate, a decomposed é. */
const SPOOF = "  \u202EpotkaL\u202C Cafe\u0301\u200B \u200Dlaptop\uFEFF\uD800\u0007 ";
const CLEAN = "potkaL Caf\u00E9 laptop";

describe("a device name with invisible and direction-changing characters", () => {
  it("is cleaned before anyone sees it: the other device's revocation notice, the session API and the admin API", async () => {
    const srv = await server();
    const first = await login(srv.url, { username: "alice", password: "demo", device: { name: "Desk" } });
    const socket = await socketFor(srv.url, first.token);
    const revoked = nextRevocation(socket);

    const second = await login(srv.url, { username: "alice", password: "demo", device: { name: SPOOF } });
    expect(second.session.device.name).toBe(CLEAN);

    const notice = await revoked;
    expect(notice.reason).toBe("replaced");
    expect(notice.by?.device.name).toBe(CLEAN);

    const own = await call(srv.url, "/auth/session", second.token);
    expect(own.status).toBe(200);
    expect((own.body as SessionResponse).session.device.name).toBe(CLEAN);

    const admin = await adminToken(srv.url);
    const sessions = await call(srv.url, "/auth/admin/sessions?user=alice", admin);
    expect(sessions.status).toBe(200);
    expect((sessions.body as AdminSessionsResponse).sessions.map((s) => s.device.name)).toEqual([CLEAN]);

    const events = await auditTrail(srv.url, admin, { user: "alice" });
    const login2 = events.find((e) => e.kind === "login" && e.sessionId === second.session.id);
    expect(login2?.device?.name).toBe(CLEAN);
    const replaced = events.find((e) => e.kind === "replaced" && e.sessionId === first.session.id);
    expect(replaced?.by?.device?.name).toBe(CLEAN);
  });
});
