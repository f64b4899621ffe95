# Tests for the abac package.
package abac_test

import data.abac

analyst := {"id": "u1", "clearance": "confidential", "departments": ["sales", "finance"]}

intern := {"id": "u2", "clearance": "public", "departments": ["sales"]}

plan := {"id": "d1", "owner": "u1", "classification": "confidential", "departments": ["finance"]}

test_read_needs_clearance_and_a_department if {
	abac.allow with input as {"action": "read", "user": analyst, "resource": plan}
	not abac.allow with input as {"action": "read", "user": intern, "resource": plan}
}

test_read_outside_the_departments_is_denied if {
	memo := {"id": "d2", "owner": "u9", "classification": "internal", "departments": ["legal"]}
	not abac.allow with input as {"action": "read", "user": analyst, "resource": memo}
}

test_public_documents_need_no_department if {
	flyer := {"id": "d3", "owner": "u9", "classification": "public", "departments": []}
	abac.allow with input as {"action": "read", "user": intern, "resource": flyer}
}

test_only_the_owner_changes_a_document if {
	abac.allow with input as {"action": "update", "user": analyst, "resource": plan}
	not abac.allow with input as {"action": "delete", "user": object.union(analyst, {"id": "u7"}), "resource": plan}
}

test_export_needs_every_document_cleared if {
	docs := [plan, {"id": "d4", "classification": "internal"}]
	abac.export_allowed with input as {"user": analyst, "resources": docs}
	not abac.export_allowed with input as {"user": intern, "resources": docs}
}

test_export_never_includes_secrets if {
	director := {"id": "u0", "clearance": "secret", "departments": []}
	docs := [plan, {"id": "d5", "classification": "secret"}]
	not abac.export_allowed with input as {"user": director, "resources": docs}
}

test_empty_export_is_denied if {
	not abac.export_allowed with input as {"user": analyst, "resources": []}
}

test_blocked_lists_positions_and_ids if {
	docs := [{"id": "d6", "classification": "public"}, plan, {"id": "d7", "classification": "internal"}]
	blocked := abac.blocked with input as {"user": intern, "resources": docs}
	print("blocked:", blocked)
	blocked == {[1, "d1"], [2, "d7"]}
}
