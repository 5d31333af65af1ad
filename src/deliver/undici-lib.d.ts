// undici's internal modules (CommonJS, no type declarations of their own): see ./undici-lean.ts.
declare module 'undici/lib/dispatcher/dispatcher.js' {
  const value: unknown;
  export default value;
}
declare module 'undici/lib/api/index.js' {
  const value: object;
  export default value;
}
declare module 'undici/lib/dispatcher/pool.js' {
  const value: unknown;
  export default value;
}
declare module 'undici/lib/dispatcher/proxy-agent.js' {
  const value: unknown;
  export default value;
}
