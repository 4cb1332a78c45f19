//! solana-storage-proto's build script asks `protobuf_src::protoc()` for a compiler. The real crate compiles
//! protobuf from C++ sources (about 6 minutes on 2 cores); Debian's `protobuf-compiler` does the same job.

/// `$PROTOC` when set, else Debian's `/usr/bin/protoc` (`apt-get install protobuf-compiler`).
pub fn protoc() -> std::path::PathBuf {
    std::env::var_os("PROTOC").map_or_else(|| "/usr/bin/protoc".into(), Into::into)
}
