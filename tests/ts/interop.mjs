// Reads a fixture written by the Rust test (tests/tests/idl.rs), builds `cluster_create` with Anchor's
// TypeScript client from the checked-in IDL and decodes a Lease account, and prints both as JSON.
import fs from "node:fs";
import anchor from "@coral-xyz/anchor";

const { AnchorProvider, BN, BorshAccountsCoder, Program, Wallet, web3 } = anchor;
const [idlPath, fixturePath] = process.argv.slice(2);
const idl = JSON.parse(fs.readFileSync(idlPath, "utf8"));
const fixture = JSON.parse(fs.readFileSync(fixturePath, "utf8"));

// No request is made: `.instruction()` with every account given needs no network.
const connection = new web3.Connection("http://127.0.0.1:1");
const provider = new AnchorProvider(connection, new Wallet(web3.Keypair.generate()), {});
const program = new Program(idl, provider);
const key = (s) => new web3.PublicKey(s);
const accounts = Object.fromEntries(Object.entries(fixture.accounts).map(([name, value]) => [name, key(value)]));
const ix = await program.methods
  .clusterCreate(new BN(fixture.cluster_id), fixture.hours, { kubernetes: {} })
  .accountsStrict(accounts)
  .instruction();

const lease = new BorshAccountsCoder(idl).decode("Lease", Buffer.from(fixture.lease_data, "base64"));
const plain = (v) =>
  v instanceof web3.PublicKey ? v.toBase58() : BN.isBN(v) ? v.toString() : Array.isArray(v) ? v.map(plain)
    : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v;

console.log(JSON.stringify({
  instruction: {
    program_id: ix.programId.toBase58(),
    keys: ix.keys.map((k) => ({ pubkey: k.pubkey.toBase58(), is_signer: k.isSigner, is_writable: k.isWritable })),
    data: Buffer.from(ix.data).toString("hex"),
  },
  lease: plain(lease),
}));
