//! Running a generator for pictures.

use std::sync::Arc;

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;

use crate::engine::draw::cpu_generator::CpuGenerator;
use crate::engine::files::render::tensor_to_images;
use crate::engine::model::latent::Latent;
use crate::engine::model::{Generator, host_values};

/// Latent vectors one after another, `[n, dim]` row-major.
fn flatten(latents: &[Latent]) -> Vec<f32> {
    latents.iter().flat_map(|l| l.0.iter().copied()).collect()
}

/// Latent vectors as a [n, dim] tensor on `device`.
pub fn latents_tensor(latents: &[Latent], device: &Device) -> Tensor<2> {
    let dim = latents.first().map(|l| l.dim()).unwrap_or(0);
    Tensor::from_data(
        TensorData::new(flatten(latents), [latents.len(), dim]),
        device,
    )
}

/// Pictures per pass: as fast per picture as larger batches (the CPU path's GEMMs are large
/// from ~16 on), with bounded memory.
const BATCH: usize = 64;

/// A generator (in inference mode) ready to draw pictures on its device. On the CPU its
/// layers are rearranged once into a [`CpuGenerator`] (a batch of pictures ~2.5× faster than
/// burn-flex's own layers); on other devices, and for resize upsampling, burn draws them.
/// Build one per loaded checkpoint and keep it: building costs about as much as one picture.
#[derive(Clone, Debug)]
pub struct Drawer {
    generator: Generator,
    device: Device,
    cpu: Option<Arc<CpuGenerator>>,
}

impl Drawer {
    /// Prepares `generator`, whose weights are on `device`.
    pub fn new(generator: &Generator, device: &Device) -> Self {
        let on_cpu = *device == Device::flex();
        Self {
            generator: generator.clone(),
            device: device.clone(),
            cpu: on_cpu
                .then(|| CpuGenerator::new(generator))
                .flatten()
                .map(Arc::new),
        }
    }

    /// Draws with burn's own layers on every device (for comparisons).
    pub fn with_burn_layers(generator: &Generator, device: &Device) -> Self {
        Self {
            generator: generator.clone(),
            device: device.clone(),
            cpu: None,
        }
    }

    /// Draws one picture per latent vector (in passes of 64).
    pub fn draw(&self, latents: &[Latent]) -> Vec<RgbImage> {
        if latents.is_empty() {
            return Vec::new();
        }
        // In batches: bounded memory for `generate --count 5000` (the CPU path holds 4 floats
        // per output value between its GEMM and its gather, ~0.5 MB a picture at ngf 32).
        latents
            .chunks(BATCH)
            .flat_map(|chunk| match &self.cpu {
                Some(cpu) => {
                    let flat = flatten(chunk);
                    cpu.draw(&flat)
                }
                None => {
                    tensor_to_images(self.generator.forward(latents_tensor(chunk, &self.device)))
                }
            })
            .collect()
    }

    /// The pictures' values in [-1, 1] (before rounding to bytes), one `Vec` of channels·S·S per
    /// latent vector. The order of the values within a picture depends on the path (channels
    /// last on the CPU): compare pictures with each other, not with a layout.
    pub fn values(&self, latents: &[Latent]) -> Vec<Vec<f32>> {
        latents
            .chunks(BATCH)
            .flat_map(|chunk| {
                let values = match &self.cpu {
                    Some(cpu) => {
                        let flat = flatten(chunk);
                        cpu.forward(&flat)
                    }
                    None => {
                        host_values(self.generator.forward(latents_tensor(chunk, &self.device)))
                    }
                };
                let per = values.len() / chunk.len();
                values
                    .chunks(per.max(1))
                    .map(<[f32]>::to_vec)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// One pass (keep `latents` to a batch of about 64): the pictures, and the generator's
    /// output `[n, channels, S, S]` on the device, for the critic to score without a second pass.
    pub fn draw_with_output(&self, latents: &[Latent]) -> (Vec<RgbImage>, Tensor<4>) {
        match &self.cpu {
            Some(cpu) => {
                let flat = flatten(latents);
                let values = cpu.forward(&flat);
                let images = cpu.pictures(&values);
                let (side, channels) = (cpu.image_size(), cpu.channels());
                let shape = [latents.len(), side, side, channels];
                let output = Tensor::<4>::from_data(TensorData::new(values, shape), &self.device)
                    .permute([0, 3, 1, 2]);
                (images, output)
            }
            None => {
                let output = self
                    .generator
                    .forward(latents_tensor(latents, &self.device));
                (tensor_to_images(output.clone()), output)
            }
        }
    }

    /// The generator it draws with.
    pub fn generator(&self) -> &Generator {
        &self.generator
    }

    #[cfg(feature = "test-support")]
    /// Whether pictures come from the CPU path ([`CpuGenerator`]).
    pub fn on_cpu_path(&self) -> bool {
        self.cpu.is_some()
    }
}

/// Draws one picture per latent vector (the generator should be in inference mode). For
/// repeated drawing keep a [`Drawer`].
pub fn generate_images(
    generator: &Generator,
    latents: &[Latent],
    device: &Device,
) -> Vec<RgbImage> {
    if latents.is_empty() {
        return Vec::new();
    }
    Drawer::new(generator, device).draw(latents)
}
