# Tests for the jwt package. The tokens were signed (HS256) with the secret in
# jwt/data.json; they expire in 2100 unless named otherwise.
package jwt_test

import data.jwt

# sub alice, scope "orders:read"
reader := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJvcmRlcnMtYXBpIiwiaWF0IjoxNzY3MjI1NjAwLCJleHAiOjQxMDI0NDQ4MDAsInN1YiI6ImFsaWNlIiwic2NvcGUiOiJvcmRlcnM6cmVhZCJ9.Did2HIKOJUtJCV6NrIVjp7xsWi2qNDD7J0TKukgjyW8"

# sub bob, scope "orders:read orders:write"
writer := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJvcmRlcnMtYXBpIiwiaWF0IjoxNzY3MjI1NjAwLCJleHAiOjQxMDI0NDQ4MDAsInN1YiI6ImJvYiIsInNjb3BlIjoib3JkZXJzOnJlYWQgb3JkZXJzOndyaXRlIn0.RQ8QavrLlCjt_--_j8xxpFO8u_Qa4Y_0TeWoTCA_tsE"

# as reader, but expired in 2001
expired := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJvcmRlcnMtYXBpIiwiaWF0IjoxNzY3MjI1NjAwLCJleHAiOjk3ODMwNzIwMCwic3ViIjoiYWxpY2UiLCJzY29wZSI6Im9yZGVyczpyZWFkIn0.FfgDAcckCyublkEP06g0NVHcPTMiVrCwFgZjhV0nlwE"

# as writer, but from another issuer
foreign := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2V2aWwuZXhhbXBsZS5jb20iLCJhdWQiOiJvcmRlcnMtYXBpIiwiaWF0IjoxNzY3MjI1NjAwLCJleHAiOjQxMDI0NDQ4MDAsInN1YiI6Im1hbGxvcnkiLCJzY29wZSI6Im9yZGVyczpyZWFkIG9yZGVyczp3cml0ZSJ9.Om1uuQPoJycny-MNDhfb6peZNRrclZBUZXC-12KBUCI"

# as writer, but signed with another secret
forged := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJvcmRlcnMtYXBpIiwiaWF0IjoxNzY3MjI1NjAwLCJleHAiOjQxMDI0NDQ4MDAsInN1YiI6Im1hbGxvcnkiLCJzY29wZSI6Im9yZGVyczpyZWFkIG9yZGVyczp3cml0ZSJ9.PvDxOlBZxP55Jn--JT2vh2PdJRhCdFFyz0zhD470LnI"

# as reader, but not valid before 2099
early := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJvcmRlcnMtYXBpIiwiaWF0IjoxNzY3MjI1NjAwLCJleHAiOjQxMDI0NDQ4MDAsInN1YiI6ImFsaWNlIiwic2NvcGUiOiJvcmRlcnM6cmVhZCIsIm5iZiI6NDA3MDkwODgwMH0.gR3hkCI80eYhblFVEzFiekFYaY26LLukFF8lx4Xkg94"

request(method, token) := {"method": method, "path": "/orders/42", "headers": {"Authorization": concat(" ", ["Bearer", token])}}

test_reader_may_get if {
	jwt.allow with input as request("GET", reader)
	jwt.subject == "alice" with input as request("GET", reader)
}

test_reader_may_not_post if {
	not jwt.allow with input as request("POST", reader)
}

test_writer_may_post if {
	jwt.allow with input as request("POST", writer)
	jwt.scopes == {"orders:read", "orders:write"} with input as request("POST", writer)
}

test_expired_token_is_refused if {
	not jwt.claims with input as request("GET", expired)
	not jwt.allow with input as request("GET", expired)
}

test_token_not_yet_valid_is_refused if {
	not jwt.allow with input as request("GET", early)
}

test_other_issuer_is_refused if {
	not jwt.allow with input as request("POST", foreign)
}

test_forged_signature_is_refused if {
	not jwt.allow with input as request("POST", forged)
}

test_missing_or_malformed_header_is_refused if {
	not jwt.allow with input as {"method": "GET", "headers": {}}
	not jwt.allow with input as {"method": "GET", "headers": {"authorization": concat(" ", ["Basic", reader])}}
}

test_secret_comes_from_data if {
	not jwt.allow with input as request("GET", reader) with data.jwt.secret as "rotated-secret"
}
