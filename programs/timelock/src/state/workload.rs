use anchor_lang::prelude::*;
use solana_sha256_hasher::hashv;

use crate::constants::{MAX_WORKLOAD_IMAGES, WORKLOAD_GRACE_SECS};
use crate::errors::TimelockError;

/// Prefix of a container image's hash.
pub const IMAGE_DOMAIN: &[u8] = b"timelock-image-v1";

/// What the renter allows to run on its cluster's GPUs: hashes of container image references (a digest such as
/// `sha256:…`, or a name such as `ghcr.io/org/job:tag`). PDA `["workload", cluster]`, written by the renter
/// only. The oracles judge every GPU process against this list, never against one the supplier's agent sends.
///
/// An image the renter stops listing stays allowed for [`WORKLOAD_GRACE_SECS`] after it was last listed: the
/// supplier's agent needs that long to see the change and stop the renter's own processes of it, so a renter
/// cannot turn its own job into a "foreign process" fault by editing the list while the job runs.
#[account]
#[derive(InitSpace, Debug)]
pub struct Workload {
    /// The cluster whose GPUs the list governs.
    pub cluster: Pubkey,
    /// Hashes of the allowed images (`Workload::image_hash`), strictly ascending.
    #[max_len(MAX_WORKLOAD_IMAGES)]
    pub images: Vec<[u8; 32]>,
    /// Images listed within the grace before `changed_at` and no longer listed.
    #[max_len(MAX_WORKLOAD_IMAGES)]
    pub retiring: Vec<[u8; 32]>,
    /// When the list was last replaced (`cluster_set_workload`).
    pub changed_at: i64,
    /// Bump of the account's PDA.
    pub bump: u8,
}

impl Workload {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;

    /// The list key of an image reference as the container runtime reports it.
    pub fn image_hash(image: &str) -> [u8; 32] {
        hashv(&[IMAGE_DOMAIN, image.trim().as_bytes()]).to_bytes()
    }

    /// Whether a process of the image with hash `image` may run on the cluster's GPUs at `now`.
    pub fn allows(&self, image: &[u8; 32], now: i64) -> bool {
        self.images.contains(image)
            || (now < self.changed_at.saturating_add(WORKLOAD_GRACE_SECS) && self.retiring.contains(image))
    }

    /// Replaces the list at `now`. What the current list held and the new one drops keeps its grace; what
    /// was already retiring keeps it too while that grace lasts.
    pub fn replace(&mut self, images: Vec<[u8; 32]>, now: i64) -> Result<()> {
        require!(!images.is_empty() && images.len() <= MAX_WORKLOAD_IMAGES, TimelockError::InvalidWorkload);
        require!(images.windows(2).all(|w| w[0] < w[1]), TimelockError::InvalidWorkload);
        let mut retiring: Vec<[u8; 32]> = self.images.iter().filter(|i| !images.contains(i)).copied().collect();
        if now < self.changed_at.saturating_add(WORKLOAD_GRACE_SECS) {
            for image in &self.retiring {
                if !images.contains(image) && !retiring.contains(image) {
                    retiring.push(*image);
                }
            }
        }
        // Bounded, so the account never grows: a renter that churns faster than the grace allows waits.
        require!(retiring.len() <= MAX_WORKLOAD_IMAGES, TimelockError::WorkloadChangeTooSoon);
        (self.images, self.retiring, self.changed_at) = (images, retiring, now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: u8) -> [u8; 32] {
        [n; 32]
    }

    fn workload() -> Workload {
        Workload { cluster: Pubkey::default(), images: vec![], retiring: vec![], changed_at: 0, bump: 0 }
    }

    #[test]
    fn a_dropped_image_stays_allowed_for_the_grace_only() {
        let mut w = workload();
        w.replace(vec![hash(1), hash(2)], 1_000).unwrap();
        assert!(w.allows(&hash(1), 1_000) && !w.allows(&hash(3), 1_000));
        w.replace(vec![hash(2), hash(3)], 2_000).unwrap();
        assert!(w.allows(&hash(1), 2_000 + WORKLOAD_GRACE_SECS - 1), "still in its grace");
        assert!(!w.allows(&hash(1), 2_000 + WORKLOAD_GRACE_SECS), "grace over");
        assert!(w.allows(&hash(3), 2_000), "an added image counts at once");
    }

    #[test]
    fn quick_successive_changes_keep_every_recent_image_in_grace() {
        let mut w = workload();
        w.replace(vec![hash(1)], 1_000).unwrap();
        w.replace(vec![hash(2)], 1_010).unwrap();
        w.replace(vec![hash(3)], 1_020).unwrap();
        assert!(w.allows(&hash(1), 1_030) && w.allows(&hash(2), 1_030));
        assert!(!w.allows(&hash(1), 1_020 + WORKLOAD_GRACE_SECS));
    }

    #[test]
    fn lists_must_be_sorted_unique_and_bounded() {
        let mut w = workload();
        assert!(w.replace(vec![], 1).is_err());
        assert!(w.replace(vec![hash(2), hash(1)], 1).is_err());
        assert!(w.replace(vec![hash(1), hash(1)], 1).is_err());
        let too_many: Vec<_> = (0..=MAX_WORKLOAD_IMAGES as u8).map(hash).collect();
        assert!(w.replace(too_many, 1).is_err());
    }

    #[test]
    fn churning_faster_than_the_grace_is_refused_once_the_account_would_grow() {
        let mut w = workload();
        let mut refused = false;
        for round in 0..40u8 {
            if w.replace(vec![hash(round)], 1_000 + i64::from(round)).is_err() {
                refused = true;
                break;
            }
        }
        assert!(refused);
        assert!(w.retiring.len() <= MAX_WORKLOAD_IMAGES);
    }
}
