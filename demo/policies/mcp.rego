# Which agent may call which of the shop's MCP tools (edge-mcp governance, docs/mcp.md#policy).
# Agents without a token may read the inventory; orders are for signed-in agents. A denied tool is left out of
# tools/list, and calling it anyway is a tool error carrying the message below.
package mcp

import rego.v1

default decision := {"allow": true}

decision := {"allow": false, "message": "orders are for signed-in agents: without a token, only the inventory tools"} if {
	input.tool.name in {"getOrder", "listOrders"}
	input.identity.method == "anonymous"
}
