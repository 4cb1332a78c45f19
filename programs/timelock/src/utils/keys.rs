//! Key comparisons for the attestation path, which compares every vote of a lease with the oracle set.

use anchor_lang::prelude::Pubkey;

/// `a == b`, rejecting on the first eight bytes before comparing all 32: a full comparison is a `memcmp`
/// syscall on SBF (tens of CU), and two different keys almost always differ in their first bytes.
#[inline(always)]
pub fn same_key(a: &Pubkey, b: &Pubkey) -> bool {
    let head = |key: &[u8; 32]| u64::from_ne_bytes(*key.first_chunk::<8>().expect("a key has 32 bytes"));
    let (a, b) = (a.as_array(), b.as_array());
    head(a) == head(b) && a == b
}

/// Whether `key` is one of `set`.
#[inline(always)]
pub fn contains_key(set: &[Pubkey], key: &Pubkey) -> bool {
    set.iter().any(|k| same_key(k, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_equal_only_when_all_bytes_are() {
        let a = Pubkey::new_unique();
        let mut bytes = a.to_bytes();
        assert!(same_key(&a, &Pubkey::new_from_array(bytes)));
        bytes[31] ^= 1;
        assert!(!same_key(&a, &Pubkey::new_from_array(bytes)));
        bytes[31] ^= 1;
        bytes[0] ^= 1;
        assert!(!same_key(&a, &Pubkey::new_from_array(bytes)));
        assert!(contains_key(&[Pubkey::new_unique(), a], &a));
        assert!(!contains_key(&[Pubkey::new_unique()], &a));
    }
}
