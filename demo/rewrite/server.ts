/**
 * The demo's rewrite: the inventory part of the legacy API, ported to
 * TypeScript on Bun. `bun demo/rewrite/server.ts [PORT]` prints {"port":N}.
 * It keeps its own copy of the data, as a new service with its own store would.
 */
interface Item {
  sku: string;
  name: string;
  price: number;
  stock: number;
}

const inventory = new Map<string, Item>([
  ["sku-1001", { sku: "sku-1001", name: "Espresso beans 1kg", price: 24.5, stock: 40 }],
  ["sku-1002", { sku: "sku-1002", name: "Pour-over kettle", price: 59.0, stock: 12 }],
  ["sku-1003", { sku: "sku-1003", name: "Paper filters (100)", price: 6.25, stock: 300 }],
]);

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
  },
  fetch: () => Response.json({ error: "route not found" }, { status: 404 }),
});

console.log(JSON.stringify({ port: server.port }));
export {};
