# Bearer-token authorization: the claims of an HS256 token signed with the
# shared secret (data.jwt.secret), issued by data.jwt.issuer for
# data.jwt.audience and not expired, decide what the caller may do. Scopes
# are the space-separated "scope" claim, as in OAuth 2.0.
#
# Input: {"method": "GET", "path": "/orders/42", "headers": {"authorization": "Bearer eyJ..."}}
package jwt

default allow := false

allow if {
	input.method in {"GET", "HEAD"}
	"orders:read" in scopes
}

allow if {
	input.method in {"POST", "PUT", "PATCH", "DELETE"}
	"orders:write" in scopes
}

bearer_token := token if {
	some header, value in input.headers
	lower(header) == "authorization"
	startswith(value, "Bearer ")
	token := trim_space(substring(value, 7, -1))
}

# The token's claims; undefined when it is missing, forged, expired or meant for someone else.
claims := payload if {
	constraints := {"secret": data.jwt.secret, "iss": data.jwt.issuer, "aud": data.jwt.audience}
	[valid, _, payload] := io.jwt.decode_verify(bearer_token, constraints)
	valid
}

scopes := {scope | some scope in split(claims.scope, " ")}

subject := claims.sub
