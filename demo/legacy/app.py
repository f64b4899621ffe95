#!/usr/bin/env python3
"""The demo's "legacy" service: a small orders/inventory API in Python, standard library only.

    python3 demo/legacy/app.py [--port N]     (N=0 picks a free port; the port is printed as JSON)

Endpoints:
    GET  /health
    GET  /openapi.json           this API's OpenAPI document (demo/openapi.json): the gateway's MCP tools come from it
    GET  /inventory              all items
    GET  /inventory/<sku>        one item, 404 if unknown
    GET  /orders                 all orders
    GET  /orders/<id>            one order, 404 if unknown
    POST /orders                 {"sku": "...", "qty": N} -> 201 with the order (409 if out of stock);
                                 behind the gateway, the caller's verified identity arrives as X-Ficus-Subject
                                 and is kept as created_by
"""
import argparse
import json
import os
import sys
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
INVENTORY = {
    "sku-1001": {"sku": "sku-1001", "name": "Espresso beans 1kg", "price": 24.5, "stock": 40},
    "sku-1002": {"sku": "sku-1002", "name": "Pour-over kettle", "price": 59.0, "stock": 12},
    "sku-1003": {"sku": "sku-1003", "name": "Paper filters (100)", "price": 6.25, "stock": 300},
}
ORDERS = {
    "1": {"id": "1", "sku": "sku-1001", "qty": 2, "total": 49.0, "status": "shipped", "created_at": "2026-11-20T09:15:00+00:00"},
    "2": {"id": "2", "sku": "sku-1002", "qty": 1, "total": 59.0, "status": "pending", "created_at": "2026-11-21T08:30:00+00:00"},
    "3": {"id": "3", "sku": "sku-1003", "qty": 4, "total": 25.0, "status": "pending", "created_at": "2026-11-21T10:05:00+00:00"},
}


def now_iso():
    return datetime.now(timezone.utc).isoformat()


class Handler(BaseHTTPRequestHandler):
    server_version = "legacy-orders/1.0"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and delayed ACKs
    # add ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # keep the demo's console readable
        pass

    def send_json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def not_found(self, what):
        self.send_json(404, {"error": f"{what} not found"})

    def do_GET(self):
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        parts = path.strip("/").split("/")
        if path == "/health":
            return self.send_json(200, {"status": "ok", "service": "legacy"})
        if path == "/openapi.json":
            with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "openapi.json"), encoding="utf-8") as f:
                return self.send_json(200, json.load(f))
        if parts[0] == "inventory":
            with LOCK:
                if len(parts) == 1:
                    return self.send_json(200, {"items": list(INVENTORY.values())})
                item = INVENTORY.get(parts[1])
            return self.send_json(200, item) if item else self.not_found("item")
        if parts[0] == "orders":
            # Every order response carries a trace id, random per response.
            with LOCK:
                if len(parts) == 1:
                    return self.send_json(200, {"orders": list(ORDERS.values()), "trace": str(uuid.uuid4())})
                order = ORDERS.get(parts[1])
            return self.send_json(200, {**order, "trace": str(uuid.uuid4())}) if order else self.not_found("order")
        self.not_found("route")

    def do_POST(self):
        if self.path.split("?", 1)[0].rstrip("/") != "/orders":
            return self.not_found("route")
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            sku, qty = body["sku"], int(body["qty"])
        except (ValueError, KeyError, TypeError):
            return self.send_json(400, {"error": "expected {\"sku\": string, \"qty\": integer}"})
        with LOCK:
            item = INVENTORY.get(sku)
            if not item:
                return self.not_found("item")
            if qty < 1 or item["stock"] < qty:
                return self.send_json(409, {"error": "not enough stock", "available": item["stock"]})
            item["stock"] -= qty
            order_id = str(len(ORDERS) + 1)
            order = {"id": order_id, "sku": sku, "qty": qty, "total": round(item["price"] * qty, 2), "status": "pending", "created_at": now_iso()}
            subject = self.headers.get("X-Ficus-Subject")
            if subject:
                order["created_by"] = subject
            ORDERS[order_id] = order
        self.send_json(201, order)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
