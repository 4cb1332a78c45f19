// The TypeScript client: what Codama generates from the IDL (accounts, instructions, types, errors, events,
// constants) and, by hand, what the IDL does not say (PDA seeds, remaining accounts, reading events).
export * from "./generated";
export * from "./generated/events";
export * as constants from "./generated/constants";
export * from "./pda";
export * from "./remaining";
export * from "./events";
