//! Undo/redo of latent edits.

use crate::engine::model::latent::Latent;

/// A linear undo history of latent vectors. Recording a new value drops the redo branch.
#[derive(Clone, Debug, Default)]
pub struct History {
    undo: Vec<Latent>,
    redo: Vec<Latent>,
}

/// How many past values are kept.
pub const HISTORY_LIMIT: usize = 500;

impl History {
    /// Remembers `previous` before the current value changes to something else.
    pub fn record(&mut self, previous: Latent) {
        // A new edit always ends the redo branch, even when `previous` is already on top.
        self.redo.clear();
        if self.undo.last() == Some(&previous) {
            return;
        }
        self.undo.push(previous);
        if self.undo.len() > HISTORY_LIMIT {
            self.undo.remove(0);
        }
    }

    /// Steps back: returns the value to show, given the one shown now.
    pub fn undo(&mut self, current: &Latent) -> Option<Latent> {
        let previous = self.undo.pop()?;
        self.redo.push(current.clone());
        Some(previous)
    }

    /// Steps forward again.
    pub fn redo(&mut self, current: &Latent) -> Option<Latent> {
        let next = self.redo.pop()?;
        self.undo.push(current.clone());
        Some(next)
    }

    /// Whether undo would do anything.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether redo would do anything.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }
}
