/**
 * Rego engine cost (run: bun bench/policy.bench.ts), against the targets in
 * src/policy/rego/README.md: an RBAC decision through a prepared query
 * (100 roles, 1,000 bindings in data; p50 ≤ 5 µs), an ABAC decision with
 * `some … in` over 1,000 items and `every` (≤ 50 µs), and compiling 1,000
 * lines of Rego (≤ 50 ms). The list-scan RBAC and the ABAC rows go through
 * field indexes once warm (eval/index.ts); "abac over input" keeps the plain
 * per-element scan cost in view (input is never indexed).
 */
import { bench, do_not_optimize, group, run } from "mitata";
import { fromJSON } from "../src/policy/rego/value.ts";
import { Rego } from "../src/policy/rego/api.ts";

const RBAC = `package rbac

default allow := false

allow if {
	some role in data.user_roles[input.user]
	some grant in data.role_grants[role]
	input.action == grant.action
	startswith(input.resource, grant.prefix)
}

allow if {
	"admin" in data.user_roles[input.user]
}
`;

function rbacData() {
  const roleGrants: Record<string, { action: string; prefix: string }[]> = {};
  for (let r = 0; r < 100; r++) {
    roleGrants[`role${r}`] = ["read", "write", "delete", "list", "admin"].map((action, i) => ({ action, prefix: `/svc${r}/res${i}/` }));
  }
  const userRoles: Record<string, string[]> = {};
  for (let b = 0; b < 1000; b++) (userRoles[`user${b % 500}`] ??= []).push(`role${(b * 7) % 100}`);
  return { user_roles: userRoles, role_grants: roleGrants };
}

/** The same decision with the bindings as a list of {user, role} (as many RBAC exports are): a scan of 1,000. */
const RBAC_LIST = `package rbac_list

default allow := false

allow if {
	some binding in data.bindings
	binding.user == input.user
	some grant in data.role_grants[binding.role]
	input.action == grant.action
	startswith(input.resource, grant.prefix)
}
`;

function rbacListData() {
  const { user_roles, role_grants } = rbacData();
  const bindings: { user: string; role: string }[] = [];
  for (const [user, roles] of Object.entries(user_roles)) for (const role of roles) bindings.push({ user, role });
  return { bindings, role_grants };
}

const ABAC = `package abac

default allow := false

allow if {
	some asset in data.assets
	asset.id == input.asset
	asset.department == input.user.department
	every label in asset.labels {
		label in input.user.clearances
	}
}
`;

function abacData() {
  const assets = [];
  for (let i = 0; i < 1000; i++) assets.push({ id: `asset${i}`, department: `dept${i % 10}`, labels: [`l${i % 3}`, `l${i % 5}`] });
  return { assets };
}

function thousandLines(): string {
  let src = "package big\n\nimport rego.v1\n\n";
  let i = 0;
  while (src.split("\n").length < 1000) {
    src += `allow_${i} if {\n\tsome r in data.roles[input.user]\n\tr.name == "role${i}"\n\tinput.method in {"GET", "HEAD"}\n\tcount(input.path) > ${i % 5}\n\tx := [p | some p in input.path; p != "admin"]\n}\n\n`;
    src += `deny_${i} contains msg if {\n\tinput.user == "u${i}"\n\tmsg := concat(" ", ["user", input.user, "denied"])\n}\n\n`;
    i++;
  }
  return src;
}

const rbac = (await Rego.compile({ modules: { "rbac.rego": RBAC }, data: rbacData() })).prepare("data.rbac.allow");
const rbacInput = fromJSON({ user: "user42", action: "write", resource: "/svc94/res1/doc" });
const rbacInputJSON = { user: "user42", action: "write", resource: "/svc94/res1/doc" };
if (rbac.evaluate({ input: rbacInput }) !== true) throw new Error("rbac bench: expected allow");

const rbacList = (await Rego.compile({ modules: { "rbac_list.rego": RBAC_LIST }, data: rbacListData() })).prepare("data.rbac_list.allow");
if (rbacList.evaluate({ input: rbacInput }) !== true) throw new Error("rbac list bench: expected allow");

const abac = (await Rego.compile({ modules: { "abac.rego": ABAC }, data: abacData() })).prepare("data.abac.allow");
const abacInput = fromJSON({ asset: "asset997", user: { department: "dept7", clearances: ["l0", "l1", "l2", "l3", "l4"] } });
if (abac.evaluate({ input: abacInput }) !== true) throw new Error("abac bench: expected allow");

const abacInputScan = (await Rego.compile({ modules: { "abac.rego": ABAC.replace("data.assets", "input.assets") } })).prepare("data.abac.allow");
const abacScanInput = fromJSON({ ...abacData(), asset: "asset997", user: { department: "dept7", clearances: ["l0", "l1", "l2", "l3", "l4"] } });
if (abacInputScan.evaluate({ input: abacScanInput }) !== true) throw new Error("abac input bench: expected allow");

const big = thousandLines();

group("rego", () => {
  bench("rbac decision (prepared, input as Value)", () => do_not_optimize(rbac.evaluateValue({ input: rbacInput })));
  bench("rbac decision (prepared, input as JSON)", () => do_not_optimize(rbac.evaluateValue({ input: rbacInputJSON })));
  bench("rbac decision, bindings as a list (scan of 1,000)", () => do_not_optimize(rbacList.evaluateValue({ input: rbacInput })));
  bench("abac decision (1,000 items, every)", () => do_not_optimize(abac.evaluateValue({ input: abacInput })));
  bench("abac over input (plain scan of 1,000, every)", () => do_not_optimize(abacInputScan.evaluateValue({ input: abacScanInput })));
  bench("compile 1,000 lines", () => do_not_optimize(Rego.compileSync({ modules: { "big.rego": big } })));
});

await run();
