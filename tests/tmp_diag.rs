mod common;
use hitogata::checkpoint::load_generator;
use hitogata::data::{Dataset, SquareMode};
use hitogata::eval::{SwdConfig, multiscale_swd};
use hitogata::inference::generate_images;
use hitogata::latent::{sample_batch, seeded_rng};
use rand::seq::SliceRandom;

#[test]
#[ignore]
fn diag() {
    let dev = common::cpu();
    let data = Dataset::load_folder(
        std::path::Path::new("assets/datasets/faces"),
        SquareMode::Pad,
    )
    .unwrap();
    let mut order: Vec<usize> = (0..data.len).collect();
    order.shuffle(&mut seeded_rng(0));
    let real_a: Vec<_> = order[..1000].iter().map(|&i| data.image(i)).collect();
    let real_b: Vec<_> = order[1000..2000].iter().map(|&i| data.image(i)).collect();
    let g = load_generator(std::path::Path::new("checkpoints/faces"), &dev.device).unwrap();
    let latents = sample_batch(0 ^ 0x5EED, 1000, 40);
    let mut genr = Vec::new();
    for c in latents.chunks(64) {
        genr.extend(generate_images(&g.generator, c, &dev.device));
    }
    let swd = SwdConfig::default();
    println!("gen {:?}", multiscale_swd(&genr, &real_a, &swd));
    for t in [250u8, 240, 225] {
        let clean: Vec<_> = genr
            .iter()
            .map(|im| {
                let mut im = im.clone();
                for p in im.pixels_mut() {
                    if p.0.iter().all(|&v| v >= t) {
                        p.0 = [255, 255, 255];
                    }
                }
                im
            })
            .collect();
        println!(
            "gen snapped >= {t} {:?}",
            multiscale_swd(&clean, &real_a, &swd)
        );
    }
    // real with noise
    let noisy: Vec<_> = real_b
        .iter()
        .enumerate()
        .map(|(k, im)| {
            let mut im = im.clone();
            let mut s = k as u32 * 2654435761;
            for p in im.pixels_mut() {
                for v in p.0.iter_mut() {
                    s ^= s << 13;
                    s ^= s >> 17;
                    s ^= s << 5;
                    let d = (s % 7) as i32 - 3;
                    *v = (*v as i32 + d).clamp(0, 255) as u8;
                }
            }
            im
        })
        .collect();
    println!("real+noise±3 {:?}", multiscale_swd(&noisy, &real_a, &swd));
    println!("real {:?}", multiscale_swd(&real_b, &real_a, &swd));
    let bg = |v: &[image::RgbImage]| {
        v.iter()
            .map(|im| im.pixels().filter(|p| p.0 == [255, 255, 255]).count())
            .sum::<usize>() as f64
            / v.len() as f64
    };
    println!("pure white px/img real {} gen {}", bg(&real_a), bg(&genr));
}
