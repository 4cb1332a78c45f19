//! Regenerates `app-sdk/idl/timelock.json` from the program (`make idl`).

fn main() -> anyhow::Result<()> {
    // anchor-lang-idl re-invokes cargo with `+$RUSTUP_TOOLCHAIN` when that is set, and spells it wrongly.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let json = timelock_sdk::idl::generate()?;
    let path = timelock_sdk::idl::checked_in_path();
    std::fs::create_dir_all(path.parent().expect("idl dir"))?;
    std::fs::write(&path, json)?;
    println!("wrote {}", path.display());
    Ok(())
}
