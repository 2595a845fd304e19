//! A wider generator that draws exactly what a narrower one draws (Net2WiderNet, Chen et al.
//! 2016, "Net2Net"): the extra capacity a long GPU run needs, without starting from noise.
//!
//! Each new hidden channel copies an old one (its incoming weights and BatchNorm parameters and
//! statistics), so every copy computes the same activation; the next layer's weights on an old
//! channel are shared among its copies in random proportions that sum to 1, so the next layer
//! sees the same sum. The random shares also break the copies' symmetry: their gradients differ
//! from the first step, so training can make them diverge and use the new width.

use burn::module::{Param, RunningState};
use burn::nn::BatchNorm;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::{Tensor, TensorData};
use rand::RngExt;
use rand::rngs::ChaCha8Rng;

use super::{Generator, ModelConfig};
use crate::engine::latent::seeded_rng;

/// `generator` (built from `config`) widened to `ngf` feature maps in its last hidden layer
/// (and proportionally in the others), with its new config. `seed` draws the shares; the
/// pictures do not depend on it.
pub fn widen_generator(
    config: &ModelConfig,
    generator: &Generator,
    ngf: usize,
    seed: u64,
) -> Result<(ModelConfig, Generator), String> {
    if ngf <= config.ngf {
        return Err(format!(
            "a wider generator needs ngf above the current {}, not {ngf}",
            config.ngf
        ));
    }
    let maps: Vec<Vec<usize>> = [8, 4, 2, 1]
        .iter()
        .map(|m| channel_map(m * config.ngf, m * ngf))
        .collect();
    let mut rng = seeded_rng(seed);
    let g = generator;
    let transposed = |conv: &Option<ConvTranspose2d>, i: usize, rng: &mut ChaCha8Rng| {
        conv.as_ref()
            .map(|c| widen_transposed(c, Some(&maps[i - 1]), maps.get(i).map(Vec::as_slice), rng))
    };
    let resized = |conv: &Option<Conv2d>, i: usize, rng: &mut ChaCha8Rng| {
        conv.as_ref()
            .map(|c| widen_resize(c, &maps[i - 1], maps.get(i).map(Vec::as_slice), rng))
    };
    let wider = Generator {
        up1: widen_transposed(&g.up1, None, Some(&maps[0]), &mut rng),
        bn1: widen_batch_norm(&g.bn1, &maps[0]),
        up2: transposed(&g.up2, 1, &mut rng),
        resize2: resized(&g.resize2, 1, &mut rng),
        bn2: widen_batch_norm(&g.bn2, &maps[1]),
        up3: transposed(&g.up3, 2, &mut rng),
        resize3: resized(&g.resize3, 2, &mut rng),
        bn3: widen_batch_norm(&g.bn3, &maps[2]),
        up4: transposed(&g.up4, 3, &mut rng),
        resize4: resized(&g.resize4, 3, &mut rng),
        bn4: widen_batch_norm(&g.bn4, &maps[3]),
        up5: transposed(&g.up5, 4, &mut rng),
        resize5: resized(&g.resize5, 4, &mut rng),
        output_scale: g.output_scale,
        palette: g.palette.clone(),
        mapping: g.mapping.clone(),
    };
    let config = ModelConfig {
        ngf,
        ..config.clone()
    };
    Ok((config, wider))
}

/// For each new channel, the old channel it copies: the old ones first, then copies in turn.
fn channel_map(old: usize, new: usize) -> Vec<usize> {
    (0..new).map(|j| j % old).collect()
}

/// A transposed convolution's weight is `[in, out, k, k]`.
fn widen_transposed(
    conv: &ConvTranspose2d,
    inputs: Option<&[usize]>,
    outputs: Option<&[usize]>,
    rng: &mut ChaCha8Rng,
) -> ConvTranspose2d {
    ConvTranspose2d {
        weight: widen_weight(&conv.weight, (0, inputs), (1, outputs), rng),
        ..conv.clone()
    }
}

/// A convolution's weight is `[out, in, k, k]`.
fn widen_resize(
    conv: &Conv2d,
    inputs: &[usize],
    outputs: Option<&[usize]>,
    rng: &mut ChaCha8Rng,
) -> Conv2d {
    Conv2d {
        weight: widen_weight(&conv.weight, (1, Some(inputs)), (0, outputs), rng),
        ..conv.clone()
    }
}

/// Copies the output channels along `outputs`' map; copies the input channels along `inputs`'
/// map and shares each old weight among its copies.
fn widen_weight(
    weight: &Param<Tensor<4>>,
    (in_axis, inputs): (usize, Option<&[usize]>),
    (out_axis, outputs): (usize, Option<&[usize]>),
    rng: &mut ChaCha8Rng,
) -> Param<Tensor<4>> {
    let tensor = weight.val();
    let device = tensor.device();
    let mut dims = tensor.dims();
    let mut values = read(tensor);
    if let Some(map) = outputs {
        values = select_along(&values, &mut dims, out_axis, map);
    }
    if let Some(map) = inputs {
        let old = dims[in_axis];
        values = select_along(&values, &mut dims, in_axis, map);
        share_among_copies(&mut values, &dims, in_axis, map, old, rng);
    }
    Param::from_tensor(Tensor::from_data(TensorData::new(values, dims), &device))
}

fn widen_batch_norm(bn: &BatchNorm, map: &[usize]) -> BatchNorm {
    let pick = |t: Tensor<1>| {
        let device = t.device();
        let mut dims = t.dims();
        let values = select_along(&read(t), &mut dims, 0, map);
        Tensor::<1>::from_data(TensorData::new(values, dims), &device)
    };
    BatchNorm {
        gamma: Param::from_tensor(pick(bn.gamma.val())),
        beta: Param::from_tensor(pick(bn.beta.val())),
        running_mean: RunningState::new(pick(bn.running_mean.value())),
        running_var: RunningState::new(pick(bn.running_var.value())),
        ..bn.clone()
    }
}

fn read<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 weights")
}

/// Row-major `values` of shape `dims` with index `map[j]` taken as index `j` along `axis`;
/// updates `dims`.
fn select_along<const D: usize>(
    values: &[f32],
    dims: &mut [usize; D],
    axis: usize,
    map: &[usize],
) -> Vec<f32> {
    let outer: usize = dims[..axis].iter().product();
    let inner: usize = dims[axis + 1..].iter().product();
    let mut out = Vec::with_capacity(outer * map.len() * inner);
    for o in 0..outer {
        for &k in map {
            let start = (o * dims[axis] + k) * inner;
            out.extend_from_slice(&values[start..start + inner]);
        }
    }
    dims[axis] = map.len();
    out
}

/// Scales each weight of a copied input channel by its share: random in proportion (0.5–1.5),
/// the shares of one old weight's copies summing to 1.
fn share_among_copies(
    values: &mut [f32],
    dims: &[usize; 4],
    axis: usize,
    map: &[usize],
    old: usize,
    rng: &mut ChaCha8Rng,
) {
    let outer: usize = dims[..axis].iter().product();
    let inner: usize = dims[axis + 1..].iter().product();
    let shares: Vec<f32> = (0..values.len())
        .map(|_| rng.random_range(0.5f32..1.5))
        .collect();
    let mut sums = vec![0f32; outer * old * inner];
    let old_index = |o: usize, j: usize, i: usize| (o * old + map[j]) * inner + i;
    let new_index = |o: usize, j: usize, i: usize| (o * map.len() + j) * inner + i;
    for o in 0..outer {
        for j in 0..map.len() {
            for i in 0..inner {
                sums[old_index(o, j, i)] += shares[new_index(o, j, i)];
            }
        }
    }
    for o in 0..outer {
        for j in 0..map.len() {
            for i in 0..inner {
                let n = new_index(o, j, i);
                values[n] *= shares[n] / sums[old_index(o, j, i)];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_channel_map_keeps_the_old_channels_then_cycles() {
        assert_eq!(channel_map(3, 7), vec![0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn selecting_along_an_axis_copies_whole_slices() {
        // 2×3, rows [0 1 2], [3 4 5]; columns 0, 2, 0.
        let mut dims = [2, 3];
        let out = select_along(&[0., 1., 2., 3., 4., 5.], &mut dims, 1, &[0, 2, 0]);
        assert_eq!(out, vec![0., 2., 0., 3., 5., 3.]);
        assert_eq!(dims, [2, 3]);
    }

    #[test]
    fn the_shares_of_a_weights_copies_sum_to_it() {
        let mut rng = seeded_rng(5);
        // One output, old inputs 2 → new 5 (0, 1, 0, 1, 0), 1×1 kernels, all weights 1.
        let map = channel_map(2, 5);
        let dims = [1, 5, 1, 1];
        let mut values = vec![1.0f32; 5];
        share_among_copies(&mut values, &dims, 1, &map, 2, &mut rng);
        let channel0 = values[0] + values[2] + values[4];
        let channel1 = values[1] + values[3];
        assert!((channel0 - 1.0).abs() < 1e-6 && (channel1 - 1.0).abs() < 1e-6);
        assert!(values[0] != values[2], "copies get different shares");
    }
}
