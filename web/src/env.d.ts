// The generated client reads `process.env.NODE_ENV` to keep verbose errors out of production; Vite replaces it
// at build time, so the browser never needs Node's types.
declare const process: { env: Record<string, string | undefined> };
