# Tests for the rbac package: `ficus policy test examples/policies` (or `opa test`).
package rbac_test

import data.rbac

test_admin_can_delete_anything if {
	rbac.allow with input as {"user": "alice", "action": "delete", "resource": "/invoices/7/lines/1"}
}

test_clerk_can_update_an_order if {
	rbac.allow with input as {"user": "bob", "action": "update", "resource": "/orders/42"}
}

test_clerk_cannot_delete_an_order if {
	not rbac.allow with input as {"user": "bob", "action": "delete", "resource": "/orders/42"}
}

test_clerk_reads_customers_at_any_depth if {
	rbac.allow with input as {"user": "bob", "action": "read", "resource": "/customers/9/addresses/1"}
}

test_viewer_reads_one_segment_only if {
	rbac.allow with input as {"user": "carol", "action": "read", "resource": "/orders/42"}
	not rbac.allow with input as {"user": "carol", "action": "read", "resource": "/orders/42/items"}
}

test_roles_add_up if {
	rbac.user_roles == {"viewer", "clerk"} with input as {"user": "dan"}
	rbac.allow with input as {"user": "dan", "action": "create", "resource": "/orders/43"}
}

test_unknown_user_is_denied_with_a_reason if {
	not rbac.allow with input as {"user": "eve", "action": "read", "resource": "/orders/42"}
	rbac.reason == "eve may not read /orders/42" with input as {"user": "eve", "action": "read", "resource": "/orders/42"}
}

test_bindings_come_from_data if {
	eve_bound := [{"user": "eve", "roles": ["viewer"]}]
	rbac.allow with input as {"user": "eve", "action": "read", "resource": "/orders/42"} with data.rbac.bindings as eve_bound
}
