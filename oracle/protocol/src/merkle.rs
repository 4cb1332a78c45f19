//! Binary Merkle trees over SHA-256, for commitments that must be opened one piece at a time: the evidence
//! behind an attestation (a leaf per lease of the transaction) and a challenge's product (a leaf per row).
//!
//! Leaves and inner nodes hash under different prefixes, so that no inner node can pass for a leaf (the
//! second-preimage attack on naive trees). A level with an odd node carries it up unchanged.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

const LEAF: u8 = 0;
const NODE: u8 = 1;

/// A leaf's hash from its parts.
pub fn leaf(parts: &[&[u8]]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF]);
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

fn node(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

fn next_level(level: &[Hash]) -> Vec<Hash> {
    level.chunks(2).map(|pair| if let [l, r] = pair { node(l, r) } else { pair[0] }).collect()
}

/// The root of `leaves` (already leaf hashes); all zeros for none.
pub fn root(leaves: &[Hash]) -> Hash {
    if leaves.is_empty() {
        return [0; 32];
    }
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = next_level(&level);
    }
    level[0]
}

/// The sibling hashes from leaf `index` up to the root (a carried-up level contributes none).
pub fn proof(leaves: &[Hash], index: usize) -> Vec<Hash> {
    let mut path = Vec::new();
    let mut level = leaves.to_vec();
    let mut at = index;
    while level.len() > 1 {
        let sibling = at ^ 1;
        if sibling < level.len() {
            path.push(level[sibling]);
        }
        level = next_level(&level);
        at /= 2;
    }
    path
}

/// Whether `leaf` sits at `index` of a tree of `count` leaves with `root`.
pub fn verify(leaf: &Hash, index: usize, count: usize, proof: &[Hash], root: &Hash) -> bool {
    if index >= count {
        return false;
    }
    let (mut hash, mut at, mut width, mut siblings) = (*leaf, index, count, proof.iter());
    while width > 1 {
        let sibling = at ^ 1;
        if sibling < width {
            let Some(other) = siblings.next() else { return false };
            hash = if at % 2 == 0 { node(&hash, other) } else { node(other, &hash) };
        }
        at /= 2;
        width = width.div_ceil(2);
    }
    siblings.next().is_none() && hash == *root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(count: u8) -> Vec<Hash> {
        (0..count).map(|i| leaf(&[&[i]])).collect()
    }

    #[test]
    fn every_leaf_of_every_shape_proves_and_nothing_else_does() {
        for count in 1..=17u8 {
            let all = leaves(count);
            let top = root(&all);
            for (index, item) in all.iter().enumerate() {
                let path = proof(&all, index);
                assert!(verify(item, index, all.len(), &path, &top), "leaf {index} of {count}");
                assert!(!verify(&leaf(&[b"other"]), index, all.len(), &path, &top));
                if count > 1 {
                    assert!(!verify(item, (index + 1) % all.len(), all.len(), &path, &top), "moved leaf");
                }
            }
            assert!(!verify(&all[0], all.len(), all.len(), &proof(&all, 0), &top), "index out of range");
        }
    }

    #[test]
    fn the_data_of_an_inner_node_does_not_hash_to_it_as_a_leaf() {
        // Leaves are hashed from their data by the verifier, under another prefix than nodes: the two children
        // of a node, offered as one leaf's data, do not give that node (nor does the tree verify them).
        let all = leaves(4);
        let inner = node(&all[0], &all[1]);
        let forged = leaf(&[&all[0], &all[1]]);
        assert_ne!(forged, inner);
        assert!(!verify(&forged, 0, 2, &[node(&all[2], &all[3])], &root(&all)));
    }
}
