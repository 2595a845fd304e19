//! Running a generator for pictures.

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;

use crate::engine::latent::Latent;
use crate::engine::model::Generator;
use crate::engine::render::tensor_to_images;

/// Latent vectors as a [n, dim] tensor on `device`.
pub fn latents_tensor(latents: &[Latent], device: &Device) -> Tensor<2> {
    let dim = latents.first().map(|l| l.dim()).unwrap_or(0);
    let flat: Vec<f32> = latents.iter().flat_map(|l| l.0.iter().copied()).collect();
    Tensor::from_data(TensorData::new(flat, [latents.len(), dim]), device)
}

/// Draws one picture per latent vector (the generator should be in inference mode).
pub fn generate_images(
    generator: &Generator,
    latents: &[Latent],
    device: &Device,
) -> Vec<RgbImage> {
    if latents.is_empty() {
        return Vec::new();
    }
    tensor_to_images(generator.forward(latents_tensor(latents, device)))
}
