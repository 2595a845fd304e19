//! Applying what the panels asked for, after layout: the one place where one panel's request
//! changes another's state or reaches a worker.

use super::command::Command;
use super::*;
use crate::engine::workers::inference_worker::BatchFor;

impl HitogataApp {
    pub(super) fn apply_one(&mut self, command: Command) {
        match command {
            Command::EditZ(z, drag) => self.edit_z(z, drag),
            Command::Undo => self.undo(),
            Command::Redo => self.redo(),
            Command::SetPsi(psi) => {
                self.current.psi = psi;
                self.request_main();
            }
            Command::AddBookmark { name, z, parent } => {
                let checkpoint = self.current.checkpoint_dir.as_deref();
                self.status = Some(self.bookmarks.add(name, z, checkpoint, parent));
            }
            Command::JitterAround(bookmark, z) => self.jitter.set_source(bookmark, z),
            Command::RedrawJitter => self.jitter.invalidate(),
            Command::InterpolationEnd(true, name, z) => self.interpolation.set_from((name, z)),
            Command::InterpolationEnd(false, name, z) => self.interpolation.set_to((name, z)),
            Command::Strips(request) => self.worker.render_strips(request),
            Command::Critique(z) => self.worker.critique(z),
            Command::Layer {
                z,
                layer,
                per_channel,
            } => self.worker.layer(z, layer, per_channel),
            Command::Nudge { z, steps, size } => self.worker.nudge(z, steps, size),
            Command::Analyse(hash) => self.worker.analyse(hash),
            Command::SaveNotes => self.save_notes(),
            Command::Dialog(work) => self.start_file_work(work),
            Command::Status(line) => self.status = Some(line),
        }
    }

    /// Batches the panels are waiting for: each asks when its pictures are stale, and the
    /// answer comes back tagged with who asked.
    pub(super) fn request_batches(&mut self) {
        let latent_dim = self.current.model.as_ref().map(|m| m.latent_dim);
        if let Some(latents) = self.bookmarks.wanted(latent_dim) {
            let tag = BatchFor::Thumbnails(self.batch_number());
            self.bookmarks.requested(tag);
            self.worker.render_batch(tag, latents);
        }
        if self.jitter.wants_drawing(latent_dim.is_some()) {
            let dim = self.current.z.dim();
            let directions = self.dimensions.jitter_directions(dim, self.jitter.along);
            let children = self.jitter.regenerate(&directions);
            let tag = BatchFor::Jitter(self.batch_number());
            self.jitter.requested(tag);
            self.worker.render_batch(tag, children);
        }
        if let Some(frames) = self.interpolation.wanted(latent_dim.is_some()) {
            let tag = BatchFor::Interpolation(self.batch_number());
            self.interpolation.requested(tag);
            self.worker.render_batch(tag, frames);
        }
    }
}
