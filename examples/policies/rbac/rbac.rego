# Role-based access control for an orders API.
#
# Users hold roles (data.rbac.bindings); each role grants actions on resource
# path patterns (data.rbac.roles). Patterns are globs over "/"-separated
# paths: "*" matches one segment, "**" any number of them.
#
# Input: {"user": "bob", "action": "update", "resource": "/orders/42"}
package rbac

default allow := false

allow if {
	some grant in grants
	input.action in grant.actions
	glob.match(grant.resource, ["/"], input.resource)
}

# The roles bound to the user.
user_roles contains role if {
	some binding in data.rbac.bindings
	binding.user == input.user
	some role in binding.roles
}

# Every grant of every role the user holds.
grants contains grant if {
	some role in user_roles
	some grant in data.rbac.roles[role].grants
}

# Why the request is refused (for the error body); undefined when allowed.
reason := sprintf("%s may not %s %s", [input.user, input.action, input.resource]) if not allow
