/**
 * For bench/enforcement.sh: writes into DIR an RS256 key's JWK Set (jwks.json), an RBAC policy over 100 roles
 * and 1,000 bindings (rbac.rego, rbac.json), and prints a token (valid for two hours) whose subject the policy
 * allows to GET /orders/… .
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: bun bench/enforcement-setup.ts DIR");
const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
writeFileSync(join(dir, "jwks.json"), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "bench", alg: "RS256", use: "sig" }] }));

const roleGrants: Record<string, { method: string; prefix: string }[]> = {};
for (let r = 0; r < 100; r++) roleGrants[`role${r}`] = ["GET", "POST", "DELETE"].map((method, i) => ({ method, prefix: `/svc${r}/res${i}/` }));
roleGrants.role7 = [{ method: "GET", prefix: "/orders/" }];
const userRoles: Record<string, string[]> = {};
for (let b = 0; b < 1000; b++) (userRoles[`user${b % 500}`] ??= []).push(`role${(b * 7) % 100}`);
(userRoles.user42 ??= []).push("role7");
writeFileSync(join(dir, "rbac.json"), JSON.stringify({ user_roles: userRoles, role_grants: roleGrants }));
writeFileSync(
  join(dir, "rbac.rego"),
  `package http

default allow := false

allow if {
	some role in data.user_roles[input.identity.subject]
	some grant in data.role_grants[role]
	input.method == grant.method
	startswith(input.path, grant.prefix)
}
`,
);
const token = await new SignJWT({ scope: "orders:read" })
  .setProtectedHeader({ alg: "RS256", kid: "bench" })
  .setIssuer("https://idp.bench")
  .setAudience("orders")
  .setSubject("user42")
  .setIssuedAt()
  .setExpirationTime("2h")
  .sign(privateKey);
process.stdout.write(token);
