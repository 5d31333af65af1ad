// pg-logical-replication's own modules (CommonJS), imported one by one: see ./replication.ts.
declare module 'pg-logical-replication/dist/logical-replication-service.js' {
  const value: object;
  export default value;
}
declare module 'pg-logical-replication/dist/output-plugins/pgoutput/pgoutput-plugin.js' {
  const value: object;
  export default value;
}
