/**
 * The demo's rewrite: the legacy API ported to TypeScript on Bun, with the
 * differences real rewrites have. `bun demo/rewrite/server.ts [PORT]` prints {"port":N}.
 *
 * - numbers print as JavaScript does (49, not Python's 49.0);
 * - keys come in another order;
 * - timestamps are written by toISOString() (2026-11-20T09:15:00.000Z, not +00:00);
 * - like legacy, order responses carry a trace id random per response;
 * - and one real bug: GET /orders/:id computes the total from the unit price, forgetting the quantity.
 * It keeps its own copy of the data, as a new service with its own store would.
 */
interface Item {
  sku: string;
  name: string;
  price: number;
  stock: number;
}
interface Order {
  id: string;
  sku: string;
  qty: number;
  status: string;
  created: Date;
}

const inventory = new Map<string, Item>([
  ["sku-1001", { sku: "sku-1001", name: "Espresso beans 1kg", price: 24.5, stock: 40 }],
  ["sku-1002", { sku: "sku-1002", name: "Pour-over kettle", price: 59.0, stock: 12 }],
  ["sku-1003", { sku: "sku-1003", name: "Paper filters (100)", price: 6.25, stock: 300 }],
]);
const orders = new Map<string, Order>([
  ["1", { id: "1", sku: "sku-1001", qty: 2, status: "shipped", created: new Date("2026-11-20T09:15:00Z") }],
  ["2", { id: "2", sku: "sku-1002", qty: 1, status: "pending", created: new Date("2026-11-21T08:30:00Z") }],
  ["3", { id: "3", sku: "sku-1003", qty: 4, status: "pending", created: new Date("2026-11-21T10:05:00Z") }],
]);

const price = (sku: string) => inventory.get(sku)?.price ?? 0;
// Key order differs from legacy's on purpose.
const orderJson = (o: Order, total: number) => ({ status: o.status, total, qty: o.qty, sku: o.sku, id: o.id, created_at: o.created.toISOString() });

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.argv[2] ?? 8002),
  routes: {
    "/health": () => Response.json({ status: "ok", service: "rewrite" }),
    "/inventory": () => Response.json({ items: [...inventory.values()] }),
    "/inventory/:sku": (req) => {
      const item = inventory.get(req.params.sku);
      return item ? Response.json(item) : Response.json({ error: "item not found" }, { status: 404 });
    },
    "/orders": () => Response.json({ trace: crypto.randomUUID(), orders: [...orders.values()].map((o) => orderJson(o, price(o.sku) * o.qty)) }),
    "/orders/:id": (req) => {
      const o = orders.get(req.params.id);
      if (!o) return Response.json({ error: "order not found" }, { status: 404 });
      // The bug: the quantity is forgotten.
      return Response.json({ trace: crypto.randomUUID(), ...orderJson(o, price(o.sku)) });
    },
  },
  fetch: () => Response.json({ error: "route not found" }, { status: 404 }),
});

console.log(JSON.stringify({ port: server.port }));
export {};
