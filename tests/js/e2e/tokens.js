// HS256 JWTs for the tests, signed with node's crypto (independent of roomd's code).

import { createHmac } from "node:crypto";

/** The secret the test configs give the auth plugin. */
export const SECRET = "e2e-secret-0123456789";

const b64url = (value) => Buffer.from(value).toString("base64url");

/** A token for `claims`, signed with `secret`. */
export function sign(claims, secret = SECRET) {
  const body = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

/** A valid token for user `id` (display name `name`), with `extra` claims. */
export function tokenFor(id, name = id, extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  return sign({ sub: id, name, iss: "e2e", aud: "chat", iat: now, exp: now + 600, ...extra });
}
