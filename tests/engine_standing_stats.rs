//! Standing statistics: a generator's BatchNorm running statistics recomputed from its own
//! activations, so inference normalises like training mode does on a large batch.

mod common;

use burn::module::Module;
use burn::tensor::Tensor;
use hitogata::checkpoint::load_generator;
use hitogata::inference::latents_tensor;
use hitogata::latent::sample_batch;
use hitogata::model::Generator;
use hitogata::standing_stats::recompute_batch_norm_statistics;

fn latents(seed: u64, count: usize, dim: usize, device: &burn::tensor::Device) -> Tensor<2> {
    latents_tensor(&sample_batch(seed, count, dim), device)
}

/// What the generator draws for `z` in training mode: normalised by the batch's statistics.
fn training_mode_output(g: &Generator, z: Tensor<2>, device: &burn::tensor::Device) -> Vec<f32> {
    let autodiff = device.clone().autodiff();
    let g = g.clone().fork(&autodiff).train();
    common::values(
        g.no_grad()
            .forward(z.to_device(&autodiff))
            .without_autodiff(),
    )
}

#[test]
fn recomputed_statistics_make_inference_match_training_mode_on_a_large_batch() {
    let dev = common::cpu();
    let tmp = tempfile::tempdir().unwrap();
    common::trained_tiny_export(tmp.path());
    let loaded = load_generator(tmp.path(), &dev.device).unwrap();
    let g = loaded.generator;
    let dim = g.latent_dim();
    let before = g.batch_norm_statistics();

    let z = latents(99, 512, dim, &dev.device);
    let target = training_mode_output(&g, z.clone(), &dev.device);
    let old_gap = common::max_diff(&common::values(g.forward(z.clone())), &target);

    let standing = recompute_batch_norm_statistics(&g, 8, 256, 5, &dev.device);
    let new_gap = common::max_diff(&common::values(standing.forward(z)), &target);
    assert!(
        new_gap < old_gap / 4.0,
        "inference vs training mode: {old_gap} before, {new_gap} after"
    );
    // The caller's generator keeps its statistics (the work happens on a deep copy).
    assert_eq!(g.batch_norm_statistics(), before);
    let after = standing.batch_norm_statistics();
    assert_ne!(after, before);
    assert!(
        after
            .iter()
            .all(|(m, v)| m.iter().chain(v).all(|x| x.is_finite()))
    );
    assert!(after.iter().all(|(_, v)| v.iter().all(|&x| x >= 0.0)));
    // Seeded: the same call again gives the same statistics, another seed others.
    let again = recompute_batch_norm_statistics(&g, 8, 256, 5, &dev.device);
    assert_eq!(again.batch_norm_statistics(), after);
    let other = recompute_batch_norm_statistics(&g, 8, 256, 6, &dev.device);
    assert_ne!(other.batch_norm_statistics(), after);
}

#[test]
fn one_pass_sets_the_statistics_to_that_batchs() {
    // Momentum 1 on the first pass: nothing of the old statistics is left, so two generators
    // with the same weights but different statistics come out alike.
    let dev = common::cpu();
    let tmp = tempfile::tempdir().unwrap();
    common::trained_tiny_export(tmp.path());
    let trained = load_generator(tmp.path(), &dev.device).unwrap().generator;
    let a = recompute_batch_norm_statistics(&trained, 1, 64, 3, &dev.device);
    assert_ne!(a.batch_norm_statistics(), trained.batch_norm_statistics());
    let b = recompute_batch_norm_statistics(&a, 1, 64, 3, &dev.device);
    assert_eq!(a.batch_norm_statistics(), b.batch_norm_statistics());
}
