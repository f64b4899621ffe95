# Attribute-based access control for a document store.
#
# A user's clearance must reach the document's classification; reading also
# needs a shared department (or a public document), and changing needs
# ownership. Attributes arrive with the request:
#
# Input: {"action": "read",
#         "user": {"id": "u1", "clearance": "internal", "departments": ["sales"]},
#         "resource": {"id": "d1", "owner": "u2", "classification": "internal", "departments": ["sales", "legal"]}}
package abac

levels := {"public": 0, "internal": 1, "confidential": 2, "secret": 3}

default allow := false

allow if {
	input.action == "read"
	cleared(input.user, input.resource)
	shares_department
}

allow if {
	input.action in {"update", "delete"}
	input.user.id == input.resource.owner
	cleared(input.user, input.resource)
}

cleared(user, resource) if levels[user.clearance] >= levels[resource.classification]

shares_department if input.resource.classification == "public"

shares_department if {
	some dept in input.user.departments
	dept in input.resource.departments
}

# A batch export (input.resources) is allowed only when the user may read
# every document in it and none is secret.
default export_allowed := false

export_allowed if {
	count(input.resources) > 0
	every doc in input.resources {
		cleared(input.user, doc)
		doc.classification != "secret"
	}
}

# The documents of a batch the user is not cleared for, by position.
blocked contains [i, doc.id] if {
	some i, doc in input.resources
	not cleared(input.user, doc)
}
