// Bootstrap of the mcp-registry application user (docker-entrypoint-initdb.d: runs once, on an empty
// /data/db, connected as the root user to MONGO_INITDB_DATABASE). The password comes from the mounted Secret.
const fs = require('fs');
const password = fs.readFileSync('/etc/mongodb/secrets/password', 'utf8').replace(/\r?\n$/, '');
const name = process.env.MCP_REGISTRY_APP_USER;
db.getSiblingDB(process.env.MONGO_INITDB_DATABASE).createUser({
  user: name,
  pwd: password,
  roles: [{ role: 'readWrite', db: process.env.MONGO_INITDB_DATABASE }],
});
print(`created MongoDB user ${name}`);
