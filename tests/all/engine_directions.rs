//! Discovered directions (SeFa, PCA), sensitivity, strips, interpolation and attribute
//! directions, on tiny generators whose first layer is set through a real safetensors file.

use crate::common;

use std::path::Path;

use hitogata::checkpoint::{export_generator, load_generator};
use hitogata::directions::{
    DirectionSet, attribute, axis, dead, interpolate, pca, sefa, sensitivity, slerp, strip,
    strip_values, symmetric_eigen,
};
use hitogata::latent::{Latent, sample_batch};
use hitogata::model::{Generator, seeded_init};

const Z: usize = 8;

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A tiny generator exported to `dir` whose first-layer weight (`up1.weight`, `[z, maps, 4,
/// 4]`) is replaced by `rows(c)` for each latent dimension c; loaded back for inference.
fn with_first_layer(dir: &Path, rows: impl Fn(usize, usize) -> Vec<f32>) -> Generator {
    let dev = common::cpu();
    let config = common::tiny_model();
    let g = seeded_init(config.init_generator(&dev.device), 9);
    export_generator(&config, &g, dir).unwrap();
    let path = dir.join("generator.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            (
                name,
                view.dtype(),
                view.shape().to_vec(),
                view.data().to_vec(),
            )
        })
        .collect();
    for (name, _, shape, data) in &mut tensors {
        if name == "up1.weight" {
            let per: usize = shape[1..].iter().product();
            let values: Vec<f32> = (0..shape[0]).flat_map(|c| rows(c, per)).collect();
            assert_eq!(values.len(), shape[0] * per);
            *data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        }
    }
    let views: Vec<_> = tensors
        .iter()
        .map(|(name, dtype, shape, data)| {
            (
                name.clone(),
                safetensors::tensor::TensorView::new(*dtype, shape.clone(), data).unwrap(),
            )
        })
        .collect();
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
    load_generator(dir, &dev.device).unwrap().generator
}

/// A deterministic pseudo-random value in [-1, 1).
fn noise(i: usize) -> f32 {
    let x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    (x as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
}

#[test]
fn the_jacobi_eigensolver_diagonalises_a_symmetric_matrix() {
    let n = 6;
    let m: Vec<f64> = (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            let (a, b) = (i.min(j), i.max(j));
            (a * 7 + b * 3) as f64 % 5.0 + if i == j { 4.0 } else { 0.0 }
        })
        .collect();
    let (values, vectors) = symmetric_eigen(&m, n);
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
    for (k, v) in vectors.iter().enumerate() {
        // M v = λ v
        for i in 0..n {
            let mv: f64 = (0..n).map(|j| m[i * n + j] * v[j]).sum();
            assert!(
                (mv - values[k] * v[i]).abs() < 1e-9,
                "row {i} of vector {k}"
            );
        }
    }
}

#[test]
fn sefa_directions_are_orthonormal_sorted_and_find_a_rank_two_weights_span() {
    let dir = tempfile::tempdir().unwrap();
    // Rank 2: dimension c's weights are a_c·u + b_c·v, so AᵀA = [a b] G [a b]ᵀ, whose top two
    // eigenvectors span {a, b} in z.
    let a: Vec<f32> = (0..Z).map(|c| noise(c + 100)).collect();
    let b: Vec<f32> = (0..Z).map(|c| noise(c + 200)).collect();
    let g = with_first_layer(dir.path(), |c, per| {
        (0..per)
            .map(|k| a[c] * noise(k + 1000) + b[c] * noise(k + 5000))
            .collect()
    });
    let found = sefa(&g, Z);
    assert_eq!(found.len(), Z);
    for (i, d) in found.iter().enumerate() {
        for (j, e) in found.iter().enumerate() {
            let expected = if i == j { 1.0 } else { 0.0 };
            assert!(
                (dot(&d.vector, &e.vector) - expected).abs() < 1e-4,
                "{i}·{j}"
            );
        }
    }
    assert!(found.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(
        found[1].score > 1e3 * found[2].score.abs().max(1e-9),
        "rank 2"
    );
    // a and b lie in the span of the first two (their projections keep their length).
    for target in [&a, &b] {
        let norm = dot(target, target).sqrt();
        let kept: f32 = found[..2]
            .iter()
            .map(|d| dot(target, &d.vector).powi(2))
            .sum::<f32>()
            .sqrt();
        assert!((kept / norm - 1.0).abs() < 1e-3, "{kept} of {norm}");
    }
    assert_eq!(found[0].name, "sefa 1");
}

#[test]
fn pca_directions_explain_variance_in_decreasing_order() {
    let dev = common::cpu();
    let dir = tempfile::tempdir().unwrap();
    let g = with_first_layer(dir.path(), |c, per| {
        // Dimension 0 drives the first layer ten times harder than the others.
        let gain = if c == 0 { 10.0 } else { 1.0 };
        (0..per).map(|k| gain * noise(c * per + k)).collect()
    });
    let found = pca(&g, &dev.device, 512, 4, 3);
    assert_eq!(found.len(), 4);
    assert!(
        found.windows(2).all(|w| w[0].score >= w[1].score),
        "{found:?}"
    );
    assert!(found.iter().all(|d| d.score > 0.0 && d.score <= 1.0));
    assert!(found.iter().map(|d| d.score).sum::<f32>() <= 1.0 + 1e-4);
    for d in &found {
        assert!((dot(&d.vector, &d.vector) - 1.0).abs() < 1e-4);
    }
    // The strongest component comes back into z along dimension 0.
    assert!(found[0].vector[0].abs() > 0.9, "{:?}", found[0].vector);
    // Seeded: the same again.
    assert_eq!(pca(&g, &dev.device, 512, 4, 3), found);
}

#[test]
fn a_dimension_without_first_layer_weights_does_nothing() {
    let dev = common::cpu();
    let dir = tempfile::tempdir().unwrap();
    let g = with_first_layer(dir.path(), |c, per| {
        (0..per)
            .map(|k| {
                if c == 3 {
                    0.0
                } else {
                    noise(c * per + k) * 0.1
                }
            })
            .collect()
    });
    let z = Latent::from_seed(4, Z);
    let axes: Vec<Vec<f32>> = (0..Z).map(|i| axis(Z, i)).collect();
    let s = sensitivity(
        &hitogata::inference::Drawer::new(&g, &dev.device),
        &z,
        &axes,
        0.5,
    );
    assert_eq!(s[3], 0.0);
    assert!(
        s.iter().enumerate().all(|(i, &v)| i == 3 || v > 0.0),
        "{s:?}"
    );
    assert!(dead(&s)[3]);
    assert!(!dead(&s)[0]);
    // Its strip: seven identical pictures; another dimension's are not.
    let values = strip_values(7, 2.0);
    let draw = |d: usize| {
        hitogata::inference::generate_images(&g, &strip(&z, &axes[d], &values), &dev.device)
    };
    let still = draw(3);
    assert!(still.windows(2).all(|w| w[0] == w[1]));
    let moving = draw(0);
    assert!(moving.windows(2).any(|w| w[0] != w[1]));
}

#[test]
fn strips_set_one_coordinate_and_keep_the_rest() {
    let z = Latent::from_seed(2, Z);
    let values = strip_values(5, 2.0);
    assert_eq!(values, [-2.0, -1.0, 0.0, 1.0, 2.0]);
    let s = strip(&z, &axis(Z, 5), &values);
    for (latent, value) in s.iter().zip(&values) {
        assert!((latent.0[5] - value).abs() < 1e-6);
        for i in (0..Z).filter(|&i| i != 5) {
            assert_eq!(latent.0[i], z.0[i]);
        }
    }
    // Along a direction: the coordinate along it takes the values, the orthogonal part stays.
    let d: Vec<f32> = {
        let raw: Vec<f32> = (0..Z).map(|i| noise(i + 7)).collect();
        let n = dot(&raw, &raw).sqrt();
        raw.iter().map(|x| x / n).collect()
    };
    for (latent, value) in strip(&z, &d, &values).iter().zip(&values) {
        assert!((dot(&latent.0, &d) - value).abs() < 1e-5);
        let rest = |v: &[f32]| -> Vec<f32> {
            let along = dot(v, &d);
            v.iter().zip(&d).map(|(x, e)| x - along * e).collect()
        };
        assert!(common::max_diff(&rest(&latent.0), &rest(&z.0)) < 1e-5);
    }
}

#[test]
fn interpolation_ends_exactly_at_its_ends() {
    let (a, b) = (Latent::from_seed(1, Z), Latent::from_seed(2, Z));
    for spherical in [false, true] {
        let frames = interpolate(&a, &b, 9, spherical);
        assert_eq!(frames.len(), 9);
        assert_eq!(frames[0], a);
        assert_eq!(frames[8], b);
    }
    // Spherical: the norm stays between the ends' (nearly constant for typical z).
    let mid = slerp(&a, &b, 0.5);
    let lerped = a.lerp(&b, 0.5);
    assert!(
        mid.norm() > lerped.norm(),
        "slerp does not cut through the middle"
    );
}

#[test]
fn an_attribute_direction_points_from_one_group_to_the_other() {
    let smile: Vec<f32> = (0..Z).map(|i| if i == 2 { 1.0 } else { 0.0 }).collect();
    let base = sample_batch(5, 20, Z);
    let with = |s: f32| -> Vec<Latent> {
        base.iter()
            .map(|z| Latent(z.0.iter().zip(&smile).map(|(x, d)| x + s * d).collect()))
            .collect()
    };
    let (a, b) = (with(3.0), with(0.0));
    let d = attribute("smile", &a, &b).unwrap();
    assert!((d.vector[2] - 1.0).abs() < 1e-5, "{:?}", d.vector);
    // Shifted by 3 against a spread of ~1 along it: a separation of ~3.
    assert!(
        d.score > 2.5,
        "a consistent group separates well: {}",
        d.score
    );
    // Unrelated groups separate poorly.
    let other = attribute("noise", &sample_batch(6, 20, Z), &sample_batch(7, 20, Z)).unwrap();
    assert!(other.score < 1.5, "{}", other.score);
    assert!(attribute("empty", &[], &b).is_none());
}

#[test]
fn direction_files_round_trip_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let dev = common::cpu();
    let g = seeded_init(common::tiny_model().init_generator(&dev.device), 1);
    let set = DirectionSet {
        checkpoint: None,
        directions: sefa(&g, 3),
    };
    let path = dir.path().join("d.ron");
    set.save(&path).unwrap();
    assert_eq!(DirectionSet::load(&path).unwrap(), set);
    std::fs::write(
        &path,
        r#"(directions: [(name: "a", vector: [1.0, 0.0], score: 1.0), (name: "b", vector: [1.0], score: 1.0)])"#,
    )
    .unwrap();
    let err = DirectionSet::load(&path).unwrap_err().to_string();
    assert!(err.contains("\"b\"") && err.contains("d.ron"), "{err}");
    std::fs::write(&path, "(directions: [").unwrap();
    assert!(DirectionSet::load(&path).is_err());
}

/// The tiny generator and critic of `common::tiny_generator_with_critic`, loaded.
fn with_a_critic(dir: &Path) -> (Generator, hitogata::model::Critic) {
    let dev = common::cpu();
    let critic = common::tiny_generator_with_critic(dir);
    (load_generator(dir, &dev.device).unwrap().generator, critic)
}

#[test]
fn the_critic_scores_pictures_and_a_nudge_raises_its_score() {
    use hitogata::critique::{critic_beside, gradient, nudge, scores, separation};
    let dev = common::cpu();
    let dir = tempfile::tempdir().unwrap();
    let (g, fitted) = with_a_critic(dir.path());
    // The shipped f16 copy loads back and scores like the fitted one (to f16 rounding).
    let critic = critic_beside(dir.path(), &dev.device)
        .unwrap()
        .expect("a critic");
    let z = sample_batch(3, 4, Z);
    let direct: Vec<f32> = {
        let images = g.forward(hitogata::inference::latents_tensor(&z, &dev.device));
        critic
            .forward(images)
            .into_data()
            .convert::<f32>()
            .try_to_vec()
            .unwrap()
    };
    assert_eq!(scores(&g, &critic, &z, &dev.device), direct);
    let f32_scores = scores(&g, &fitted, &z, &dev.device);
    assert!(
        common::max_diff(&f32_scores, &direct) < 0.05,
        "{f32_scores:?} vs {direct:?}"
    );
    // The gradient points where the score rises (a finite difference agrees in sign and size).
    let (score, grad) = gradient(&g, &critic, &z[0], &dev.device);
    assert!((score - direct[0]).abs() < 1e-4);
    let norm = grad.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!(norm > 1e-4, "the score depends on z: {norm}");
    let h = 1e-2;
    let step: Vec<f32> = grad.iter().map(|x| h * x / norm).collect();
    let moved = Latent(z[0].0.iter().zip(&step).map(|(a, b)| a + b).collect());
    let up = scores(&g, &critic, &[moved], &dev.device)[0] - score;
    let predicted = h * norm;
    assert!(
        up > 0.25 * predicted && up < 4.0 * predicted,
        "{up} vs {predicted}"
    );
    // A nudge climbs.
    let (to, trace) = nudge(&g, &critic, &z[0], 5, 0.2, &dev.device);
    assert_eq!(trace.len(), 6);
    assert!(trace[5] > trace[0], "{trace:?}");
    let dist: f32 =
        to.0.iter()
            .zip(&z[0].0)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>()
            .sqrt();
    assert!(dist > 0.0 && dist <= 5.0 * 0.2 + 1e-4);
    // It tells the disc pictures from the generator's better than chance.
    let s = separation(&g, &critic, &common::disc_dataset(8), 5, &dev.device);
    assert!(s.accuracy > 0.5 && s.gap > 0.0, "{s:?}");
    // An export without a critic has none; a broken critic file is an error naming it.
    std::fs::remove_file(dir.path().join("critic.safetensors")).unwrap();
    assert!(critic_beside(dir.path(), &dev.device).unwrap().is_none());
    std::fs::write(dir.path().join("critic.safetensors"), b"junk").unwrap();
    let err = critic_beside(dir.path(), &dev.device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("critic.safetensors"), "{err}");
}

#[test]
fn the_layer_viewer_shows_each_channel_and_flags_a_silenced_one() {
    use hitogata::layers::{dead_channels, view_layer};
    let dev = common::cpu();
    let dir = tempfile::tempdir().unwrap();
    // First-layer output channel 5 gets no weight from any latent dimension: it stays zero.
    let g = with_first_layer(dir.path(), |c, per| {
        (0..per)
            .map(|k| {
                if k / 16 == 5 {
                    0.0
                } else {
                    noise(c * per + k) * 0.5
                }
            })
            .collect()
    });
    let z = Latent::from_seed(6, Z);
    let view = view_layer(&g, &dev.device, &z, 0, true);
    let layers = g.layers(hitogata::inference::latents_tensor(
        std::slice::from_ref(&z),
        &dev.device,
    ));
    let [_, c, h, w] = layers[0].dims();
    assert_eq!((view.channels.len(), view.side), (c, h));
    assert_eq!(c, 8 * 4, "8 × ngf maps at 4×4");
    let values = common::values(layers[0].clone());
    for (k, channel) in view.channels.iter().enumerate() {
        let v = &values[k * h * w..(k + 1) * h * w];
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        assert!(
            (channel.mean - mean).abs() < 1e-6 && channel.max == max,
            "channel {k}"
        );
        assert_eq!(channel.picture.dimensions(), (w as u32, h as u32));
    }
    // Under a point of the picture: the channels ranked by their value in that cell.
    let (x, y) = (0.6, 0.3); // cell (2, 1) of 4×4
    let at = h + 2;
    let mut expected: Vec<(usize, f32)> = (0..c).map(|k| (k, values[k * h * w + at])).collect();
    expected.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top = view.most_active_at(x, y, 3);
    assert_eq!(top, expected[..3].to_vec());
    assert!(top[0].1 > 0.0, "some channel fires there");
    assert!(view.channels[5].dead_here);
    assert!(dead_channels(&g, &dev.device, 0)[0][5], "zero for every z");
    assert!(!view.channels.iter().all(|c| c.dead_here));
    // The output before tanh: three 64×64 channels, never "dead".
    let out = view_layer(&g, &dev.device, &z, 4, false);
    assert_eq!((out.channels.len(), out.side), (3, 64));
    assert!(out.channels.iter().all(|c| !c.dead_here));
}
