//! The cancellation token a caller hands to [`crate::run`]: clone it to share it, `child()` it to
//! stop one part of the work (a background load) without stopping the rest. A child is cancelled
//! when its parent is, never the other way round. Who cancels (Ctrl-C, "the probe is done") is
//! the caller's business; the runner only looks at the token between its polls.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A clone-able cancellation token; clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    node: Arc<Node>,
}

#[derive(Debug, Default)]
struct Node {
    cancelled: AtomicBool,
    parent: Option<Arc<Node>>,
}

impl Cancel {
    /// A fresh token, not cancelled.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancels this token, its clones and every child made from them.
    pub fn cancel(&self) {
        self.node.cancelled.store(true, Ordering::SeqCst);
    }

    /// True once this token or any of its ancestors was cancelled.
    pub fn is_cancelled(&self) -> bool {
        let mut node = Some(&self.node);
        while let Some(n) = node {
            if n.cancelled.load(Ordering::SeqCst) {
                return true;
            }
            node = n.parent.as_ref();
        }
        false
    }

    /// A new token that is cancelled when this one is, and that can be cancelled on its own.
    pub fn child(&self) -> Cancel {
        Cancel { node: Arc::new(Node { cancelled: AtomicBool::new(false), parent: Some(Arc::clone(&self.node)) }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_cancelled_by_its_parent() {
        let parent = Cancel::new();
        let child = parent.child();
        let grandchild = child.child();
        assert!(!child.is_cancelled());
        parent.cancel();
        assert!(child.is_cancelled());
        assert!(grandchild.is_cancelled());
    }

    #[test]
    fn cancelling_a_child_leaves_its_parent_and_siblings_running() {
        let parent = Cancel::new();
        let (child, sibling) = (parent.child(), parent.child());
        child.cancel();
        assert!(child.is_cancelled());
        assert!(!parent.is_cancelled());
        assert!(!sibling.is_cancelled());
    }

    #[test]
    fn clones_share_one_flag() {
        let token = Cancel::new();
        let clone = token.clone();
        clone.cancel();
        assert!(token.is_cancelled());
    }
}
