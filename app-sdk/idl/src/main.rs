//! Regenerates `app-sdk/idl/timelock.json` (and the digest of what it was generated from) from the program
//! (`make idl`).

fn main() -> anyhow::Result<()> {
    // anchor-lang-idl re-invokes cargo with `+$RUSTUP_TOOLCHAIN` when that is set, and spells it wrongly.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let path = timelock_idl::write_checked_in()?;
    println!("wrote {}", path.display());
    Ok(())
}
